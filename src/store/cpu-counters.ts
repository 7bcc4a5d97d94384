/** A host's cumulative CPU counters as stored with its latest sample (migration 0006). */
import type { Report } from '../probe/report.js';
import type { Store } from './open-store.js';
import { toDate, toDateOrNull } from './timestamps.js';

/** How a stored CPU figure was obtained (samples.cpu_method; src/collect/cpu-rate.ts). */
export type CpuMethod = 'counters' | 'sample' | 'since-boot';

/** The stored CPU figure's method and the span it covers, in milliseconds. */
export interface CpuUsage {
  method: CpuMethod;
  intervalMs: number;
}

/**
 * What a report's own cpu.percent is, when no round computed a figure from counters (a report
 * stored by another path): the probe's sample, or its average since boot when it did not sample.
 */
export function reportCpuUsage(report: Report): CpuUsage {
  return report.cpu.interval_ms > 0
    ? { method: 'sample', intervalMs: report.cpu.interval_ms }
    : { method: 'since-boot', intervalMs: report.uptime_seconds * 1000 };
}

/** The counters of a host's latest sample, with what the next round needs to trust them. */
export interface StoredCpuCounters {
  /** When the server received that report (server clock). */
  collectedAt: Date;
  bootTime: Date | null;
  cores: number | null;
  total: number;
  idle: number;
}

/**
 * The counters stored with the host's most recent sample; null when it has none (never
 * collected, collected before migration 0006, or its probe could not read them). One descending
 * step of the (host_id, collected_at, id) index.
 */
export async function lastCpuCounters(store: Store, hostId: number): Promise<StoredCpuCounters | null> {
  const row = await store.db
    .selectFrom('samples')
    .select(['collected_at', 'boot_time', 'cpu_cores', 'cpu_counter_total', 'cpu_counter_idle'])
    .where('host_id', '=', hostId)
    .orderBy('collected_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row || row.cpu_counter_total == null || row.cpu_counter_idle == null) return null;
  return {
    collectedAt: toDate(row.collected_at),
    bootTime: toDateOrNull(row.boot_time),
    cores: row.cpu_cores == null ? null : Number(row.cpu_cores),
    // Stored values passed the report's bounds (at most 2^53), so Number() is exact.
    total: Number(row.cpu_counter_total),
    idle: Number(row.cpu_counter_idle),
  };
}
