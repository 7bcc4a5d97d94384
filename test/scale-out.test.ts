/**
 * Scale-out: real `fleetstat serve` processes share 30 sshd hosts on loopback (and, for
 * overload, 8 endpoints that stall every SSH handshake until the connect timeout), splitting
 * the hosts with row leases (src/serve/lease-claimer.ts) on PostgreSQL and MariaDB, or alone
 * on SQLite. Nothing here depends on the machine's speed:
 *
 * - "Once per interval" runs with an interval derived from a measured round (four times a
 *   whole round over the fleet): per host, from the database, no two collections closer than
 *   0.75 interval (a host claimed twice in one interval shows as a gap near zero) and none
 *   further apart than 1.8 intervals (a skipped interval shows as a gap of two).
 * - Overload is made certain, not hoped for: every login sleeps 0.5 s on the target (an
 *   sshd ForceCommand, on while a flag file exists), or the stalled hosts alone take longer
 *   than the interval, whatever the machine. Then every host must be collected, each within the bound
 *   of docs/scale-out.md (computed from the measured longest round), the most collected at
 *   most twice as often as the least, and the collectors must say they are behind (log and
 *   /metrics). Tests wait for rows, never for fixed times.
 * - A collector killed with SIGKILL mid-round leaves its leases to expire; its hosts are
 *   collected by the others right after that.
 *
 * Migration twice and from several processes at once is tested in test/store-migrate.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { collectionGapBound, longestTickSeconds } from '../src/serve/collection-bound.js';
import { clientKey } from '../src/serve/host-claimer.js';
import { CLAIM_SHARE } from '../src/serve/lease-claimer.js';
import { readLeases } from '../src/store/leases.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { toDate } from '../src/store/timestamps.js';
import { createTestDatabase, testDialects, type TestDatabase, type TestDialect } from './support/databases.js';
import { startBannerStall, type FaultEndpoint } from './support/fault-servers.js';
import { writeFleetConfig, type FleetClient } from './support/fleet-config.js';
import { startFleet, type SshdFleet } from './support/sshd.js';

const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
const HOSTS = 30;
const HOST_TIMEOUT_S = 10;
const LEASE_MARGIN_S = 3;
/** Overload: 8 handshakes stalled for 4 s each, 2 at a time per collector, every 2 s. */
const STALLED = 8;
const STALL_S = 4;
const OVERLOAD_CONCURRENCY = 2;
const OVERLOAD_INTERVAL_S = 2;
/** Overload: every login of the fleet sleeps this long while the overload cells run. */
const SLOW_LOGIN_S = 0.5;

interface Collector {
  child: ChildProcess;
  log: () => string;
  exited: Promise<void>;
}

