/**
 * Delivery tells the truth, against real databases and a real SMTP server: every try counted,
 * a mail that keeps failing becomes `failed` after a bounded time or too many refusals, and the
 * alerts page, the API's counts and /metrics' counts say so.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drainOutbox } from '../src/notify/drain-outbox.js';
import { enqueueMail } from '../src/notify/outbox.js';
import { smtpTransport } from '../src/notify/smtp-transport.js';
import { renderAlertsPage } from '../src/web/pages/alerts-page.js';
import { listUndeliveredMail } from '../src/web/queries/mail-delivery.js';
import { outboxCounts } from '../src/web/queries/outbox-counts.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { findFreePort, startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe.each(testDialects())('mail delivery status on %s', (dialect) => {
  const database = useMigratedStore(dialect);
  let smtp: SmtpCatcher;

  beforeAll(async () => {
    smtp = await startSmtpCatcher();
  });
  afterAll(async () => {
    await smtp?.stop();
  });
  beforeEach(async () => {
    await database.store.db.deleteFrom('outbox').execute();
  });

  const transportTo = (port: number) =>
    smtpTransport(
      { host: '127.0.0.1', port, secure: false, requireTls: false, tlsVerify: true, from: 'fleetstat@example.org' },
      { timeoutMs: 5000 },
    );

  it('counts every try while the server is down and gives the mail up after the time limit', async () => {
    const { db } = database.store;
    await enqueueMail(db, { to: 'ops@example.org', subject: 'down', body: 'x', now: at(0) });
    const down = transportTo(await findFreePort());
    try {
      for (const minute of [0, 2, 4]) {
        const result = await drainOutbox(db, down, { now: at(minute * 60), giveUpAfterSeconds: 600 });
        expect(result).toMatchObject({ sent: 0, failed: 0, deferred: 1 });
      }
      const [row] = await db.selectFrom('outbox').selectAll().execute();
      expect(row).toMatchObject({ attempts: 0, failed_at: null, sent_at: null });
      expect(Number(row!.tries)).toBe(3);
      expect(await outboxCounts(db)).toEqual({ queued: 0, retrying: 1, sent: 0, failed: 0 });

      const late = await drainOutbox(db, down, { now: at(601), giveUpAfterSeconds: 600 });
      expect(late).toMatchObject({ sent: 0, failed: 1, deferred: 0 });
    } finally {
      down.close?.();
    }
    expect(await outboxCounts(db)).toEqual({ queued: 0, retrying: 0, sent: 0, failed: 1 });
    const [failed] = await listUndeliveredMail(db, 10);
    expect(failed).toMatchObject({ status: 'failed', tries: 3, recipient: 'ops@example.org' });
    expect(failed!.last_error).toMatch(/SMTP server unreachable/);
    const page = renderAlertsPage([], at(700), { counts: await outboxCounts(db), undelivered: [failed!] });
    expect(page).toContain('Delivered 0 · queued 0 · retrying 0 · failed 1');
    expect(page).toMatch(/<tr class="mail-row" data-status="failed">/);
  });

  it('marks a mail failed once refused maxAttempts times, and a delivered one sent', async () => {
    const { db } = database.store;
    smtp.rejectRecipient('nobody@example.org', 550, 'no such mailbox');
    await enqueueMail(db, { to: 'nobody@example.org, ops@example.org', subject: 'refused', body: 'x', now: at(0) });
    const transport = transportTo(smtp.port);
    try {
      const first = await drainOutbox(db, transport, { now: at(0), maxAttempts: 2 });
      expect(first).toMatchObject({ sent: 1, failed: 0, deferred: 1 });
      const second = await drainOutbox(db, transport, { now: at(3600), maxAttempts: 2 });
      expect(second).toMatchObject({ sent: 0, failed: 1, deferred: 0 });
    } finally {
      transport.close?.();
      smtp.acceptRecipient('nobody@example.org');
    }
    expect(await outboxCounts(db)).toEqual({ queued: 0, retrying: 0, sent: 1, failed: 1 });
    const refused = await db
      .selectFrom('outbox')
      .selectAll()
      .where('recipient', '=', 'nobody@example.org')
      .executeTakeFirstOrThrow();
    expect(Number(refused.attempts)).toBe(2);
    expect(Number(refused.tries)).toBe(2);
    expect(refused.failed_at).not.toBeNull();
    expect(refused.last_error).toMatch(/550/);
  });
});
