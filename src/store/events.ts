/** Security events: stored once per (host, record id), however often a probe reports them. */
import type { Kysely } from 'kysely';
import type { EventReport } from '../probe/report.js';
import { insertBatches } from './batches.js';
import type { Store } from './open-store.js';
import type { Database } from './schema.js';
import type { StoreDialect } from './store-url.js';
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
  for (let i = 0; i < recordIds.length; i += 1000) {
    const rows = await db
      .selectFrom('security_events')
      .select('record_id')
      .where('host_id', '=', hostId)
      .where('record_id', 'in', recordIds.slice(i, i + 1000))
      .execute();
    for (const row of rows) stored.add(Number(row.record_id));
  }
  return stored;
}

/**
 * Inserts the events not yet stored for the host and returns exactly those, in report order.
 * Run inside the report's transaction. A duplicate record id within the report counts once.
 */
export async function insertNewEvents(
  db: Kysely<Database>,
  dialect: StoreDialect,
  hostId: number,
  roundId: number | null,
  events: readonly EventReport[],
): Promise<EventReport[]> {
  if (events.length === 0) return [];
  const stored = await storedRecordIds(db, hostId, [...new Set(events.map((e) => e.record_id))]);
  const fresh = new Map<number, EventReport>();
  for (const event of events) {
    if (!stored.has(event.record_id) && !fresh.has(event.record_id)) fresh.set(event.record_id, event);
  }
  const rows = [...fresh.values()].map((e) => ({
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
  const inserted = new Set<number>();
  for (const batch of insertBatches(rows)) {
    const insert = db.insertInto('security_events').values(batch);
    if (dialect === 'mysql') {
      // No RETURNING on MySQL: a row another collector stored meanwhile is skipped by the
      // unique key (a no-op update, unlike INSERT IGNORE which would also hide bad data).
      await insert.onDuplicateKeyUpdate((eb) => ({ record_id: eb.ref('security_events.record_id') })).execute();
      for (const row of batch) inserted.add(row.record_id);
    } else {
      const returned = await insert
        .onConflict((oc) => oc.columns(['host_id', 'record_id']).doNothing())
        .returning('record_id')
        .execute();
      for (const row of returned) inserted.add(Number(row.record_id));
    }
  }
  return [...fresh.values()].filter((e) => inserted.has(e.record_id));
}
