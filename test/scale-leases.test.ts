/**
 * LeaseClaimer against real databases: claimers in separate pools (as separate collectors
 * would be) racing for the same hosts never get the same host, a host is not due again within
 * its interval, and the hosts of a collector that stopped are taken over once its lease expires.
 */
import { describe, expect, it } from 'vitest';
import type { ClientConfig } from '../src/config/types.js';
import { LeaseClaimer, leaseSeconds } from '../src/serve/lease-claimer.js';
import { clientKey } from '../src/serve/host-claimer.js';
import { readLeases } from '../src/store/leases.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { testDialects, withTestDatabase } from './support/databases.js';

function client(i: number, timeoutSeconds = 10): ClientConfig {
  return {
    name: `h${i}`,
    ip: `10.0.${Math.floor(i / 250)}.${1 + (i % 250)}`,
    port: 22,
    username: 'u',
    agent: false,
    alerts: [],
    timeoutSeconds,
    hostKey: 'strict',
    sudo: false,
    line: 1,
  };
}

const INTERVAL = 60;
const at = (base: Date, seconds: number) => new Date(base.getTime() + seconds * 1000);

/** Opens `count` independent stores on `url` (own pools), the first one migrated. */
async function openStores(url: string, count: number): Promise<Store[]> {
  const stores = await Promise.all(Array.from({ length: count }, () => openStore(url)));
  await migrate(stores[0]!);
  return stores;
}

// SQLite has no row locks and one collector per file: leases are for PostgreSQL and MySQL.
const SHARED_DIALECTS = testDialects().filter((d) => d !== 'sqlite');

describe.each(SHARED_DIALECTS)('LeaseClaimer on %s', (dialect) => {
  it('never hands one host to two racing claimers, and every due host to one of them', async () => {
    await withTestDatabase(dialect, async (url) => {
      const stores = await openStores(url, 3);
      try {
        const clients = Array.from({ length: 60 }, (_, i) => client(i));
        const claimers = stores.map((store) => new LeaseClaimer(store, { concurrency: () => 50 }));
        const base = new Date(Date.now() - 3600_000);
        for (let interval = 0; interval < 5; interval++) {
          const now = at(base, interval * INTERVAL);
          // Racing claims, two per claimer within the same interval, like jittered ticks; each
          // takes at most a third of the hosts, so together they can take them all.
          const rounds = await Promise.all(
            claimers.flatMap((claimer) =>
              [0, 1].map(async (tick) => ({ claimer, got: await claimer.claim(clients, at(now, tick), INTERVAL) })),
            ),
          );
          const keys = rounds.flatMap((r) => r.got.map(clientKey));
          for (const r of rounds) expect(r.got.length).toBeLessThanOrEqual(20);
          expect(new Set(keys).size).toBe(keys.length);
          expect(keys.sort()).toEqual(clients.map(clientKey).sort());
          await Promise.all(rounds.map((r) => r.claimer.finish(r.got, at(now, 5))));
          // Within the interval nothing is due again, even with every lease freed.
          const again = await Promise.all(claimers.map((c) => c.claim(clients, at(now, 30), INTERVAL)));
          expect(again.flat()).toEqual([]);
        }
        const leases = await readLeases(stores[0]!);
        expect(leases).toHaveLength(60);
        expect(leases.every((l) => l.owner === null && l.leaseUntil === null && l.lastFinishedAt !== null)).toBe(true);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });

  it('takes over the hosts of a collector that stopped once its lease has expired', async () => {
    await withTestDatabase(dialect, async (url) => {
      const stores = await openStores(url, 2);
      try {
        const clients = Array.from({ length: 5 }, (_, i) => client(i, 20));
        const dead = new LeaseClaimer(stores[0]!, { concurrency: () => 1, marginSeconds: 10 });
        const alive = new LeaseClaimer(stores[1]!, { concurrency: () => 1, marginSeconds: 10 });
        const now = new Date(Date.now() - 3600_000);
        const TAKEOVER_INTERVAL = 25;
        // One claim takes a third of the hosts (rounded up); ticking on takes the rest.
        const first = await dead.claim(clients, now, TAKEOVER_INTERVAL);
        expect(first).toHaveLength(2);
        expect([
          ...first,
          ...(await dead.claim(clients, now, TAKEOVER_INTERVAL)),
          ...(await dead.claim(clients, now, TAKEOVER_INTERVAL)),
        ]).toHaveLength(5);
        // Claims of 2 hosts in waves of 1: 2 waves × 20 s + 10 s margin; the last claim had 1 host.
        const lease = leaseSeconds(clients.slice(0, 2), 1, 10);
        expect(lease).toBe(50);
        const leases = await readLeases(stores[0]!);
        expect(leases.every((l) => l.owner === dead.owner)).toBe(true);
        expect(leases.map((l) => (l.leaseUntil!.getTime() - now.getTime()) / 1000).sort()).toEqual([
          30, 50, 50, 50, 50,
        ]);

        // Due again (interval 25 s) but still leased: not taken.
        expect(await alive.claim(clients, at(now, 29), TAKEOVER_INTERVAL)).toEqual([]);
        // Each lease expires on its own: the 30 s one first, then the others.
        const taken = await alive.claim(clients, at(now, 31), TAKEOVER_INTERVAL);
        expect(taken).toHaveLength(1);
        expect(await alive.claim(clients, at(now, lease - 1), TAKEOVER_INTERVAL)).toEqual([]);
        for (let tick = 0; tick < 3; tick++)
          taken.push(...(await alive.claim(clients, at(now, lease + 1), TAKEOVER_INTERVAL)));
        expect(taken.map(clientKey).sort()).toEqual(clients.map(clientKey).sort());
        // The stopped collector coming back late does not free the new owner's leases.
        await dead.finish(clients, at(now, lease + 2));
        expect((await readLeases(stores[0]!)).every((l) => l.owner === alive.owner)).toBe(true);
        await alive.finish(taken, at(now, lease + 3));
        expect((await readLeases(stores[0]!)).every((l) => l.owner === null)).toBe(true);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  });
});
