/**
 * PostgreSQL going away mid-round: once the round has begun, the database stops accepting
 * connections and every session of it is ended with pg_terminate_backend. Reports are spooled
 * (no partial host rows), and the next round, with the database back, stores them. Skipped when
 * no PostgreSQL server answers at FLEETSTAT_TEST_PG_URL (default 127.0.0.1:5432).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { closedPort, type FaultEndpoint } from './support/fault-servers.js';
import type { FleetClient } from './support/fleet-config.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound } from './support/hostile-round.js';
import { requireService } from './support/requirements.js';

const ADMIN_URL = process.env.FLEETSTAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin<T>(statement: string, parameters: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(statement, parameters)).rows as T[];
  } finally {
    await client.end();
  }
}

const postgresUp = requireService(
  await admin('SELECT 1').then(
    () => true,
    () => false,
  ),
  'PostgreSQL on 127.0.0.1:5432',
);

describe.skipIf(!postgresUp)('PostgreSQL terminated mid-round', () => {
  let fleet: FaultFleet;
  let down: FaultEndpoint;
  let database: TestDatabase;
  let dir: string;
  let clients: FleetClient[];

  beforeAll(async () => {
    [fleet, down, database] = await Promise.all([
      startFaultFleet(2, { firstIndex: 140 }),
      closedPort('127.0.9.30'),
      createTestDatabase('postgres'),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-pg-'));
    clients = [
      { host: fleet.hosts[0]!, auth: 'key', name: 'alpha' },
      { host: fleet.hosts[1]!, auth: 'key', name: 'beta' },
      { host: down, auth: 'key', name: 'down' },
    ];
  });
  afterAll(async () => {
    await fleet?.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spools the reports while the database is gone and stores them when it is back', async () => {
    const name = new URL(database.url).pathname.slice(1);
    if (!/^fleetstat_t_[0-9a-f]{12}$/.test(name)) throw new Error(`unexpected test database name ${name}`);
    const first = await runFaultRound(fleet, { dir, clients, databaseUrl: database.url });
    expect(first.stored).toEqual(['alpha', 'beta']);

    let cut: Promise<unknown> = Promise.resolve();
    const gone = await runFaultRound(fleet, {
      dir,
      clients,
      databaseUrl: database.url,
      onEvent: (event) => {
        if (event.type !== 'round-start') return;
        cut = admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`).then(() =>
          admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]),
        );
      },
      afterRound: async () => {
        await cut;
        await admin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
      },
    });
    expect(gone.summary).toMatchObject({ hostsOk: 0, hostsFailed: 3, spooled: 2 });
    for (const host of ['alpha', 'beta']) {
      expect(gone.summaryErrors.get(host)).toMatchObject({
        stage: 'store',
        message: expect.stringMatching(/kept in the spool/),
      });
    }
    expect(gone.summaryErrors.get('down')).toMatchObject({ stage: 'connect' });
    expect(gone.stored).toEqual([]);

    const back = await runFaultRound(fleet, { dir, clients, databaseUrl: database.url });
    expect(back.summary.spoolImported).toBe(2);
    expect(back.stored).toEqual(['alpha', 'beta']);
    const store = await openStore(database.url);
    try {
      const perHost = await store.db
        .selectFrom('samples')
        .innerJoin('hosts', 'hosts.id', 'samples.host_id')
        .select(['hosts.name', store.db.fn.countAll<string>().as('n')])
        .groupBy('hosts.name')
        .orderBy('hosts.name')
        .execute();
      // Round one, the spooled report, this round: three each, none lost or doubled.
      expect(perHost.map((r) => [r.name, Number(r.n)])).toEqual([
        ['alpha', 3],
        ['beta', 3],
      ]);
      const orphans = await sql<{
        n: string;
      }>`SELECT COUNT(*) AS n FROM disk_usage WHERE sample_id NOT IN (SELECT id FROM samples)`.execute(store.db);
      expect(Number(orphans.rows[0]!.n)).toBe(0);
    } finally {
      await store.close();
    }
  });
});
