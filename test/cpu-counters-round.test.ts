/**
 * CPU figures from counters over real rounds: a loopback sshd, the real probe, every database.
 * Round 1 has no previous counters, so the probe samples; round 2 computes the figure from the
 * counters of both rounds without a sleep, covering the time between them; a boot time that moved
 * gives the since-boot figure, and counters older than the limit make the probe sample again.
 * A cpu alert compares the counter-derived figure.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectRound } from '../src/collect/round.js';
import { counterMaxAgeMs } from '../src/collect/cpu-rate.js';
import { outcomeFailure } from '../src/collect/host-outcome.js';
import { loadConfig } from '../src/config/index.js';
import type { Config } from '../src/config/types.js';
import type { Store } from '../src/store/open-store.js';
import { toDate } from '../src/store/timestamps.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { startFleet, type SshdFleet } from './support/sshd.js';

const CPU_SAMPLE_MS = 700;

describe('CPU figures from counters between rounds', () => {
  let fleet: SshdFleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFleet(1);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-cpu-counters-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(testDialects())('%s', (dialect) => {
    const db = useMigratedStore(dialect);

    async function samples(store: Store) {
      const rows = await store.db
        .selectFrom('samples')
        .select([
          'id',
          'collected_at',
          'cpu_percent',
          'cpu_method',
          'cpu_interval_ms',
          'cpu_cores',
          'cpu_counter_total',
          'cpu_counter_idle',
          'uptime_seconds',
        ])
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ ...r, collected_at: toDate(r.collected_at) }));
    }

    it('round 1 samples, round 2 uses counters over the interval, a reboot and stale counters fall back', async () => {
      const runDir = join(dir, dialect);
      mkdirSync(runDir);
      const path = writeFleetConfig(fleet, {
        dir: runDir,
        databaseUrl: db.url,
        settings: { 'cpu-sample': String(CPU_SAMPLE_MS) },
        clients: [{ host: fleet.hosts[0]!, auth: 'key', name: 'counted', alerts: ['<alert type="cpu" limit="0%"/>'] }],
      });
      const config: Config = await loadConfig(path);
      const round = async () => {
        const summary = await collectRound(config, db.store);
        expect(summary.outcomes.map((o) => outcomeFailure(o)?.message)).toEqual([undefined]);
        const [outcome] = summary.outcomes;
        if (outcome?.status !== 'stored') throw new Error(`expected a stored host, got ${outcome?.status}`);
        return outcome;
      };

      // Round 1: nothing to compare with: the probe sampled for cpu-sample ms.
      const first = await round();
      expect(first.report.cpu.interval_ms).toBe(CPU_SAMPLE_MS);
      let rows = await samples(db.store);
      expect(rows).toMatchObject([{ cpu_method: 'sample', cpu_interval_ms: CPU_SAMPLE_MS }]);
      expect(rows[0]!.cpu_counter_total).toBeGreaterThan(0);
      expect(rows[0]!.cpu_cores).toBeGreaterThanOrEqual(1);

      // Round 2: no sleep in the probe; the figure covers the time since round 1.
      const second = await round();
      expect(second.report.cpu.interval_ms).toBe(0);
      rows = await samples(db.store);
      const [r1, r2] = rows;
      expect(r2).toMatchObject({
        cpu_method: 'counters',
        cpu_interval_ms: r2!.collected_at.getTime() - r1!.collected_at.getTime(),
      });
      // Exact integers back from every driver, and counters that grew.
      expect(Number.isSafeInteger(r2!.cpu_counter_total)).toBe(true);
      const total = r2!.cpu_counter_total! - r1!.cpu_counter_total!;
      const idle = r2!.cpu_counter_idle! - r1!.cpu_counter_idle!;
      expect(total).toBeGreaterThan(0);
      expect(r2!.cpu_percent).toBeCloseTo(Math.round((1000 * (total - idle)) / total) / 10, 5);
      // The alert compared the stored, counter-derived figure.
      const alert = await db.store.db
        .selectFrom('alerts')
        .select(['rule', 'state', 'value'])
        .where('rule', '=', 'cpu')
        .executeTakeFirstOrThrow();
      expect(alert.value).toBeCloseTo(r2!.cpu_percent, 5);
      // Above the 0 % limit: the end of round 1's probe (openssl, sshd) alone is busy time in the interval.
      expect(alert.state).toBe('firing');
      expect(second.report.cpu.percent).toBe(r2!.cpu_percent);

      // A boot time that moved (as after a reboot): the probe's since-boot figure over the uptime.
      await db.store.db
        .updateTable('samples')
        .set({ boot_time: new Date(Date.now() - 86_400_000 * 400) })
        .where('id', '=', r2!.id)
        .execute();
      await round();
      rows = await samples(db.store);
      expect(rows[2]).toMatchObject({ cpu_method: 'since-boot', cpu_interval_ms: rows[2]!.uptime_seconds * 1000 });

      // Counters older than the limit: the probe samples again.
      const stale = new Date(Date.now() - counterMaxAgeMs(config.settings.intervalSeconds) - 60_000);
      await db.store.db.updateTable('samples').set({ collected_at: stale }).execute();
      await round();
      rows = await samples(db.store);
      expect(rows[3]).toMatchObject({ cpu_method: 'sample', cpu_interval_ms: CPU_SAMPLE_MS });
    }, 180_000);
  });
});
