/**
 * The end of a round: every alert change waiting in `notifications` is folded into one grouped
 * mail per recipient and queued in `outbox`, each recipient in its own transaction. The waiting
 * rows are claimed by a conditional update (outbox_id still NULL), so two collectors flushing at
 * once never mail a change twice: the loser rolls back its mail.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { renderGroupedMail, type GroupedChange } from './group-mail.js';
import { enqueueMail } from './outbox.js';
import type { NotificationKind } from './notifications.js';

export interface FlushResult {
  /** Grouped mails queued. */
  mails: number;
  /** Changes they carry. */
  changes: number;
}

const KINDS: readonly NotificationKind[] = ['firing', 'reminder', 'resolved', 'events'];
/** Most changes read per flush; more wait for the next round. */
const MAX_CHANGES = 20_000;
/** Most earlier mails a grouped mail names in References. */
const MAX_REFERENCES = 20;

class ClaimLost extends Error {}

/** Queues one grouped mail per recipient with waiting changes; returns what it queued. */
export async function flushNotifications(db: Kysely<Database>, now: Date): Promise<FlushResult> {
  const waiting = await db
    .selectFrom('notifications')
    .select(['id', 'host_id', 'recipient', 'transition', 'severity', 'summary', 'details', 'thread_id'])
    .where('outbox_id', 'is', null)
    .orderBy('id')
    .limit(MAX_CHANGES)
    .execute();
  const byRecipient = new Map<string, typeof waiting>();
  for (const row of waiting) {
    const rows = byRecipient.get(row.recipient) ?? [];
    rows.push(row);
    byRecipient.set(row.recipient, rows);
  }

  const result: FlushResult = { mails: 0, changes: 0 };
  for (const [recipient, rows] of byRecipient) {
    const ids = rows.map((row) => Number(row.id));
    const changes: GroupedChange[] = rows.map((row) => ({
      hostId: Number(row.host_id),
      transition: asKind(row.transition),
      severity: row.severity,
      summary: row.summary,
      details: row.details,
    }));
    const mail = renderGroupedMail(changes, now);
    try {
      await db.transaction().execute(async (trx) => {
        const answers = await earlierMailsOfThreads(
          trx,
          recipient,
          rows.filter((r) => r.transition !== 'firing').map((r) => r.thread_id),
        );
        const [outboxId] = await enqueueMail(trx, { to: recipient, ...mail, now, inReplyTo: answers });
        if (outboxId === undefined) throw new Error('mail: queuing the grouped mail returned no id');
        let claimed = 0;
        // Chunks keep the IN list within every database's parameter limit.
        for (let i = 0; i < ids.length; i += 500) {
          const update = await trx
            .updateTable('notifications')
            .set({ outbox_id: outboxId })
            .where('id', 'in', ids.slice(i, i + 500))
            .where('outbox_id', 'is', null)
            .executeTakeFirst();
          claimed += Number(update.numUpdatedRows);
        }
        if (claimed !== ids.length) throw new ClaimLost();
      });
    } catch (error) {
      if (error instanceof ClaimLost) continue; // another collector mailed these changes
      throw error;
    }
    result.mails++;
    result.changes += ids.length;
  }
  return result;
}

/**
 * The Message-IDs of the mails that carried the firing of these alert episodes to `recipient`,
 * so a resolution (or reminder) threads under them.
 */
async function earlierMailsOfThreads(db: Kysely<Database>, recipient: string, threads: string[]): Promise<string[]> {
  const unique = [...new Set(threads)].slice(0, MAX_REFERENCES);
  if (unique.length === 0) return [];
  const rows = await db
    .selectFrom('notifications')
    .innerJoin('outbox', 'outbox.id', 'notifications.outbox_id')
    .select('outbox.message_id')
    .where('notifications.recipient', '=', recipient)
    .where('notifications.transition', '=', 'firing')
    .where('notifications.thread_id', 'in', unique)
    .orderBy('outbox.id')
    .execute();
  return [...new Set(rows.flatMap((row) => (row.message_id ? [row.message_id] : [])))].slice(0, MAX_REFERENCES);
}

function asKind(text: string): NotificationKind {
  return KINDS.find((kind) => kind === text) ?? 'firing';
}
