/** Storing one host's report: host facts, the sample and its rows, new events, all or nothing. */
import type { Insertable, Kysely } from 'kysely';
import type { EventReport, Report } from '../probe/report.js';
import { insertBatches } from './batches.js';
import { reportCpuUsage, type CpuUsage } from './cpu-counters.js';
import { insertReturningId } from './dialect-adapter.js';
import { insertNewEvents } from './events.js';
import type { Store } from './open-store.js';
import type { Database } from './schema.js';
import { limitReport, type Trimmed } from './storage-limits.js';
import { StoreError, describeCause } from './store-error.js';
import { parseReportTime } from './timestamps.js';

/**
 * Lets the caller give up on a save that takes too long. The save checks `abandoned` between its
 * steps and rolls back when it is set; once it sets `committing` (right before COMMIT) it can no
 * longer be abandoned, and the caller must wait for it. JavaScript runs one callback at a time,
 * so the check and the set cannot interleave with the caller's decision.
 */
export interface SaveControl {
  abandoned: boolean;
  committing: boolean;
}

export interface ReportToSave {
  hostId: number;
  roundId: number | null;
  /** When the server received the report (the host's clock may be wrong). */
  collectedAt: Date;
  report: Report;
  control?: SaveControl;
  /** Most new events stored from this report (the config's event-cap; default the schema's 5000). */
  eventCap?: number;
  /** How report.cpu.percent was obtained, when the round computed it from counters (default: reportCpuUsage). */
  cpu?: CpuUsage;
}

export interface SavedReport {
  sampleId: number;
  /** The report's events that were not stored before: the ones to mail about. */
  newEvents: EventReport[];
  /** What the storage limits left out (storage-limits.ts); all zero for an ordinary host. */
  limited: Trimmed & { events: number };
}

async function insertRows<T extends 'disk_usage' | 'net_io' | 'logged_in_users'>(
  db: Kysely<Database>,
  table: T,
  rows: Insertable<Database[T]>[],
): Promise<void> {
  for (const batch of insertBatches(rows)) {
    // Kysely cannot type values for a table chosen by a type parameter; the signature does.
    await db.insertInto(table).values(batch).execute();
  }
}

async function updateHostFacts(db: Kysely<Database>, hostId: number, report: Report, seenAt: Date): Promise<void> {
  const { hostname, os, os_name, kernel, arch } = report.host;
  const result = await db
    .updateTable('hosts')
    .set({ hostname, os, os_name, kernel, arch, last_seen: seenAt })
    .where('id', '=', hostId)
    .executeTakeFirst();
  // MySQL may count an unchanged row as 0 affected; check existence before blaming the id.
  if (result.numUpdatedRows === 0n) {
    const exists = await db.selectFrom('hosts').select('id').where('id', '=', hostId).executeTakeFirst();
    if (!exists) throw new Error(`host id ${hostId} is not in the hosts table`);
  }
}

async function insertSample(db: Kysely<Database>, input: ReportToSave): Promise<number> {
  const { report } = input;
  const cpu = input.cpu ?? reportCpuUsage(report);
  return insertReturningId(db, 'samples', {
    host_id: input.hostId,
    round_id: input.roundId,
    collected_at: input.collectedAt,
    cpu_percent: report.cpu.percent,
    load1: report.cpu.load1,
    load5: report.cpu.load5,
    load15: report.cpu.load15,
    mem_total: report.memory.total_bytes,
    mem_used: report.memory.used_bytes,
    mem_available: report.memory.available_bytes,
    mem_percent: report.memory.percent,
    swap_total: report.swap.total_bytes,
    swap_used: report.swap.used_bytes,
    swap_percent: report.swap.percent,
    uptime_seconds: report.uptime_seconds,
    boot_time: parseReportTime(report.boot_time),
    process_count: report.process_count,
    users_count: report.users.length,
    cpu_method: cpu.method,
    cpu_interval_ms: cpu.intervalMs,
    cpu_cores: report.cpu.cores,
    cpu_counter_total: report.cpu.counters?.total ?? null,
    cpu_counter_idle: report.cpu.counters?.idle ?? null,
  });
}

async function insertSampleChildren(db: Kysely<Database>, sampleId: number, report: Report): Promise<void> {
  await insertRows(
    db,
    'disk_usage',
    report.disks.map((d) => ({
      sample_id: sampleId,
      mount: d.mount,
      fs: d.fs,
      device: d.device,
      size_bytes: d.size_bytes,
      used_bytes: d.used_bytes,
      avail_bytes: d.avail_bytes,
      used_percent: d.used_percent,
    })),
  );
  await insertRows(
    db,
    'net_io',
    report.nics.map((n) => ({
      sample_id: sampleId,
      name: n.name,
      rx_bytes: n.rx_bytes,
      tx_bytes: n.tx_bytes,
      rx_packets: n.rx_packets,
      tx_packets: n.tx_packets,
      rx_errors: n.rx_errors,
      tx_errors: n.tx_errors,
    })),
  );
  await insertRows(
    db,
    'logged_in_users',
    report.users.map((u) => ({
      sample_id: sampleId,
      name: u.name,
      tty: u.tty,
      from_host: u.from,
      login_at: parseReportTime(u.login_at),
    })),
  );
}

/**
 * Stores a validated report in ONE transaction: updates the host's facts and last_seen, inserts
 * the sample with its disks, NICs and users, and the security events not stored before.
 * Either every row lands or none. Returns the sample id and the newly stored events.
 * Throws StoreError naming the host id; nothing is left behind then.
 */
export async function saveReport(store: Store, given: ReportToSave): Promise<SavedReport> {
  const hostId = given.hostId;
  try {
    // What a host may add is bounded (storage-limits.ts): fields cut, rows capped, events budgeted.
    const { report, trimmed } = limitReport(given.report);
    const input = { ...given, report };
    const control = input.control;
    const stillWanted = () => {
      if (control?.abandoned) throw new Error('the save was abandoned after the store timeout; rolled back');
    };
    return await store.db.transaction().execute(async (trx) => {
      stillWanted();
      await updateHostFacts(trx, input.hostId, input.report, input.collectedAt);
      stillWanted();
      const sampleId = await insertSample(trx, input);
      stillWanted();
      await insertSampleChildren(trx, sampleId, input.report);
      stillWanted();
      const events = await insertNewEvents(trx, input.hostId, input.roundId, input.report.events.items, {
        cap: input.eventCap ?? 5000,
        now: input.collectedAt,
      });
      stillWanted();
      if (control) control.committing = true;
      return { sampleId, newEvents: events.inserted, limited: { ...trimmed, events: events.deferred } };
    });
  } catch (error) {
    throw new StoreError(
      `storing the report of host id ${hostId} in ${store.url} failed, nothing was stored: ${describeCause(error)}`,
      store.url,
      { cause: error },
    );
  }
}