function startCollector(configPath: string): Collector {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--config',
      configPath,
      '--listen',
      '127.0.0.1:0',
      '--grace',
      '10',
      '--lease-margin',
      String(LEASE_MARGIN_S),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let text = '';
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
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

/**
 * An sshd_config line that makes every login sleep SLOW_LOGIN_S before running the collector's
 * command while `flag` exists: the overload cells' hosts are slow by the target, on every round,
 * whatever the probe does (a host's CPU sample, say, happens in its first round only).
 */
function slowLogin(flag: string): string {
  return `ForceCommand if test -e ${flag}; then sleep ${SLOW_LOGIN_S}; fi; eval "$SSH_ORIGINAL_COMMAND"`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined), or fails with `what` after `deadlineMs`. */
async function waitFor<T>(what: string, deadlineMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${deadlineMs} ms`);
    await sleep(250);
  }
}

/** Per host key ("ip:port"), the sorted start times (ms) of the rounds that collected it or failed on it. */
async function collectionStarts(store: Store): Promise<Map<string, number[]>> {
  const samples = await store.db
    .selectFrom('samples')
    .innerJoin('hosts', 'hosts.id', 'samples.host_id')
    .innerJoin('rounds', 'rounds.id', 'samples.round_id')
    .select(['hosts.ip', 'hosts.port', 'rounds.started_at'])
    .execute();
  const errors = await store.db
    .selectFrom('host_errors')
    .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
    .innerJoin('rounds', 'rounds.id', 'host_errors.round_id')
    .select(['hosts.ip', 'hosts.port', 'rounds.started_at'])
    .execute();
  const starts = new Map<string, number[]>();
  for (const row of [...samples, ...errors]) {
    const key = clientKey(row);
    starts.set(key, [...(starts.get(key) ?? []), toDate(row.started_at).getTime()]);
  }
  for (const list of starts.values()) list.sort((a, b) => a - b);
  return starts;
}

/** Per host key ("ip:port"), the sorted times (ms) its reports were received (samples.collected_at). */
async function receivedTimes(store: Store): Promise<Map<string, number[]>> {
  const rows = await store.db
    .selectFrom('samples')
    .innerJoin('hosts', 'hosts.id', 'samples.host_id')
    .select(['hosts.ip', 'hosts.port', 'samples.collected_at'])
    .execute();
  const times = new Map<string, number[]>();
  for (const row of rows) {
    const key = clientKey(row);
    times.set(key, [...(times.get(key) ?? []), toDate(row.collected_at).getTime()]);
  }
  for (const list of times.values()) list.sort((a, b) => a - b);
  return times;
}

/** Collections per configured host (0 for one never collected). */
function countsOf(starts: Map<string, number[]>, keys: readonly string[], after = 0): number[] {
  return keys.map((key) => (starts.get(key) ?? []).filter((t) => t > after).length);
}

/** The longest finished round, seconds. */
async function longestRound(store: Store): Promise<number> {
  const rounds = await store.db
    .selectFrom('rounds')
    .select(['started_at', 'finished_at'])
    .where('finished_at', 'is not', null)
    .execute();
  return Math.max(0, ...rounds.map((r) => (toDate(r.finished_at!).getTime() - toDate(r.started_at).getTime()) / 1000));
}

/** Gaps between consecutive collections outside [minS, maxS], as readable lines. */
function badGaps(
  starts: Map<string, number[]>,
  minS: number,
  maxS: number,
  skip: (key: string, from: number, to: number) => boolean = () => false,
): string[] {
  const bad: string[] = [];
  for (const [key, list] of starts) {
    for (let i = 1; i < list.length; i++) {
      const gap = (list[i]! - list[i - 1]!) / 1000;
      if (skip(key, list[i - 1]!, list[i]!)) continue;
      if (gap < minS || gap > maxS)
        bad.push(
          `${key}: ${gap.toFixed(2)} s between ${new Date(list[i - 1]!).toISOString()} and ${new Date(list[i]!).toISOString()}`,
        );
    }
  }
  return bad;
}

async function metricsOf(collector: Collector): Promise<string> {
  const port = /dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(collector.log())?.[1];
  expect(port, collector.log()).toBeDefined();
  return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const SHARED = testDialects().filter((d) => d !== 'sqlite');

describe.skipIf(SHARED.length === 0 && !testDialects().includes('sqlite'))(
  'several fleetstat serve on one database',
  () => {
    let fleet: SshdFleet;
    let stalled: FaultEndpoint[] = [];
    let dir: string;
    let slowFlag: string;
    const collectors: Collector[] = [];
    const databases: TestDatabase[] = [];
    /** One measured round over the healthy fleet, seconds (the "once per interval" tests derive their interval from it). */
    let roundSeconds = 0;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'fleetstat-scale-'));
      chmodSync(dir, 0o755); // the test account's login tests for the slow-login flag in it
      slowFlag = join(dir, 'slow-login');
      fleet = await startFleet(HOSTS, { extraConfig: [slowLogin(slowFlag)] });
      stalled = await Promise.all(Array.from({ length: STALLED }, (_, i) => startBannerStall(`127.0.9.${20 + i}`)));
    }, 120_000);
    afterAll(async () => {
      await Promise.all(collectors.map(stopCollector));
      await Promise.all(databases.map((d) => d.drop()));
      await Promise.all([fleet?.stop(), ...stalled.map((s) => s.stop())]);
      rmSync(dir, { recursive: true, force: true });
    });

    interface Prepared {
      store: Store;
      configPath: string;
      keys: string[];
    }

    /** A fresh migrated database and a config for the fleet (and the stalled hosts) on it. */
    async function prepare(
      dialect: TestDialect,
      name: string,
      options: { intervalS: number; concurrency?: number; withStalled?: boolean },
    ): Promise<Prepared> {
      const database = await createTestDatabase(dialect);
      databases.push(database);
      const store = await openStore(database.url);
      await migrate(store);
      const configDir = join(dir, name);
      rmSync(configDir, { recursive: true, force: true });
      mkdirSync(configDir);
      const timeout = { timeout: `${HOST_TIMEOUT_S}s` };
      const clients: FleetClient[] = [
        ...fleet.hosts.map((host, i) => ({ host, auth: 'key' as const, name: `h${i}`, attributes: timeout })),
        ...(options.withStalled
          ? stalled.map((host, i) => ({ host, auth: 'key' as const, name: `stalled${i}`, attributes: timeout }))
          : []),
      ];
      const configPath = writeFleetConfig(fleet, {
        dir: configDir,
        databaseUrl: database.url,
        settings: {
          interval: `${options.intervalS}s`,
          'cpu-sample': '100',
          'spool-dir': join(configDir, 'spool'),
          'connect-timeout': `${STALL_S}s`,
          ...(options.concurrency ? { concurrency: String(options.concurrency) } : {}),
        },
        clients,
      });
      return { store, configPath, keys: clients.map((c) => clientKey({ ip: c.host.address, port: c.host.port })) };
    }

    /** The interval for "once per interval": four whole rounds over the fleet, at least 5 s. */
    async function derivedInterval(): Promise<number> {
      if (roundSeconds === 0) {
        const { store, configPath } = await prepare(testDialects()[0]!, 'measure', { intervalS: 60 });
        try {
          const result = spawnSync(process.execPath, [CLI, 'collect', '--config', configPath, '--quiet'], {
            encoding: 'utf8',
            timeout: 120_000,
          });
          expect(result.status, result.stderr).toBe(0);
          roundSeconds = await longestRound(store);
        } finally {
          await store.close();
        }
      }
      return Math.max(5, Math.ceil(4 * roundSeconds));
    }

    describe.each(SHARED)('on %s', (dialect) => {
      it('two collectors: every host once per interval (interval from a measured round), hosts split between them', async () => {
        const intervalS = await derivedInterval();
        const { store, configPath, keys } = await prepare(dialect, `two-${dialect}`, { intervalS });
        try {
          const pair = [startCollector(configPath), startCollector(configPath)];
          collectors.push(...pair);
          await waitFor('five collections of every host', 12 * intervalS * 1000 + 60_000, async () =>
            Math.min(...countsOf(await collectionStarts(store), keys)) >= 5 ? true : undefined,
          );
          await Promise.all(pair.map(stopCollector));

          const starts = await collectionStarts(store);
          expect([...starts.keys()].sort()).toEqual([...keys].sort());
          expect(badGaps(starts, 0.75 * intervalS, 1.8 * intervalS), `interval ${intervalS} s`).toEqual([]);
          // Both took part (each host's interval went to whichever claimed it first).
          for (const collector of pair) expect(collector.log()).toMatch(/round \d+: [1-9]\d* ok/);
          expect(await store.db.selectFrom('host_errors').select('message').execute()).toEqual([]);
          // A graceful stop frees every lease.
          expect((await readLeases(store)).filter((l) => l.owner !== null)).toEqual([]);
        } finally {
          await store.close();
        }
      }, 300_000);

      it('three collectors: a collector killed mid-round has its hosts taken over once its leases expire', async () => {
        const intervalS = await derivedInterval();
        const { store, configPath, keys } = await prepare(dialect, `three-${dialect}`, { intervalS });
        try {
          const trio = [startCollector(configPath), startCollector(configPath), startCollector(configPath)];
          collectors.push(...trio);
          await waitFor('two collections of every host', 8 * intervalS * 1000 + 60_000, async () =>
            Math.min(...countsOf(await collectionStarts(store), keys)) >= 2 ? true : undefined,
          );

          // Wait for a round in flight, freeze its collector (SIGSTOP) so that the leases it holds
          // when it dies are read exactly (a round may end between two reads), then kill it.
          const { victim, held } = await waitFor(
            'a collector frozen with leases held',
            8 * intervalS * 1000,
            async () => {
              const now = Date.now();
              const owner = (await readLeases(store)).find(
                (l) => l.owner !== null && (l.leaseUntil?.getTime() ?? 0) > now,
              )?.owner;
              if (owner == null) return undefined;
              const candidate = trio.find((c) => c.child.pid === Number(owner.split(':').at(-2)));
              expect(candidate, `lease owner ${owner} is one of the collectors`).toBeDefined();
              candidate!.child.kill('SIGSTOP');
              const mine = (await readLeases(store)).filter((l) => l.owner === owner);
              if (mine.length > 0) return { victim: candidate!, held: mine };
              candidate!.child.kill('SIGCONT');
              return undefined;
            },
          );
          victim.child.kill('SIGKILL');
          await victim.exited;
          const killedAt = Date.now();
          // Leases taken in different claims end at different times: each host has its own.
          const leaseEnds = new Map(held.map((l) => [l.hostKey, l.leaseUntil!.getTime()]));
          const leaseEnd = Math.max(...leaseEnds.values());
          const orphaned = new Set(leaseEnds.keys());
          // The survivors run on until every host was collected twice after the leases ended.
          await waitFor(
            'two collections of every host after the leases ended',
            Math.max(0, leaseEnd - Date.now()) + 10 * intervalS * 1000 + 60_000,
            async () => (Math.min(...countsOf(await collectionStarts(store), keys, leaseEnd)) >= 2 ? true : undefined),
          );
          const survivors = trio.filter((c) => c !== victim);
          await Promise.all(survivors.map(stopCollector));

          // A report's collected_at is when the collector received it, after it claimed the host
          // (a round's start may come before the lease ended, its claim of the host after).
          const received = await receivedTimes(store);
          for (const [key, until] of leaseEnds) {
            const next = received.get(key)?.find((t) => t > killedAt);
            expect(next, `${key} was never collected after the kill`).toBeDefined();
            // Nobody else took the host while its lease held; the survivors took it soon after.
            expect(next!, `${key}'s next report against its lease's end`).toBeGreaterThanOrEqual(until - 50);
            expect(next! - until).toBeLessThanOrEqual(1.8 * intervalS * 1000);
          }
          const starts = await collectionStarts(store);
          // Outside the orphaned hosts' wait for the lease, every host stayed once per interval.
          const duringLease = (key: string, from: number, to: number) =>
            orphaned.has(key) && from <= killedAt && to >= killedAt;
          expect(badGaps(starts, 0.75 * intervalS, 1.8 * intervalS, duringLease), `interval ${intervalS} s`).toEqual(
            [],
          );
          for (const collector of survivors) expect(collector.log()).toMatch(/round \d+: [1-9]\d* ok/);
        } finally {
          await store.close();
        }
      }, 300_000);
    });

    /**
     * Runs `count` collectors on a fresh database until every host was collected `times` times;
     * checks the bound of docs/scale-out.md (with the longest round this run measured) and that
     * the collectors said they were behind (log and /metrics). Returns the collections per host.
     */
    async function runOverloaded(
      dialect: TestDialect,
      count: number,
      name: string,
      options: { concurrency: number; slowLogin?: boolean; withStalled?: boolean; times: number },
    ): Promise<{ counts: number[]; store: Store }> {
      const { store, configPath, keys } = await prepare(dialect, name, {
        intervalS: OVERLOAD_INTERVAL_S,
        concurrency: options.concurrency,
        withStalled: options.withStalled,
      });
      if (options.slowLogin) {
        writeFileSync(slowFlag, '');
        onTestFinished(() => rmSync(slowFlag, { force: true }));
      }
      const group = Array.from({ length: count }, () => startCollector(configPath));
      collectors.push(...group);
      // Look for the overload while the collectors run, before waiting for the collections.
      const said = await waitFor('a collector saying it is behind, in its log and /metrics', 300_000, async () => {
        for (const collector of group) {
          if (!new RegExp(`collection behind: \\d+ of ${keys.length} hosts overdue`).test(collector.log())) continue;
          if (/^fleetstat_collection_behind 1$/m.test(await metricsOf(collector))) return collector;
        }
        return undefined;
      });
      expect(said.log()).toMatch(
        new RegExp(
          `raise concurrency \\(now ${options.concurrency}\\), lengthen the interval \\(to \\d+ s or more\\) or add a collector`,
        ),
      );
      await waitFor(`${options.times} collections of every host`, 300_000, async () =>
        Math.min(...countsOf(await collectionStarts(store), keys)) >= options.times ? true : undefined,
      );
      await Promise.all(group.map(stopCollector));

      const starts = await collectionStarts(store);
      const bound = collectionGapBound({
        hosts: keys.length,
        concurrency: options.concurrency,
        collectors: count,
        hostSeconds: HOST_TIMEOUT_S,
        intervalSeconds: OVERLOAD_INTERVAL_S,
        tickSeconds: longestTickSeconds(OVERLOAD_INTERVAL_S),
        perClaim: dialect === 'sqlite' ? keys.length : Math.ceil(keys.length * CLAIM_SHARE),
        roundSeconds: await longestRound(store),
      });
      expect(badGaps(starts, 0, bound), `bound ${bound.toFixed(1)} s`).toEqual([]);
      const firstRound = Math.min(...[...starts.values()].map((list) => list[0]!));
      for (const [key, list] of starts)
        expect(list[0]! - firstRound, `${key}'s first collection`).toBeLessThanOrEqual(bound * 1000);
      return { counts: countsOf(starts, keys), store };
    }

    // Overload certain on any machine, in every round: each login sleeps 0.5 s on the target
    // (slowLogin), one host at a time per collector, so 30 hosts take 15 s / collectors > 2 s.
    const overloadCases = testDialects().flatMap((dialect): [TestDialect, number][] =>
      dialect === 'sqlite'
        ? [[dialect, 1]]
        : [
            [dialect, 2],
            [dialect, 3],
          ],
    );
    it.each(overloadCases)(
      'interval shorter than a round on %s with %i collector(s): every host within the bound, the most collected at most twice as often as the least, overload said',
      async (dialect, count) => {
        const { counts, store } = await runOverloaded(dialect, count, `overload-${dialect}-${count}`, {
          concurrency: 1,
          slowLogin: true,
          times: 3,
        });
        try {
          expect(
            Math.max(...counts) / Math.min(...counts),
            `collections per host: ${counts.join(' ')}`,
          ).toBeLessThanOrEqual(2);
          // Overload alone fails no host; stopping the collectors mid-round (above) may abandon the
          // host then running, which says so: that one is the test's own doing.
          const errors = await store.db.selectFrom('host_errors').select('message').execute();
          expect(errors.filter((e) => !/the collector is shutting down/.test(e.message))).toEqual([]);
        } finally {
          await store.close();
        }
      },
      400_000,
    );

    // Hosts that stall until the connect timeout: 8 × 4 s, two at a time per collector.
    const stallCases = testDialects().map((dialect): [TestDialect, number] => [dialect, dialect === 'sqlite' ? 1 : 2]);
    it.each(stallCases)(
      'hosts stalling until their timeout on %s with %i collector(s): every host within the bound, overload said',
      async (dialect, count) => {
        const { counts, store } = await runOverloaded(dialect, count, `stalled-${dialect}-${count}`, {
          concurrency: OVERLOAD_CONCURRENCY,
          withStalled: true,
          times: 2,
        });
        try {
          expect(Math.min(...counts)).toBeGreaterThanOrEqual(2);
          // Only the stalled hosts failed, at the handshake.
          const stages = await store.db
            .selectFrom('host_errors')
            .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
            .select(['hosts.ip', 'host_errors.stage'])
            .execute();
          expect(new Set(stages.map((s) => `${s.ip.startsWith('127.0.9.') ? 'stalled' : s.ip} ${s.stage}`))).toEqual(
            new Set(['stalled connect']),
          );
        } finally {
          await store.close();
        }
      },
      400_000,
    );
  },
);
