/** Drains the webhook notices of the outbox after a round, through the same claim/retry/give-up logic as mail. */
import type { Config } from '../config/types.js';
import type { Store } from '../store/open-store.js';
import { drainOutbox } from '../notify/drain-outbox.js';
import { webhookTransport } from '../notify/webhook-transport.js';
import type { MailTotals } from './deliver-mail.js';

/** Sends what is due among webhook notices; never throws (a receiver that is down keeps its notices queued). */
export async function deliverQueuedWebhooks(
  store: Store,
  config: Pick<Config, 'clients'>,
  now = new Date(),
): Promise<MailTotals> {
  const webhooks = config.clients.flatMap((client) => client.webhooks ?? []);
  const transport = webhookTransport(webhooks);
  const totals = { sent: 0, failed: 0, deferred: 0, lastError: undefined as string | undefined, skipped: false };
  try {
    for (;;) {
      const result = await drainOutbox(store.db, transport, { now, channel: 'webhook' });
      totals.sent += result.sent;
      totals.failed += result.failed;
      totals.deferred += result.deferred;
      totals.lastError = result.lastError ?? totals.lastError;
      // Every row of a batch was tried: refused ones wait for their backoff, so the loop ends.
      if (result.sent + result.failed + result.deferred === 0 || result.sent === 0) break;
    }
    return totals;
  } catch (error) {
    return { ...totals, lastError: (error as Error).message };
  }
}
