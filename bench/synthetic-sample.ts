/**
 * One plausible `samples` row for the store benchmarks (store-year, db-copy-year): values that
 * move with a slow wave per host, so charts and copies carry varied, realistic numbers.
 */
import type { Insertable } from 'kysely';
import type { Database } from '../src/store/schema.js';

/** Row `i` of host `hostId` taken at `at`, on a host booted at `bootTime`; not tied to a round. */
export function syntheticSample(hostId: number, at: Date, i: number, bootTime: Date): Insertable<Database['samples']> {
  const wave = Math.sin(i / 97 + hostId);
  return {
    host_id: hostId,
    round_id: null,
    collected_at: at,
    cpu_percent: 30 + 25 * wave,
    load1: 1 + wave,
    load5: 1,
    load15: 0.9,
    mem_total: 16 * 2 ** 30,
    mem_used: Math.round(8 * 2 ** 30 * (1 + wave / 4)),
    mem_available: 7 * 2 ** 30,
    mem_percent: 50 + 12 * wave,
    swap_total: 2 ** 31,
    swap_used: 2 ** 20,
    swap_percent: 0.05,
    uptime_seconds: 86400 + i * 60,
    boot_time: bootTime,
    process_count: 180 + (i % 17),
    users_count: 1,
  };
}
