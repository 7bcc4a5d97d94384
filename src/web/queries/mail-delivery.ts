/**
 * What became of alert mail, for the alerts page, the API and /metrics: the mails not delivered
 * (retrying or failed for good), with their tries and last error. "Delivered" means the SMTP
 * server accepted the mail (`sent_at`), never merely queued.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { toIso } from './db-values.js';

/** One undelivered mail. `failed`: given up (`failed_at`); `retrying`: refused or unreachable so far, still tried. */
export interface UndeliveredMail {
  id: number;
  /** `mail`, or `webhook` (then recipient is the receiver's scheme, host and port only). */
  channel: string;
  recipient: string;
  subject: string;
  status: 'retrying' | 'failed';
  created_at: string | null;
  tries: number;
  attempts: number;
  failed_at: string | null;
  last_error: string | null;
}

/** The newest undelivered mails that met an error (failed first), at most `limit`. */
export async function listUndeliveredMail(db: Kysely<Database>, limit: number): Promise<UndeliveredMail[]> {
  const rows = await db
    .selectFrom('outbox')
    .select(['id', 'channel', 'recipient', 'subject', 'created_at', 'tries', 'attempts', 'failed_at', 'last_error'])
    .where('sent_at', 'is', null)
    .where((eb) => eb.or([eb('failed_at', 'is not', null), eb('last_error', 'is not', null)]))
    .orderBy((eb) => eb.case().when('failed_at', 'is not', null).then(0).else(1).end())
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    channel: r.channel,
    recipient: r.channel === 'webhook' ? redactUrl(r.recipient) : r.recipient,
    subject: r.subject,
    status: r.failed_at === null ? 'retrying' : 'failed',
    created_at: toIso(r.created_at),
    tries: Number(r.tries),
    attempts: Number(r.attempts),
    failed_at: toIso(r.failed_at),
    last_error: r.last_error,
  }));
}

/** Webhook URLs often carry their secret in the path (chat webhooks): show scheme, host and port only. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/…`;
  } catch {
    return 'webhook';
  }
}
