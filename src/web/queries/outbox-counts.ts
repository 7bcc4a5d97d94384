/** Counts of the mail outbox by delivery state, for /metrics and the rounds page. */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { toNumber } from './db-values.js';

/**
 * sent: delivered (accepted by the SMTP server); failed: given up for good (`failed_at`);
 * retrying: not delivered, met an error, still being tried; queued: waiting for a first try.
 */
export interface OutboxCounts {
  queued: number;
  retrying: number;
  sent: number;
  failed: number;
}

/** Counts outbox rows by state in one query. */
export async function outboxCounts(db: Kysely<Database>): Promise<OutboxCounts> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => [
      eb.fn.count(eb.case().when('sent_at', 'is not', null).then(1).end()).as('sent'),
      eb.fn
        .count(
          eb
            .case()
            .when(eb.and([eb('sent_at', 'is', null), eb('failed_at', 'is not', null)]))
            .then(1)
            .end(),
        )
        .as('failed'),
      eb.fn
        .count(
          eb
            .case()
            .when(eb.and([eb('sent_at', 'is', null), eb('failed_at', 'is', null), eb('last_error', 'is not', null)]))
            .then(1)
            .end(),
        )
        .as('retrying'),
      eb.fn
        .count(
          eb
            .case()
            .when(eb.and([eb('sent_at', 'is', null), eb('failed_at', 'is', null), eb('last_error', 'is', null)]))
            .then(1)
            .end(),
        )
        .as('queued'),
    ])
    .executeTakeFirst();
  return {
    queued: toNumber(row?.queued) ?? 0,
    retrying: toNumber(row?.retrying) ?? 0,
    sent: toNumber(row?.sent) ?? 0,
    failed: toNumber(row?.failed) ?? 0,
  };
}
