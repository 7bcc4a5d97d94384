/**
 * The outbox and its drain against a real SMTP server (the catcher) and real databases.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SmtpConfig } from '../src/config/types.js';
import { drainOutbox, retryDelayMs } from '../src/notify/drain-outbox.js';
import type { MailTransport } from '../src/notify/mail-transport.js';
import { enqueueMail, listUnsentMail } from '../src/notify/outbox.js';
import { smtpTransport } from '../src/notify/smtp-transport.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { testDialects, useTestDatabase } from './support/databases.js';
import { findFreePort, startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const MINUTE = 60_000;

function smtpConfigFor(port: number): SmtpConfig {
  return { host: '127.0.0.1', port, secure: false, requireTls: false, tlsVerify: true, from: 'fleetstat@monitor.test' };
}

describe('retry backoff', () => {
  it('doubles from 1 min and caps at 1 h', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelayMs(n) / MINUTE)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });
});

describe.each(testDialects())('outbox on %s', (dialect) => {
  const database = useTestDatabase(dialect);
  let store: Store;
  let smtp: SmtpCatcher;
  let transport: MailTransport;
  const transports: MailTransport[] = [];
  const openTransport = (port: number, options?: Parameters<typeof smtpTransport>[1]) => {
    const created = smtpTransport(smtpConfigFor(port), options);
    transports.push(created);
    return created;
  };

  beforeEach(async () => {
    store = await openStore(database.url);
    await migrate(store);
    await store.db.deleteFrom('outbox').execute();
    smtp = await startSmtpCatcher();
    transport = openTransport(smtp.port);
  });

  afterEach(async () => {
    for (const t of transports.splice(0)) t.close?.();
    await smtp.stop();
    await store.close();
  });

  it('delivers a queued mail with the right headers and body, and marks it sent', async () => {
    const [id] = await enqueueMail(store.db, {
      to: 'ops@example.org',
      subject: 'disk full on web1',
      body: 'Line one\nLine two: 93.2%',
      now: T0,
    });
    const result = await drainOutbox(store.db, transport, { now: T0 });
    expect(result).toMatchObject({ sent: 1, failed: 0, deferred: 0 });

    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.envelope).toEqual({ from: 'fleetstat@monitor.test', to: ['ops@example.org'] });
    expect(mail!.subject).toBe('disk full on web1');
    expect(mail!.header('from')).toBe('fleetstat@monitor.test');
    expect(mail!.header('to')).toBe('ops@example.org');
    expect(mail!.header('content-type')).toMatch(/^text\/plain/);
    expect(mail!.body.trimEnd()).toBe('Line one\nLine two: 93.2%');

    const row = await store.db.selectFrom('outbox').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
    expect(row.sent_at).not.toBeNull();
    expect(new Date(row.sent_at!).getTime()).toBe(T0.getTime());
    expect(row.last_error).toBeNull();
    expect(await drainOutbox(store.db, transport, { now: later(MINUTE) })).toMatchObject({ sent: 0 });
    expect(smtp.messages).toHaveLength(1);
  });

  it('neutralises a subject header injection', async () => {
    await enqueueMail(store.db, {
      to: 'ops@example.org',
      subject: 'host\r\nBcc: evil@x',
      body: 'x\r\nBcc: evil@x',
      now: T0,
    });
    expect((await drainOutbox(store.db, transport, { now: T0 })).sent).toBe(1);
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.envelope.to).toEqual(['ops@example.org']);
    expect(mail!.headers.has('bcc')).toBe(false);
    expect(mail!.subject).toBe('host Bcc: evil@x');
    const headerBlock = mail!.raw.slice(0, mail!.raw.indexOf('\r\n\r\n'));
    expect(headerBlock).not.toMatch(/^Bcc:/im);
    expect(mail!.body).toContain('x\nBcc: evil@x'); // in the body it is just text
  });

  it('rejects a recipient that is not a plain address before queueing anything', async () => {
    await expect(
      enqueueMail(store.db, { to: 'ops@example.org\r\nBcc: evil@x', subject: 's', body: 'b', now: T0 }),
    ).rejects.toThrow(/plain address/);
    expect(await listUnsentMail(store.db)).toHaveLength(0);
  });

  it('keeps mails queued while the SMTP server is down and sends them exactly once when it is back', async () => {
    const port = await findFreePort(); // nothing listens here yet
    const downTransport = openTransport(port, { timeoutMs: 2000 });
    await enqueueMail(store.db, { to: 'a@example.org', subject: 'one', body: '1', now: T0 });
    await enqueueMail(store.db, { to: 'b@example.org', subject: 'two', body: '2', now: T0 });

    const down = await drainOutbox(store.db, downTransport, { now: T0 });
    expect(down).toMatchObject({ sent: 0, failed: 0, deferred: 2 });
    expect(down.lastError).toMatch(/unreachable/);
    const queued = await listUnsentMail(store.db);
    expect(queued).toHaveLength(2);
    expect(queued[0]!.lastError).toMatch(/unreachable.*127\.0\.0\.1/);
    expect(queued[0]!.attempts).toBe(0); // a dead server does not use up the mail's attempts

    const upServer = await startSmtpCatcher({ port });
    try {
      expect(await drainOutbox(store.db, downTransport, { now: later(MINUTE) })).toMatchObject({
        sent: 2,
        deferred: 0,
      });
      expect(await drainOutbox(store.db, downTransport, { now: later(10 * MINUTE) })).toMatchObject({ sent: 0 });
      expect(upServer.messages.map((m) => m.subject).sort()).toEqual(['one', 'two']);
      expect(await listUnsentMail(store.db)).toHaveLength(0);
    } finally {
      downTransport.close?.();
      await upServer.stop();
    }
  });

  it('does not stall on a server that accepts the connection but never answers, and keeps the mail for a working one', async () => {
    smtp.setMode('silent');
    const slow = openTransport(smtp.port, { timeoutMs: 300, deliveryTimeoutMs: 2000 });
    const [id] = await enqueueMail(store.db, {
      to: 'a@example.org',
      subject: 'kept through silence',
      body: 'b',
      now: T0,
    });
    // The drain returns (a stall would end in the test's timeout) and defers the mail.
    const result = await drainOutbox(store.db, slow, { now: T0 });
    expect(result).toMatchObject({ sent: 0, failed: 0, deferred: 1 });
    expect(smtp.connections).toBeGreaterThanOrEqual(1); // the silent server was really reached
    expect(smtp.messages).toHaveLength(0);
    // Still queued, unsent and not given up, waiting for its retry with the reason recorded.
    const [queued, ...others] = await listUnsentMail(store.db);
    expect(others).toEqual([]);
    expect(queued).toMatchObject({ id, subject: 'kept through silence', attempts: 0 });
    expect(queued!.lastError).toMatch(/unreachable/);
    const row = await store.db
      .selectFrom('outbox')
      .select(['sent_at', 'failed_at', 'next_attempt_at'])
      .where('id', '=', id!)
      .executeTakeFirstOrThrow();
    expect(row.sent_at).toBeNull();
    expect(row.failed_at).toBeNull();
    expect(new Date(row.next_attempt_at).getTime()).toBeGreaterThan(T0.getTime());

    // A working server appears: the same mail is delivered, once.
    smtp.setMode('accept');
    expect(await drainOutbox(store.db, slow, { now: later(MINUTE) })).toMatchObject({
      sent: 1,
      failed: 0,
      deferred: 0,
    });
    const [mail] = await smtp.waitForMessages(1);
    expect(mail!.subject).toBe('kept through silence');
    expect(await drainOutbox(store.db, slow, { now: later(10 * MINUTE) })).toMatchObject({ sent: 0 });
    expect(smtp.messages).toHaveLength(1);
    expect(await listUnsentMail(store.db)).toEqual([]);
  });

  it('treats a 421 greeting as a server problem: the mail keeps its attempts and waits', async () => {
    smtp.setMode('refuse');
    await enqueueMail(store.db, { to: 'a@example.org', subject: 's', body: 'b', now: T0 });
    const result = await drainOutbox(store.db, transport, { now: T0 });
    expect(result).toMatchObject({ sent: 0, failed: 0, deferred: 1 });
    const [row] = await listUnsentMail(store.db);
    expect(row).toMatchObject({ attempts: 0 });
    expect(row!.lastError).toMatch(/unreachable.*421/);
    smtp.setMode('accept');
    expect(await drainOutbox(store.db, transport, { now: later(MINUTE) })).toMatchObject({ sent: 1 });
  });

  it('with requireTls, refuses to send over a server without STARTTLS', async () => {
    const strict = smtpTransport({ ...smtpConfigFor(smtp.port), requireTls: true });
    transports.push(strict);
    await enqueueMail(store.db, { to: 'a@example.org', subject: 's', body: 'b', now: T0 });
    const result = await drainOutbox(store.db, strict, { now: T0 });
    expect(result).toMatchObject({ sent: 0, deferred: 1 });
    expect(result.lastError).toMatch(/STARTTLS|TLS/i);
    expect(smtp.messages).toHaveLength(0);
  });

  it('retries a 4xx refusal later, with backoff, and then delivers', async () => {
    smtp.rejectRecipient('busy@example.org', 451, 'try again later');
    await enqueueMail(store.db, { to: 'busy@example.org', subject: 'later', body: 'b', now: T0 });

    expect(await drainOutbox(store.db, transport, { now: T0 })).toMatchObject({ sent: 0, deferred: 1 });
    const [row] = await listUnsentMail(store.db);
    expect(row!.attempts).toBe(1);
    expect(row!.lastError).toMatch(/temporary.*451/);
    expect(row!.nextAttemptAt.getTime()).toBe(later(MINUTE).getTime());

    // Not due yet: nothing is attempted.
    expect(await drainOutbox(store.db, transport, { now: later(MINUTE - 1) })).toEqual({
      sent: 0,
      failed: 0,
      deferred: 0,
    });
    expect(await drainOutbox(store.db, transport, { now: later(MINUTE) })).toMatchObject({ deferred: 1 });
    expect((await listUnsentMail(store.db))[0]!.nextAttemptAt.getTime()).toBe(later(MINUTE + 2 * MINUTE).getTime());

    smtp.acceptRecipient('busy@example.org');
    expect(await drainOutbox(store.db, transport, { now: later(3 * MINUTE) })).toMatchObject({ sent: 1 });
    expect(smtp.messages.map((m) => m.subject)).toEqual(['later']);
  });

  it('a 5xx for one recipient does not block another, and gives up after maxAttempts without deleting', async () => {
    smtp.rejectRecipient('gone@example.org', 550, 'no such user');
    await enqueueMail(store.db, { to: 'gone@example.org, ops@example.org', subject: 'both', body: 'b', now: T0 });

    const first = await drainOutbox(store.db, transport, { now: T0, maxAttempts: 3 });
    expect(first).toMatchObject({ sent: 1, deferred: 1, failed: 0 });
    expect(smtp.messages.map((m) => m.envelope.to)).toEqual([['ops@example.org']]);

    let now = T0;
    for (let attempt = 2; attempt <= 3; attempt++) {
      now = new Date(now.getTime() + retryDelayMs(attempt - 1));
      const result = await drainOutbox(store.db, transport, { now, maxAttempts: 3 });
      expect(result).toMatchObject(attempt === 3 ? { failed: 1, deferred: 0 } : { failed: 0, deferred: 1 });
    }
    const [stuck] = await listUnsentMail(store.db);
    expect(stuck).toMatchObject({ recipient: 'gone@example.org', attempts: 3, sentAt: null });
    expect(stuck!.lastError).toMatch(/permanent.*attempt 3 of 3.*giving up.*550/);

    // Given up: later drains leave it alone, and it stays visible.
    const connectionsBefore = smtp.connections;
    expect(await drainOutbox(store.db, transport, { now: later(24 * 60 * MINUTE), maxAttempts: 3 })).toEqual({
      sent: 0,
      failed: 0,
      deferred: 0,
    });
    expect(smtp.connections).toBe(connectionsBefore);
    expect(await listUnsentMail(store.db)).toHaveLength(1);
  });

  it('sends each mail once when two drains run at the same time from two connections', async () => {
    const count = 12;
    for (let i = 0; i < count; i++) {
      await enqueueMail(store.db, { to: `user${i}@example.org`, subject: `mail ${i}`, body: String(i), now: T0 });
    }
    const other = await openStore(database.url); // a second "process": its own connection(s)
    try {
      const results = await Promise.all([
        drainOutbox(store.db, transport, { now: T0 }),
        drainOutbox(other.db, openTransport(smtp.port), { now: T0 }),
      ]);
      expect(results[0].sent + results[1].sent).toBe(count);
      await smtp.waitForMessages(count);
      await new Promise((resolve) => setTimeout(resolve, 200)); // a duplicate would arrive about now
      const subjects = smtp.messages.map((m) => m.subject);
      expect(subjects).toHaveLength(count);
      expect(new Set(subjects).size).toBe(count);
    } finally {
      await other.close();
    }
  });
});
