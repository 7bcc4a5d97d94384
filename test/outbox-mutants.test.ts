/**
 * The outbox's own logic, pinned where a mutation run (docs/mutation.md) found claims nothing
 * checked: threading ids stored and handed to the transport, how many mails a down server
 * defers, the failure text each channel and kind is reported with, and the reason a mail given
 * up untried carries. The database is a real SQLite file; the transport is a recording one, since
 * what is tested is the drain's bookkeeping, not SMTP (test/notify-outbox.test.ts has the real
 * server).
 */
import { describe, expect, it } from 'vitest';
import { drainOutbox } from '../src/notify/drain-outbox.js';
import {
  MailDeliveryError,
  type DeliveryFailureKind,
  type MailTransport,
  type OutgoingMail,
} from '../src/notify/mail-transport.js';
import { enqueueMail } from '../src/notify/outbox.js';
import { useMigratedStore } from './support/databases.js';

const T0 = new Date('2026-01-05T10:00:00.000Z');

/** Records what it is given; fails the sends listed in `failures` (by call number) with that kind. */
function recordingTransport(
  failures: Record<number, DeliveryFailureKind> = {},
): MailTransport & { sent: OutgoingMail[] } {
  const sent: OutgoingMail[] = [];
  let calls = 0;
  return {
    sent,
    send(mail: OutgoingMail): Promise<void> {
      calls += 1;
      const kind = failures[calls];
      if (kind !== undefined)
        return Promise.reject(new MailDeliveryError(`boom ${calls}`, kind, kind === 'permanent' ? 550 : undefined));
      sent.push(mail);
      return Promise.resolve();
    },
  };
}

describe('outbox bookkeeping', () => {
  const database = useMigratedStore('sqlite');
  const fresh = async () => {
    await database.store.db.deleteFrom('outbox').execute();
    return database.store.db;
  };
  const row = async (id: number) =>
    database.store.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('stores the Message-ID given, or a fresh one, and the ids a mail answers, and hands both to the transport', async () => {
    const db = await fresh();
    const [given] = await enqueueMail(db, {
      to: 'a@example.org',
      subject: 's',
      body: 'b',
      now: T0,
      messageId: 'fixed.1',
      inReplyTo: 'first.0',
    });
    const [listed] = await enqueueMail(db, {
      to: 'a@example.org',
      subject: 's',
      body: 'b',
      now: T0,
      inReplyTo: ['x.1', 'y.2'],
    });
    const [alone] = await enqueueMail(db, { to: 'a@example.org', subject: 's', body: 'b', now: T0 });
    expect(await row(given!)).toMatchObject({ message_id: 'fixed.1', in_reply_to: 'first.0' });
    const [second, third] = [await row(listed!), await row(alone!)];
    expect(second.in_reply_to).toBe('x.1 y.2');
    expect(third.in_reply_to).toBeNull();
    expect(second.message_id).toMatch(/\S/);
    expect(third.message_id).toMatch(/\S/);
    expect(second.message_id).not.toBe(third.message_id);

    const transport = recordingTransport();
    expect(await drainOutbox(db, transport, { now: T0 })).toMatchObject({ sent: 3, deferred: 0, failed: 0 });
    expect(transport.sent.map((m) => [m.messageId, m.inReplyTo])).toEqual([
      ['fixed.1', ['first.0']],
      [second.message_id, ['x.1', 'y.2']],
      [third.message_id, []],
    ]);
  });

  it('defers the mail that met a down server and every one after it, not more', async () => {
    const db = await fresh();
    for (const to of ['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org']) {
      await enqueueMail(db, { to, subject: 's', body: 'b', now: T0 });
    }
    const result = await drainOutbox(db, recordingTransport({ 2: 'connection' }), { now: T0 });
    expect(result).toMatchObject({
      sent: 1,
      deferred: 3,
      failed: 0,
      lastError: 'SMTP server unreachable: boom 2; will retry',
    });
  });

  it('names the failure by channel and kind, and says when it gives up', async () => {
    const cases: Array<{ channel: 'mail' | 'webhook'; kind: DeliveryFailureKind; maxAttempts: number; text: string }> =
      [
        {
          channel: 'mail',
          kind: 'tls',
          maxAttempts: 3,
          text: 'SMTP TLS failure, nothing was sent: boom 1; will retry',
        },
        {
          channel: 'webhook',
          kind: 'connection',
          maxAttempts: 3,
          text: 'webhook: receiver unreachable: boom 1; will retry',
        },
        {
          channel: 'webhook',
          kind: 'tls',
          maxAttempts: 3,
          text: 'webhook: receiver TLS failure, nothing was sent: boom 1; will retry',
        },
        {
          channel: 'mail',
          kind: 'permanent',
          maxAttempts: 3,
          text: 'permanent refusal (attempt 1 of 3, will retry): boom 1',
        },
        {
          channel: 'mail',
          kind: 'permanent',
          maxAttempts: 1,
          text: 'permanent refusal (attempt 1 of 1, giving up, the mail stays unsent): boom 1',
        },
        {
          channel: 'webhook',
          kind: 'temporary',
          maxAttempts: 1,
          text: 'webhook: temporary failure (attempt 1 of 1, giving up, the notice stays unsent): boom 1',
        },
      ];
    for (const { channel, kind, maxAttempts, text } of cases) {
      const db = await fresh();
      const [id] = await enqueueMail(db, { to: 'a@example.org', subject: 's', body: 'b', now: T0 });
      await db.updateTable('outbox').set({ channel }).where('id', '=', id!).execute();
      const result = await drainOutbox(db, recordingTransport({ 1: kind }), { now: T0, channel, maxAttempts });
      expect(result.lastError, `${channel} ${kind}`).toBe(text);
      expect((await row(id!)).last_error, `${channel} ${kind}`).toBe(text);
    }
  });

  it('gives up a mail never tried within the time limit with the reason "never delivered"', async () => {
    const db = await fresh();
    const [id] = await enqueueMail(db, { to: 'a@example.org', subject: 's', body: 'b', now: T0 });
    const later = new Date(T0.getTime() + 2 * 3600_000);
    const result = await drainOutbox(db, recordingTransport(), { now: later, giveUpAfterSeconds: 3600 });
    expect(result).toMatchObject({ sent: 0, failed: 1 });
    expect(await row(id!)).toMatchObject({ sent_at: null, last_error: 'never delivered' });
  });
});
