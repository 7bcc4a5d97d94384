/**
 * Delivers queued mails from `outbox`. Each mail is first claimed with a conditional UPDATE, so
 * two drains running at once (two processes, one database) never send the same mail twice, and
 * marked sent only after the SMTP server accepted it. Failures are recorded on the row and retried
 * with exponential backoff; nothing is ever deleted.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { oneLine } from '../text/untrusted-text.js';
import {
  classifyDeliveryError,
  isServerFailure,
  type DeliveryFailureKind,
  type MailTransport,
} from './mail-transport.js';

export interface DrainOptions {
  now: Date;
  /** Refused deliveries (4xx/5xx) after which a mail is left unsent with its error. Default 10. */
  maxAttempts?: number;
  /** Most mails handled in one call. Default 100. */
  batch?: number;
  /** How long a claim holds before another drain may take the mail over (a crashed sender). Default 5 min. */
  claimSeconds?: number;
  /** A mail not delivered this long after it was queued is given up (`failed_at` set), whatever the failures were. Default 24 h. */
  giveUpAfterSeconds?: number;
  /** Which rows: `mail` (default) or `webhook`. */
  channel?: 'mail' | 'webhook';
}

export interface DrainResult {
  /** Accepted by the SMTP server in this call. */
  sent: number;
  /** Given up in this call (refused for the last allowed time, or undelivered past the time limit): `failed_at` set, left unsent for good. */
  failed: number;
  /** Not delivered in this call but will be retried: refused with attempts left, or skipped because the server was unreachable. */
  deferred: number;
  /** The last error met, for the round summary. */
  lastError?: string;
}

const MINUTE_MS = 60_000;
const DEFAULT_GIVE_UP_SECONDS = 24 * 3600;
const MAX_BACKOFF_MS = 60 * MINUTE_MS;
const MAX_ERROR_CHARS = 1000;

/** Delay before retrying a mail refused `attempts` times: 1 min, 2, 4, … capped at 1 h. */
export function retryDelayMs(attempts: number): number {
  const exponent = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(MINUTE_MS * 2 ** exponent, MAX_BACKOFF_MS);
}

/**
 * Sends due mails (not sent, next_attempt_at <= now, fewer than maxAttempts refusals) through
 * `transport`. One refused recipient does not block the others. When the server cannot be
 * reached, the remaining mails are left queued for the next call instead of each waiting for
 * its own timeout. Never throws for delivery problems; database errors do propagate.
 */
export async function drainOutbox(
  db: Kysely<Database>,
  transport: MailTransport,
  options: DrainOptions,
): Promise<DrainResult> {
  const { now } = options;
  const maxAttempts = options.maxAttempts ?? 10;
  const claimMs = (options.claimSeconds ?? 300) * 1000;
  const result: DrainResult = { sent: 0, failed: 0, deferred: 0 };

  const giveUpMs = (options.giveUpAfterSeconds ?? DEFAULT_GIVE_UP_SECONDS) * 1000;
  const channel = options.channel ?? 'mail';
  result.failed += await giveUpStale(db, channel, new Date(now.getTime() - giveUpMs), now, maxAttempts);

  const due = await db
    .selectFrom('outbox')
    .select(['id', 'recipient', 'subject', 'body', 'attempts', 'message_id', 'in_reply_to'])
    .where('channel', '=', channel)
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where('attempts', '<', maxAttempts)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(options.batch ?? 100)
    .execute();

  for (const [index, mail] of due.entries()) {
    const attempts = Number(mail.attempts);
    if (!(await claim(db, mail.id, attempts, now, new Date(now.getTime() + claimMs)))) continue;
    try {
      await transport.send({
        to: mail.recipient,
        subject: mail.subject,
        body: mail.body,
        messageId: mail.message_id,
        inReplyTo: mail.in_reply_to ? mail.in_reply_to.split(' ').filter(Boolean) : [],
      });
    } catch (error) {
      const failure = classifyDeliveryError(error);
      const described = describeFailure(channel, failure.message, failure.kind, attempts + 1, maxAttempts);
      result.lastError = described;
      if (isServerFailure(failure.kind)) {
        // The server is down or TLS fails, not this mail: give the attempt back and retry next drain.
        // The claim counted this attempt in `tries`; only refusals count against maxAttempts.
        await release(db, mail.id, {
          attempts,
          nextAttemptAt: new Date(now.getTime() + MINUTE_MS),
          lastError: described,
          failedAt: null,
        });
        result.deferred += due.length - index;
        break;
      }
      const refusals = attempts + 1;
      await release(db, mail.id, {
        attempts: refusals,
        nextAttemptAt: new Date(now.getTime() + retryDelayMs(refusals)),
        lastError: described,
        failedAt: refusals >= maxAttempts ? now : null,
      });
      if (refusals >= maxAttempts) result.failed += 1;
      else result.deferred += 1;
      continue;
    }
    await db.updateTable('outbox').set({ sent_at: now, last_error: null }).where('id', '=', mail.id).execute();
    result.sent += 1;
  }
  return result;
}

