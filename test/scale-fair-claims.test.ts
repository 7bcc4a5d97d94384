/**
 * Fair claiming (issue 17) on every database, without real time: the claim order (never
 * started, then the oldest start, the same on SQLite, PostgreSQL and MySQL whatever their NULL
 * order), no fixed subset winning when there is less room than due hosts (also past the 500
 * keys one statement holds), the backlog the load monitor reads, and the bound of
 * docs/scale-out.md checked on simulated collectors that run the real claim code against the
 * real database on a virtual clock: overloaded, every host is started again within
 * collectionGapBound and the most collected host is collected at most twice as often as the least.
 */
import { describe, expect, it } from 'vitest';
import type { ClientConfig } from '../src/config/types.js';
import { collectionGapBound, longestTickSeconds } from '../src/serve/collection-bound.js';
import { clientKey, LocalClaimer, type HostClaimer } from '../src/serve/host-claimer.js';
import { LeaseClaimer } from '../src/serve/lease-claimer.js';
import { ensureLeaseRows, leaseBacklog, readLeases, takeDueLeases } from '../src/store/leases.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { testDialects, withTestDatabase } from './support/databases.js';

function client(i: number): ClientConfig {
  return {
    name: `h${i}`,
    ip: `10.0.${Math.floor(i / 250)}.${1 + (i % 250)}`,
    port: 22,
    username: 'u',
    agent: false,
    alerts: [],
    timeoutSeconds: 10,
    hostKey: 'strict',
    sudo: false,
    line: 1,
  };
}

const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000);
const BASE = new Date('2026-01-01T00:00:00.000Z');

