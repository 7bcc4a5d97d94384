/**
 * A compromised target tries to fill the collector's disk through the real path (sshd, sealed
 * reply, round, SQLite): 200 disks with long names, 100 users, 300 long events with fresh record
 * ids on every run. What is stored is cut to the storage limits, and the round says so in
 * host_errors; the host itself still counts as collected, and the new events it found are
 * mailed (one change for the grouped mail per round).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { STORAGE_LIMITS as L } from '../src/store/storage-limits.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound } from './support/hostile-round.js';

describe('a target flooding its reports', () => {
  let fleet: FaultFleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFaultFleet(1, { firstIndex: 172 });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-flood-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores only what the limits allow, every round, and records what it left out', async () => {
    const host = fleet.hosts[0]!;
    fleet.setMode(host, 'reply flood');
    const clients = [{ host, auth: 'key' as const, name: 'flood', mail: 'sec@example.test' }];
    for (let round = 1; round <= 2; round++) {
      const result = await runFaultRound(fleet, { dir, clients, settings: { 'event-cap': '500' } });
      expect(result.stored).toEqual(['flood']);
      // New events (fresh record ids every run) are mailed with no rule needed.
      expect(result.summary.mailsQueued).toBe(1);
      expect(result.tableErrors.get('flood')).toMatchObject({
        stage: 'store',
        message: expect.stringMatching(
          /^storage limits: not stored: 136 disks over the limit of 64; 68 user sessions over the limit of 32; \d+ new security events over/,
        ),
      });
    }
    const store = await openStore(`sqlite:${join(dir, 'faults.sqlite')}`);
    try {
      const disks = await store.db.selectFrom('disk_usage').select(['mount', 'device']).execute();
      expect(disks).toHaveLength(2 * L.disks);
      expect(Math.max(...disks.map((d) => d.mount.length), ...disks.map((d) => d.device.length))).toBeLessThanOrEqual(
        L.diskMount,
      );
      const events = await store.db.selectFrom('security_events').select('message').execute();
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThanOrEqual(
        2 * Math.floor(L.eventCharsPerReport / (L.eventRowCharge + L.eventMessage)),
      );
      expect(Math.max(...events.map((e) => e.message.length))).toBe(L.eventMessage);
      const changes = await store.db.selectFrom('notifications').select(['rule', 'transition']).execute();
      expect(changes).toEqual([
        { rule: 'security-events', transition: 'events' },
        { rule: 'security-events', transition: 'events' },
      ]);
    } finally {
      await store.close();
    }
  }, 120_000);
});