/**
 * Takes a mail for this drain: succeeds only if nobody else changed the row since we read it.
 * The claim moves next_attempt_at forward, so a sender that dies mid-delivery only holds the mail
 * until the claim expires.
 */
async function claim(db: Kysely<Database>, id: number, attempts: number, now: Date, until: Date): Promise<boolean> {
  const update = await db
    .updateTable('outbox')
    .set((eb) => ({ next_attempt_at: until, tries: eb('tries', '+', 1) }))
    .where('id', '=', id)
    .where('attempts', '=', attempts)
    .where('sent_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .executeTakeFirst();
  return Number(update.numUpdatedRows) === 1;
}

async function release(
  db: Kysely<Database>,
  id: number,
  next: { attempts: number; nextAttemptAt: Date; lastError: string; failedAt: Date | null },
): Promise<void> {
  await db
    .updateTable('outbox')
    .set({
      attempts: next.attempts,
      next_attempt_at: next.nextAttemptAt,
      last_error: next.lastError,
      failed_at: next.failedAt,
    })
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

// No "mail:" prefix for mail: serve's logger names the component already (no "mail: mail: …").
function describeFailure(
  channel: string,
  message: string,
  kind: DeliveryFailureKind,
  attempt: number,
  maxAttempts: number,
): string {
  const text = oneLine(message, MAX_ERROR_CHARS);
  const prefix = channel === 'mail' ? '' : `${channel}: `;
  if (kind === 'connection')
    return `${prefix}${channel === 'mail' ? 'SMTP server' : 'receiver'} unreachable: ${text}; will retry`;
  if (kind === 'tls')
    return `${prefix}${channel === 'mail' ? 'SMTP' : 'receiver'} TLS failure, nothing was sent: ${text}; will retry`;
  const outcome =
    attempt >= maxAttempts ? `giving up, the ${channel === 'mail' ? 'mail' : 'notice'} stays unsent` : 'will retry';
  return `${prefix}${kind} ${channel === 'mail' ? 'refusal' : 'failure'} (attempt ${attempt} of ${maxAttempts}, ${outcome}): ${text}`;
}

/**
 * Marks as failed every unsent mail queued before `cutoff` (it has waited too long, e.g. the SMTP
 * server has been unreachable all along) or already refused `maxAttempts` times; returns how many.
 */
async function giveUpStale(
  db: Kysely<Database>,
  channel: string,
  cutoff: Date,
  now: Date,
  maxAttempts: number,
): Promise<number> {
  const stale = await db
    .updateTable('outbox')
    .set((eb) => ({
      failed_at: now,
      last_error: eb.fn.coalesce('last_error', eb.val('never delivered')),
    }))
    .where('channel', '=', channel)
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where((eb) => eb.or([eb('created_at', '<', cutoff), eb('attempts', '>=', maxAttempts)]))
    .executeTakeFirst();
  return Number(stale.numUpdatedRows);
}
