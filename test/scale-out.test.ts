/**
 * Scale-out: two and three real `fleetstat serve` processes share one PostgreSQL and 30 sshd
 * hosts on loopback, splitting the hosts with row leases (src/serve/lease-claimer.ts).
 *
 * "Once per interval" is checked per host on the start times of the rounds that collected it
 * (from the database): no two collections closer than 0.75 interval (a host claimed twice in
 * one interval would show up as a gap near zero), and none further apart than 1.8 intervals
 * (a skipped interval shows up as a gap of two). The slack is for the scheduler's ticks, which
 * come every interval/4 with jitter. A collector killed with SIGKILL mid-round leaves its
 * leases to expire; its hosts must be collected by the others right after that.
 *
 * Migration twice and from several processes at once is tested in test/store-migrate.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKey } from '../src/serve/host-claimer.js';
import { readLeases } from '../src/store/leases.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { toDate } from '../src/store/timestamps.js';
import { createTestDatabase, testDialects, type TestDatabase } from './support/databases.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { startFleet, type SshdFleet } from './support/sshd.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const HOSTS = 30;
const INTERVAL_S = 5;
const HOST_TIMEOUT_S = 10;
const LEASE_MARGIN_S = 3;
const MIN_GAP_S = 0.75 * INTERVAL_S;
const MAX_GAP_S = 1.8 * INTERVAL_S;

interface Collector {
  child: ChildProcess;
  log: () => string;
  exited: Promise<void>;
}

function startCollector(configPath: string): Collector {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath, '--listen', '127.0.0.1:0', '--grace', '10', '--lease-margin', String(LEASE_MARGIN_S)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, log: () => text, exited };
}

async function stopCollector(collector: Collector): Promise<void> {
  if (collector.child.exitCode !== null || collector.child.signalCode !== null) return;
  const forced = setTimeout(() => collector.child.kill('SIGKILL'), 20_000);
  collector.child.kill('SIGTERM');
  await collector.exited;
  clearTimeout(forced);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Per host key ("ip:port"), the sorted start times (ms) of the rounds that collected it or failed on it. */
async function collectionStarts(store: Store): Promise<Map<string, number[]>> {
  const samples = await store.db.selectFrom('samples')
    .innerJoin('hosts', 'hosts.id', 'samples.host_id')
    .innerJoin('rounds', 'rounds.id', 'samples.round_id')
    .select(['hosts.ip', 'hosts.port', 'rounds.started_at']).execute();
  const errors = await store.db.selectFrom('host_errors')
    .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
    .innerJoin('rounds', 'rounds.id', 'host_errors.round_id')
    .select(['hosts.ip', 'hosts.port', 'rounds.started_at']).execute();
  const starts = new Map<string, number[]>();
  for (const row of [...samples, ...errors]) {
    const key = clientKey(row);
    starts.set(key, [...(starts.get(key) ?? []), toDate(row.started_at).getTime()]);
  }
  for (const list of starts.values()) list.sort((a, b) => a - b);
  return starts;
}

/** Gaps between consecutive collections that break "once per interval", as readable lines. */
function badGaps(starts: Map<string, number[]>, skip: (key: string, from: number, to: number) => boolean = () => false): string[] {
  const bad: string[] = [];
  for (const [key, list] of starts) {
    for (let i = 1; i < list.length; i++) {
      const gap = (list[i]! - list[i - 1]!) / 1000;
      if (skip(key, list[i - 1]!, list[i]!)) continue;
      if (gap < MIN_GAP_S || gap > MAX_GAP_S) bad.push(`${key}: ${gap.toFixed(2)} s between ${new Date(list[i - 1]!).toISOString()} and ${new Date(list[i]!).toISOString()}`);
    }
  }
  return bad;
}