async function withStores<T>(
  dialect: Parameters<typeof withTestDatabase>[0],
  count: number,
  body: (stores: Store[]) => Promise<T>,
): Promise<T> {
  return withTestDatabase(dialect, async (url) => {
    const stores = await Promise.all(Array.from({ length: count }, () => openStore(url)));
    try {
      await migrate(stores[0]!);
      return await body(stores);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
}

/** Sets last_started_at of `key` directly (the test's arrangement of who waited longest). */
async function startedAt(store: Store, key: string, when: Date | null): Promise<void> {
  await store.db.updateTable('host_leases').set({ last_started_at: when }).where('host_key', '=', key).execute();
}

interface Simulation {
  hosts: number;
  collectors: number;
  concurrency: number;
  hostSeconds: number;
  intervalSeconds: number;
  /** Simulated seconds. */
  seconds: number;
}

/**
 * Collectors as the scheduler runs them, on a virtual clock: a tick every P seconds; at a tick
 * with no round running, claim; a claim of k hosts runs ⌈k/concurrency⌉ × hostSeconds, then
 * finish. Returns each host's start times (seconds).
 */
async function simulate(claimers: HostClaimer[], sim: Simulation): Promise<Map<string, number[]>> {
  const clients = Array.from({ length: sim.hosts }, (_, i) => client(i));
  const starts = new Map(clients.map((c) => [clientKey(c), [] as number[]]));
  const tick = longestTickSeconds(sim.intervalSeconds);
  // Collectors tick out of phase, as their jitter makes them.
  const state = claimers.map((claimer, i) => ({
    claimer,
    at: (i * tick) / claimers.length,
    round: undefined as ClientConfig[] | undefined,
  }));
  for (;;) {
    const next = state.reduce((a, b) => (b.at < a.at ? b : a));
    if (next.at > sim.seconds) break;
    if (next.round) {
      await next.claimer.finish(next.round, at(BASE, next.at));
      next.round = undefined;
      next.at = Math.ceil(next.at / tick + 1e-9) * tick + (state.indexOf(next) * tick) / claimers.length;
      continue;
    }
    const got = await next.claimer.claim(clients, at(BASE, next.at), sim.intervalSeconds);
    for (const c of got) starts.get(clientKey(c))!.push(next.at);
    if (got.length === 0) {
      next.at += tick;
    } else {
      next.round = got;
      next.at += Math.ceil(got.length / sim.concurrency) * sim.hostSeconds;
    }
  }
  return starts;
}

/** The longest gap between starts, counting from 0 for the first start. */
function longestGap(starts: Map<string, number[]>, until: number): number {
  let longest = 0;
  for (const list of starts.values()) {
    const points = [0, ...list, until];
    for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
  }
  return longest;
}

/** Collections per host with a start in [from, to): min and max. */
function spread(starts: Map<string, number[]>, from: number, to: number): { min: number; max: number } {
  const counts = [...starts.values()].map((list) => list.filter((t) => t >= from && t < to).length);
  return { min: Math.min(...counts), max: Math.max(...counts) };
}

// Overloaded on purpose: a claim's round (⌈10/2⌉ × 4 s = 20 s) is twice the interval.
const OVERLOAD = { hosts: 30, concurrency: 2, hostSeconds: 4, intervalSeconds: 10 };

describe('LocalClaimer (one collector, any database)', () => {
  it('hands out never-started hosts first, then the oldest start', async () => {
    const claimer = new LocalClaimer();
    const clients = Array.from({ length: 4 }, (_, i) => client(i));
    expect((await claimer.claim([clients[2]!], BASE, 10)).map((c) => c.name)).toEqual(['h2']);
    await claimer.finish([clients[2]!]);
    expect((await claimer.claim([clients[0]!], at(BASE, 5), 10)).map((c) => c.name)).toEqual(['h0']);
    await claimer.finish([clients[0]!]);
    // h1, h3 never started; h2 started before h0.
    expect((await claimer.claim(clients, at(BASE, 20), 10)).map((c) => c.name)).toEqual(['h1', 'h3', 'h2', 'h0']);
  });

  it('overloaded, starts every host again within the bound, evenly', async () => {
    const sim = { ...OVERLOAD, collectors: 1, seconds: 40 * OVERLOAD.intervalSeconds };
    const starts = await simulate([new LocalClaimer()], sim);
    const bound = collectionGapBound({ ...sim, perClaim: sim.hosts });
    expect(longestGap(starts, sim.seconds)).toBeLessThanOrEqual(bound);
    const { min, max } = spread(starts, bound, sim.seconds);
    expect(min).toBeGreaterThan(0);
    expect(max / min).toBeLessThanOrEqual(2);
  });
});

describe.each(testDialects())('fair claims on %s', (dialect) => {
  it('claims never-started hosts first, then the oldest start, and ignores rows of hosts no longer configured', async () => {
    await withStores(dialect, 1, async ([store]) => {
      const keys = ['k0:22', 'k1:22', 'k2:22', 'k3:22', 'k4:22', 'k5:22'];
      await ensureLeaseRows(store!, [...keys, 'gone:22']);
      await startedAt(store!, 'k0:22', at(BASE, -100));
      await startedAt(store!, 'k2:22', at(BASE, -300));
      await startedAt(store!, 'k3:22', at(BASE, -200));
      await startedAt(store!, 'k4:22', at(BASE, -10)); // not due
      const claim = (limit: number) =>
        takeDueLeases(store!, {
          keys,
          owner: 'me',
          now: BASE,
          limit,
          dueBefore: at(BASE, -60),
          leaseUntil: () => at(BASE, 60),
        });
      // NULL first on every dialect (PostgreSQL sorts NULLs last unless told), ties by key.
      expect(await claim(3)).toEqual(['k1:22', 'k5:22', 'k2:22']);
      expect(await claim(3)).toEqual(['k3:22', 'k0:22']);
      expect(await claim(3)).toEqual([]);
      expect((await readLeases(store!)).find((l) => l.hostKey === 'gone:22')!.owner).toBeNull();
    });
  });

  it('lets no fixed subset win when claims have less room than due hosts, also past one statement of keys', async () => {
    await withStores(dialect, 1, async ([store]) => {
      for (const hosts of [30, 1200]) {
        const keys = Array.from({ length: hosts }, (_, i) => `h${String(i).padStart(4, '0')}:${hosts}`);
        await ensureLeaseRows(store!, keys);
        const room = Math.ceil(hosts / 3);
        const claimed = new Map<string, number>();
        // Always overloaded: every host is due again one second later.
        for (let n = 0; n < 6; n++) {
          const now = at(BASE, n);
          const got = await takeDueLeases(store!, {
            keys,
            owner: 'me',
            now,
            limit: room,
            dueBefore: now,
            leaseUntil: () => at(now, 60),
          });
          expect(got).toHaveLength(room);
          for (const key of got) claimed.set(key, (claimed.get(key) ?? 0) + 1);
          const { releaseLeases } = await import('../src/store/leases.js');
          await releaseLeases(store!, got, 'me', now);
        }
        // Six claims of a third: every host exactly twice.
        expect(claimed.size).toBe(hosts);
        expect(new Set(claimed.values())).toEqual(new Set([2]));
      }
    });
  }, 60_000);

  it('counts the backlog: due hosts not under a live lease, and the oldest start among them', async () => {
    await withStores(dialect, 1, async ([store]) => {
      const keys = ['a:22', 'b:22', 'c:22', 'd:22'];
      await ensureLeaseRows(store!, keys);
      await takeDueLeases(store!, {
        keys: ['a:22'],
        owner: 'x',
        now: at(BASE, -500),
        limit: 1,
        dueBefore: BASE,
        leaseUntil: () => at(BASE, 60),
      }); // live lease
      await startedAt(store!, 'b:22', at(BASE, -300));
      await startedAt(store!, 'c:22', at(BASE, -30)); // not due
      expect(await leaseBacklog(store!, keys, BASE, at(BASE, -60))).toEqual({
        waiting: 2,
        neverStarted: 1,
        oldestStartedAt: at(BASE, -300),
      });
      // Once the lease has expired, a is waiting too, and the oldest.
      expect(await leaseBacklog(store!, keys, at(BASE, 61), at(BASE, -40))).toEqual({
        waiting: 3,
        neverStarted: 1,
        oldestStartedAt: at(BASE, -500),
      });
    });
  });

  const collectorCounts = dialect === 'sqlite' ? [1] : [2, 3];
  it.each(collectorCounts)(
    'overloaded with %i lease collector(s): every host started again within the bound, the most collected at most twice as often as the least',
    async (collectors) => {
      await withStores(dialect, collectors, async (stores) => {
        const sim = { ...OVERLOAD, collectors, seconds: 40 * OVERLOAD.intervalSeconds };
        const claimers = stores.map(
          (store) => new LeaseClaimer(store, { concurrency: () => sim.concurrency, marginSeconds: 5 }),
        );
        const starts = await simulate(claimers, sim);
        const bound = collectionGapBound(sim);
        expect(longestGap(starts, sim.seconds)).toBeLessThanOrEqual(bound);
        // Over every window of 10 intervals after the first bound, no host more than twice as often as another.
        for (let from = bound; from + 10 * sim.intervalSeconds <= sim.seconds; from += sim.intervalSeconds) {
          const { min, max } = spread(starts, from, from + 10 * sim.intervalSeconds);
          expect(min, `window from ${from} s`).toBeGreaterThan(0);
          expect(max / min, `window from ${from} s`).toBeLessThanOrEqual(2);
        }
      });
    },
    120_000,
  );
});
