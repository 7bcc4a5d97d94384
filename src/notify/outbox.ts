/**
 * The durable mail outbox (table `outbox`): a mail is queued in the same transaction as the
 * state change that caused it, and a separate drain delivers it. One row per recipient, so one
 * refused address never holds back the others.
 */
import type { Kysely } from 'kysely';
import { insertReturningId } from '../store/dialect-adapter.js';
import type { Database } from '../store/schema.js';
import { parseRecipients, sanitizeBody, sanitizeSubject } from './mail-text.js';
import { newMessageLocalPart } from './mail-threading.js';

export interface QueuedMail {
  /** One address, or several separated by commas, semicolons or spaces, or a list. */
  to: string | readonly string[];
  subject: string;
  body: string;
  now: Date;
  /** Local part of the Message-ID (see mail-threading.ts); a fresh one by default. */
  messageId?: string;
  /** Local parts of the Message-IDs this mail answers (In-Reply-To is the first, References all). */
  inReplyTo?: string | readonly string[];
}

/**
 * Queues one mail per recipient in `outbox`, due at once, and returns the new row ids.
 * Subject and body are sanitised here too, so every mail, whoever rendered it, is plain and
 * header-safe. Throws if a recipient is not a plain address. Pass a transaction as `db` to queue
 * atomically with other writes.
 */
export async function enqueueMail(db: Kysely<Database>, mail: QueuedMail): Promise<number[]> {
  const recipients = parseRecipients(mail.to);
  const subject = sanitizeSubject(mail.subject);
  const body = sanitizeBody(mail.body);
  const ids: number[] = [];
  const messageId = mail.messageId ?? newMessageLocalPart();
  const answers = typeof mail.inReplyTo === 'string' ? [mail.inReplyTo] : [...(mail.inReplyTo ?? [])];
  for (const recipient of recipients) {
    const row = {
      message_id: messageId,
      in_reply_to: answers.length > 0 ? answers.join(' ') : null,
      recipient,
      subject,
      body,
      created_at: mail.now,
      attempts: 0,
      next_attempt_at: mail.now,
      sent_at: null,
      last_error: null,
    };
    ids.push(await insertReturningId(db, 'outbox', row));
  }
  return ids;
}

export interface OutboxRow {
  id: number;
  recipient: string;
  subject: string;
  body: string;
  createdAt: Date;
  attempts: number;
  nextAttemptAt: Date;
  sentAt: Date | null;
  lastError: string | null;
}

/** Lists mails that are not sent yet (queued, retrying or given up), oldest first, for status pages and tests. */
export async function listUnsentMail(db: Kysely<Database>, limit = 100): Promise<OutboxRow[]> {
  const rows = await db
    .selectFrom('outbox')
    .selectAll()
    .where('sent_at', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: Number(row.id),
    recipient: row.recipient,
    subject: row.subject,
    body: row.body,
    createdAt: new Date(row.created_at),
    attempts: Number(row.attempts),
    nextAttemptAt: new Date(row.next_attempt_at),
    sentAt: row.sent_at === null ? null : new Date(row.sent_at),
    lastError: row.last_error,
  }));
}
