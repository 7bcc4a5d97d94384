/** Security events: stored once per (host, record id), however often a probe reports them. */
import { sql, type Kysely } from 'kysely';
import type { EventReport } from '../probe/report.js';
import { insertBatches, keyChunks } from './batches.js';
import { adapterOf } from './dialect-adapter.js';
import type { Store } from './open-store.js';
import type { Database } from './schema.js';
import { STORAGE_LIMITS, selectEventsWithinBudget, type EventUsage } from './storage-limits.js';
import { parseReportTime } from './timestamps.js';

/**
 * The highest record id stored for the host (0 if none): the probe asks only for newer events,
 * so nothing is replayed and nothing skipped.
 */
export async function lastEventRecordId(store: Store, hostId: number): Promise<number> {
  const row = await store.db
    .selectFrom('security_events')
    .select((eb) => eb.fn.max('record_id').as('last'))
    .where('host_id', '=', hostId)
    .executeTakeFirst();
  return row?.last == null ? 0 : Number(row.last);
}

async function storedRecordIds(db: Kysely<Database>, hostId: number, recordIds: number[]): Promise<Set<number>> {
  const stored = new Set<number>();
  for (const part of keyChunks(recordIds)) {
    const rows = await db
      .selectFrom('security_events')
      .select('record_id')
      .where('host_id', '=', hostId)
      .where('record_id', 'in', part)
      .execute();
    for (const row of rows) stored.add(Number(row.record_id));
  }
  return stored;
}

/**
 * How many events, and how many characters of event text (with the row charge), the host stored
 * in rounds that started at or after `since`. (Events imported from the spool carry no round and are not counted.)
 */
export async function eventUsageSince(db: Kysely<Database>, hostId: number, since: Date): Promise<EventUsage> {
  const adapter = adapterOf(db);
  const chars = (column: string) => adapter.charLength(column);
  const row = await db
    .selectFrom('security_events')
    .innerJoin('rounds', 'rounds.id', 'security_events.round_id')
    .select([
      sql<string | number>`count(*)`.as('events'),
      sql<
        string | number | null
      >`sum(${chars('security_events.level')} + ${chars('security_events.provider')} + ${chars('security_events.message')} + coalesce(${chars('security_events.raw')}, 0))`.as(
        'chars',
      ),
    ])
    .where('security_events.host_id', '=', hostId)
    .where('rounds.started_at', '>=', since)
    .executeTakeFirst();
  const events = Number(row?.events ?? 0);
  return { events, chars: Number(row?.chars ?? 0) + events * STORAGE_LIMITS.eventRowCharge };
}

export interface InsertedEvents {
  /** The events stored now (new to the database), lowest record id first. */
  inserted: EventReport[];
  /** New events left out by the storage budgets (read again by a later round). */
  deferred: number;
}

const DAY_MS = 86_400_000;

/**
 * Inserts the events not yet stored for the host, within the per-report count `cap` and the
 * storage budgets of storage-limits.ts, and returns exactly those. Run inside the report's
 * transaction. A duplicate record id within the report counts once.
 */
export async function insertNewEvents(
  db: Kysely<Database>,
  hostId: number,
  roundId: number | null,
  events: readonly EventReport[],
  options: { cap: number; now: Date },
): Promise<InsertedEvents> {
  if (events.length === 0) return { inserted: [], deferred: 0 };
  const stored = await storedRecordIds(db, hostId, [...new Set(events.map((e) => e.record_id))]);
  const fresh = new Map<number, EventReport>();
  for (const event of events) {
    if (!stored.has(event.record_id) && !fresh.has(event.record_id)) fresh.set(event.record_id, event);
  }
  if (fresh.size === 0) return { inserted: [], deferred: 0 };
  const usedToday = await eventUsageSince(db, hostId, new Date(options.now.getTime() - DAY_MS));
  const { keep, deferred } = selectEventsWithinBudget([...fresh.values()], options.cap, usedToday);
  const rows = keep.map((e) => ({
    host_id: hostId,
    record_id: e.record_id,
    event_id: e.event_id,
    level: e.level,
    provider: e.provider,
    logged_at: parseReportTime(e.logged_at),
    message: e.message,
    raw: e.raw ?? null,
    round_id: roundId,
  }));
  const adapter = adapterOf(db);
  const inserted = new Set<number>();
  for (const batch of insertBatches(rows)) {
    // A row another collector stored meanwhile is skipped by the unique (host_id, record_id).
    const insert = adapter.ignoreDuplicates(db.insertInto('security_events').values(batch), ['host_id', 'record_id']);
    if (adapter.supportsReturning) {
      for (const row of await insert.returning('record_id').execute()) inserted.add(Number(row.record_id));
    } else {
      // Without RETURNING every row of the batch counts as inserted (the report's transaction
      // read the stored ids first; only a concurrent collector of the same host could differ).
      await insert.execute();
      for (const row of batch) inserted.add(row.record_id);
    }
  }
  return { inserted: keep.filter((e) => inserted.has(e.record_id)), deferred };
}