describe.skipIf(!testDialects().includes('postgres'))('several fleetstat serve on one PostgreSQL', () => {
  let fleet: SshdFleet;
  let dir: string;
  const collectors: Collector[] = [];
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    fleet = await startFleet(HOSTS);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-scale-'));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(collectors.map(stopCollector));
    await Promise.all(databases.map((d) => d.drop()));
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh migrated database and a config for every host of the fleet on it. */
  async function prepare(name: string): Promise<{ store: Store; configPath: string }> {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    const store = await openStore(database.url);
    await migrate(store);
    const configDir = join(dir, name);
    rmSync(configDir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(configDir);
    const configPath = writeFleetConfig(fleet, {
      dir: configDir, databaseUrl: database.url,
      settings: { interval: `${INTERVAL_S}s`, 'cpu-sample': '100', 'spool-dir': join(configDir, 'spool') },
      clients: fleet.hosts.map((host, i) => ({ host, auth: 'key' as const, name: `h${i}`, attributes: { timeout: `${HOST_TIMEOUT_S}s` } })),
    });
    return { store, configPath };
  }

  it('two collectors: every host once per interval, hosts split between them', async () => {
    const { store, configPath } = await prepare('two');
    try {
      const pair = [startCollector(configPath), startCollector(configPath)];
      collectors.push(...pair);
      await sleep(6 * INTERVAL_S * 1000);
      await Promise.all(pair.map(stopCollector));

      const starts = await collectionStarts(store);
      expect([...starts.keys()].sort()).toEqual(fleet.hosts.map((h) => `${h.address}:${h.port}`).sort());
      expect(badGaps(starts)).toEqual([]);
      for (const list of starts.values()) expect(list.length).toBeGreaterThanOrEqual(4);
      // Both took part (each host's interval went to whichever claimed it first).
      for (const collector of pair) expect(collector.log()).toMatch(/round \d+: [1-9]\d* ok/);
      expect(await store.db.selectFrom('host_errors').select('message').execute()).toEqual([]);
      // A graceful stop frees every lease.
      expect((await readLeases(store)).filter((l) => l.owner !== null)).toEqual([]);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('three collectors: a collector killed mid-round has its hosts taken over once its leases expire', async () => {
    const { store, configPath } = await prepare('three');
    try {
      const trio = [startCollector(configPath), startCollector(configPath), startCollector(configPath)];
      collectors.push(...trio);
      await sleep(3 * INTERVAL_S * 1000);

      // Wait for a round in flight: leases held and not yet finished.
      let held: Awaited<ReturnType<typeof readLeases>> = [];
      const deadline = Date.now() + 30_000;
      while (held.length === 0 && Date.now() < deadline) {
        const now = Date.now();
        const leases = await readLeases(store);
        const owner = leases.find((l) => l.owner !== null && (l.leaseUntil?.getTime() ?? 0) > now)?.owner;
        held = leases.filter((l) => owner !== undefined && l.owner === owner);
        if (held.length === 0) await sleep(20);
      }
      expect(held.length).toBeGreaterThan(0);
      const ownerPid = Number(held[0]!.owner!.split(':').at(-2));
      const victim = trio.find((c) => c.child.pid === ownerPid)!;
      expect(victim).toBeDefined();
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      const leaseEnd = Math.max(...held.map((l) => l.leaseUntil!.getTime()));
      // The survivors run on until well after the leases ended.
      await sleep(Math.max(0, leaseEnd - Date.now()) + 3 * INTERVAL_S * 1000);
      const survivors = trio.filter((c) => c !== victim);
      await Promise.all(survivors.map(stopCollector));

      const starts = await collectionStarts(store);
      const orphaned = new Set(held.map((l) => l.hostKey));
      for (const key of orphaned) {
        const next = starts.get(key)!.find((t) => t > killedAt);
        expect(next, `${key} was never collected after the kill`).toBeDefined();
        // Nobody else took the host while its lease held; the survivors took it soon after.
        expect(next!).toBeGreaterThanOrEqual(leaseEnd - 50);
        expect(next! - leaseEnd).toBeLessThanOrEqual(MAX_GAP_S * 1000);
      }
      // Outside the orphaned hosts' wait for the lease, every host stayed once per interval.
      const duringLease = (key: string, from: number, to: number) => orphaned.has(key) && from <= killedAt && to >= killedAt;
      expect(badGaps(starts, duringLease)).toEqual([]);
      for (const collector of survivors) expect(collector.log()).toMatch(/round \d+: [1-9]\d* ok/);
    } finally {
      await store.close();
    }
  }, 180_000);
});
