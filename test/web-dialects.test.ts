/**
 * The web queries on every database fleetstat supports: one real round over two loopback sshd
 * hosts (one with a 0 % memory limit) into SQLite, PostgreSQL and MySQL/MariaDB, then the API
 * and /metrics read back through a real server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectRound } from '../src/collect/round.js';
import { loadConfig } from '../src/config/load-config.js';
import type { Config } from '../src/config/types.js';
import { buildWebServer } from '../src/web/server.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { startFleet, type SshdFleet } from './support/sshd.js';

let fleet: SshdFleet;
let dir: string;
beforeAll(async () => {
  fleet = await startFleet(2);
  dir = mkdtempSync(join(tmpdir(), 'fleetstat-web-dialects-'));
});
afterAll(async () => {
  await fleet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(testDialects())('web over %s', (dialect) => {
  const fixture = useMigratedStore(dialect);
  let config: Config;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const [h0, h1] = fleet.hosts;
    const path = writeFleetConfig(fleet, {
      dir,
      databaseUrl: fixture.url,
      clients: [
        {
          host: h0!,
          auth: 'key',
          name: 'one',
          mail: 'ops@example.test',
          alerts: ['<alert type="memory" limit="0%"/>'],
        },
        { host: h1!, auth: 'key', name: 'two' },
      ],
    });
    config = await loadConfig(path);
    await collectRound(config, fixture.store);
    await collectRound(config, fixture.store);
    const app = await buildWebServer({ store: fixture.store, config: () => config });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    close = () => app.close();
  }, 120_000);
  afterAll(async () => {
    await close?.();
  });

  const get = async (path: string) => {
    const response = await fetch(base + path);
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    return response;
  };

  it('serves hosts, samples, alerts and rounds', async () => {
    const hosts = (
      (await (await get('/api/hosts')).json()) as {
        hosts: { id: number; name: string; status: string; latest: { disk_max_percent: number } }[];
      }
    ).hosts;
    expect(hosts.map((h) => `${h.name}:${h.status}`)).toEqual(['one:up', 'two:up']);
    for (const host of hosts) expect(host.latest.disk_max_percent).toBeGreaterThan(0);
    const from = new Date(Date.now() - 3600_000).toISOString();
    const series = (await (await get(`/api/hosts/${hosts[0]!.id}/samples?from=${from}`)).json()) as {
      samples: number;
      time: number[];
      series: Record<string, (number | null)[]>;
    };
    expect(series.samples).toBe(2);
    expect(series.time).toHaveLength(2);
    expect(series.time[0]!).toBeLessThan(series.time[1]!);
    expect(series.series.disk_max_percent!.every((v) => v !== null && v > 0)).toBe(true);
    const alerts = (
      (await (await get('/api/alerts?state=firing')).json()) as { alerts: { host_name: string; rule: string }[] }
    ).alerts;
    expect(alerts.map((a) => `${a.host_name}:${a.rule}`)).toEqual(['one:memory']);
    const rounds = (
      (await (await get('/api/rounds')).json()) as { rounds: { hosts_ok: number; duration_seconds: number }[] }
    ).rounds;
    expect(rounds).toHaveLength(2);
    for (const round of rounds) expect(round.hosts_ok).toBe(2);
    expect(
      ((await (await get(`/api/hosts/${hosts[1]!.id}`)).json()) as { disks: unknown[] }).disks.length,
    ).toBeGreaterThan(0);
    expect((await get('/api/events?since=2000-01-01T00:00:00Z')).ok).toBe(true);
  });

  it('renders the pages and /metrics', async () => {
    const page = await (await get('/')).text();
    expect(page).toContain('>one</a>');
    expect(await (await get('/alerts')).text()).toContain('one');
    expect(await (await get('/rounds')).text()).toContain('#');
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^fleetstat_host_up\{host="one",ip="[^"]+",port="\d+"\} 1$/m);
    expect(metrics).toMatch(/^fleetstat_last_round_hosts\{outcome="ok"\} 2$/m);
    expect(metrics).toMatch(/^fleetstat_outbox_mails\{state="queued"\} [1-9]/m);
  });
});
