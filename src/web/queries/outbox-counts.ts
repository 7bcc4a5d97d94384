/** Counts of the mail outbox by delivery state, for /metrics and the rounds page. */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { toNumber } from './db-values.js';

/** sent: delivered; failed: not delivered and refused at least once (retrying or given up); queued: waiting for a first attempt. */
export interface OutboxCounts {
  queued: number;
  sent: number;
  failed: number;
}

/** Counts outbox rows by state in one query. */
export async function outboxCounts(db: Kysely<Database>): Promise<OutboxCounts> {
  const row = await db.selectFrom('outbox').select((eb) => [
    eb.fn.count(eb.case().when('sent_at', 'is not', null).then(1).end()).as('sent'),
    eb.fn.count(eb.case().when(eb.and([eb('sent_at', 'is', null), eb('last_error', 'is not', null)])).then(1).end()).as('failed'),
    eb.fn.count(eb.case().when(eb.and([eb('sent_at', 'is', null), eb('last_error', 'is', null)])).then(1).end()).as('queued'),
  ]).executeTakeFirst();
  return { queued: toNumber(row?.queued) ?? 0, sent: toNumber(row?.sent) ?? 0, failed: toNumber(row?.failed) ?? 0 };
}
