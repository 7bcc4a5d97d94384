/**
 * Alert changes waiting for the round's grouped mail (table `notifications`). A change is
 * stored in the same transaction as the state change that caused it; the end of the round
 * (flush-notifications.ts) folds every waiting change of one recipient into one mail.
 */
import type { Kysely } from 'kysely';
import { oneLine } from '../text/untrusted-text.js';
import { insertReturningId } from '../store/dialect-adapter.js';
import type { Database } from '../store/schema.js';
import { sanitizeBody } from './mail-text.js';

/** What kind of change a notification reports. `events`: new security events. */
export type NotificationKind = 'firing' | 'reminder' | 'resolved' | 'events';

export interface NewNotification {
  hostId: number;
  recipients: readonly string[];
  /** The rule key (alerts.rule), or `security-events`. */
  rule: string;
  severity: string;
  transition: NotificationKind;
  /** One line for the summary at the top of the grouped mail. */
  summary: string;
  /** The full text of the change. */
  details: string;
  /** The alert episode, for threading (mail-threading.ts). */
  threadId: string;
  now: Date;
}

/** Stores one waiting change per recipient and returns the row ids. Pass a transaction as `db`. */
export async function enqueueNotification(db: Kysely<Database>, change: NewNotification): Promise<number[]> {
  const ids: number[] = [];
  for (const recipient of change.recipients) {
    ids.push(
      await insertReturningId(db, 'notifications', {
        host_id: change.hostId,
        recipient,
        rule: change.rule,
        severity: change.severity,
        transition: change.transition,
        summary: oneLine(change.summary, 300),
        details: sanitizeBody(change.details),
        thread_id: change.threadId,
        created_at: change.now,
        outbox_id: null,
      }),
    );
  }
  return ids;
}
