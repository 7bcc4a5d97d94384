/**
 * The overload signals on the web side (issue 17): GET /api/collection, the /metrics gauges and
 * the overview's banner follow the serve loop's LoadMonitor; without one the API says
 * "unknown" and /metrics has no such gauges. docs/api.md documents every API path and metric.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/types.js';
import { LoadMonitor } from '../src/serve/load-monitor.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { openApiDocument } from '../src/web/openapi.js';
import { buildWebServer } from '../src/web/server.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';

const config = { clients: [], settings: { intervalSeconds: 10 }, web: {} } as unknown as Config;
const context = { intervalSeconds: 10, concurrency: 4 };

describe('collection status on the web', () => {
  let database: TestDatabase;
  let store: Store;
  let app: FastifyInstance;
  let bare: FastifyInstance;
  const load = new LoadMonitor();

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    store = await openStore(database.url);
    await migrate(store);
    // Real listeners on loopback: the Host check answers only the address a request arrived on.
    app = await buildWebServer({ store, config: () => config, collection: () => load.status(), metricsOpen: true });
    bare = await buildWebServer({ store, config: () => config, metricsOpen: true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await bare.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await bare?.close();
    await store?.close();
    await database?.drop();
  });

  const get = async (server: FastifyInstance, url: string) => {
    const { port } = server.server.address() as { port: number };
    return await (await fetch(`http://127.0.0.1:${port}${url}`)).text();
  };

  it('says unknown, and exports no collection gauges, without a serve loop', async () => {
    expect(JSON.parse(await get(bare, '/api/collection'))).toEqual({
      collection: {
        state: 'unknown',
        since: null,
        assessed_at: null,
        hosts: 0,
        hosts_overdue: 0,
        most_overdue_seconds: 0,
        interval_seconds: 0,
      },
    });
    expect(await get(bare, '/metrics')).not.toMatch(/fleetstat_collection_behind/);
  });

  it('shows keeping up, then behind (API, gauges, banner), then keeping up again', async () => {
    load.observe({ hosts: 30, overdue: 0, mostOverdueSeconds: 0 }, new Date('2026-01-01T00:00:00Z'), context);
    expect(JSON.parse(await get(app, '/api/collection')).collection).toMatchObject({
      state: 'keeping-up',
      hosts_overdue: 0,
    });
    expect(await get(app, '/metrics')).toMatch(/^fleetstat_collection_behind 0$/m);
    expect(await get(app, '/')).not.toMatch(/Collection is behind/);

    load.observe({ hosts: 30, overdue: 12, mostOverdueSeconds: 17.25 }, new Date('2026-01-01T00:01:00Z'), context);
    expect(JSON.parse(await get(app, '/api/collection')).collection).toEqual({
      state: 'behind',
      since: '2026-01-01T00:01:00.000Z',
      assessed_at: '2026-01-01T00:01:00.000Z',
      hosts: 30,
      hosts_overdue: 12,
      most_overdue_seconds: 17.3,
      interval_seconds: 10,
    });
    const metrics = await get(app, '/metrics');
    expect(metrics).toMatch(/^fleetstat_collection_behind 1$/m);
    expect(metrics).toMatch(/^fleetstat_hosts_overdue 12$/m);
    expect(metrics).toMatch(/^fleetstat_most_overdue_seconds 17.25$/m);
    expect(await get(app, '/')).toMatch(
      /Collection is behind:<\/strong> 12 of 30 hosts overdue, the most overdue by 17 s \(interval 10 s\)/,
    );

    for (let s = 0; s <= 30; s += 5)
      load.observe(
        { hosts: 30, overdue: 1, mostOverdueSeconds: 1 },
        new Date(Date.parse('2026-01-01T00:02:00Z') + s * 1000),
        context,
      );
    expect(JSON.parse(await get(app, '/api/collection')).collection.state).toBe('keeping-up');
    expect(await get(app, '/')).not.toMatch(/Collection is behind/);
  });

  it('docs/api.md documents every API path and the collection gauges', () => {
    const doc = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
    for (const path of Object.keys(openApiDocument.paths)) expect(doc, path).toContain(`### \`GET ${path}`);
    for (const name of ['fleetstat_collection_behind', 'fleetstat_hosts_overdue', 'fleetstat_most_overdue_seconds'])
      expect(doc).toContain(`\`${name}\``);
  });
});
