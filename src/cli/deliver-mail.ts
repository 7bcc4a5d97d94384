/** Drains the mail outbox over the configured SMTP server after a round. */
import type { SmtpConfig } from '../config/types.js';
import type { Store } from '../store/open-store.js';
import { drainOutbox } from '../notify/drain-outbox.js';
import { smtpTransport } from '../notify/smtp-transport.js';

export interface MailTotals {
  sent: number;
  failed: number;
  deferred: number;
  lastError?: string;
  /** No SMTP server is configured: mails wait in the outbox. */
  skipped: boolean;
}

/** Sends what is due in the outbox; never throws (a down SMTP server keeps mails queued). */
export async function deliverQueuedMail(
  store: Store,
  smtp: SmtpConfig | undefined,
  now = new Date(),
): Promise<MailTotals> {
  if (!smtp) return { sent: 0, failed: 0, deferred: 0, skipped: true };
  const transport = smtpTransport(smtp);
  try {
    const totals = { sent: 0, failed: 0, deferred: 0, lastError: undefined as string | undefined };
    // Drain in batches until nothing more is due, so a large backlog goes out in one run.
    for (;;) {
      const result = await drainOutbox(store.db, transport, { now });
      totals.sent += result.sent;
      totals.failed += result.failed;
      totals.deferred += result.deferred;
      totals.lastError = result.lastError ?? totals.lastError;
      if (result.sent + result.failed + result.deferred === 0 || result.deferred > 0) break;
    }
    return { ...totals, skipped: false };
  } catch (error) {
    return { sent: 0, failed: 0, deferred: 0, lastError: (error as Error).message, skipped: false };
  } finally {
    transport.close?.();
  }
}
