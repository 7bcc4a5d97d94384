/**
 * Queues webhook notices in the durable outbox (channel `webhook`): one row per webhook and
 * notice, in the caller's transaction, delivered by the same drain as mail (webhook-transport.ts).
 */
import type { Kysely } from 'kysely';
import type { WebhookConfig } from '../config/types.js';
import type { Database } from '../store/schema.js';
import { sanitizeSubject } from './mail-text.js';
import { newMessageLocalPart } from './mail-threading.js';
import { renderWebhookPayload, type WebhookNotice } from './webhook-payload.js';

/** Queues `notice` for each of `webhooks`; returns how many rows were queued. */
export async function enqueueWebhooks(
  db: Kysely<Database>,
  webhooks: readonly WebhookConfig[],
  notice: WebhookNotice,
): Promise<number> {
  for (const webhook of webhooks) {
    await db
      .insertInto('outbox')
      .values({
        channel: 'webhook',
        recipient: webhook.url,
        subject: sanitizeSubject(notice.headline),
        body: renderWebhookPayload(webhook.format, notice),
        created_at: notice.at,
        attempts: 0,
        next_attempt_at: notice.at,
        sent_at: null,
        last_error: null,
        message_id: newMessageLocalPart(),
      })
      .execute();
  }
  return webhooks.length;
}
