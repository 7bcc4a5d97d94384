/**
 * Mail under faults, through the real CLI: the SMTP server is down during a round (mails stay in
 * the outbox), then back for the next round (each mail sent exactly once, never again), and a
 * 5xx for one recipient does not block the others.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { closedPort, type FaultEndpoint } from './support/fault-servers.js';
import { fleetstat } from './support/cli.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { findFreePort, startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

describe('SMTP down during a round, then back', () => {
  let fleet: FaultFleet;
  let down: FaultEndpoint;
  let smtp: SmtpCatcher | undefined;
  let dir: string;

  beforeAll(async () => {
    [fleet, down] = await Promise.all([startFaultFleet(3, { firstIndex: 100 }), closedPort('127.0.9.10')]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-mail-'));
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps mails queued while SMTP is down and sends each exactly once when it is back', async () => {
    const smtpPort = await findFreePort(); // nothing listens there during the first round
    const databaseUrl = `sqlite:${join(dir, 'mail.sqlite')}`;
    const memory = '<alert type="memory" limit="0%"/>';
    const [a, b, c] = fleet.hosts;
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl,
      smtp: { host: '127.0.0.1', port: smtpPort },
      settings: { 'connect-timeout': '2', 'spool-dir': join(dir, 'spool') },
      clients: [
        { host: a!, auth: 'key', name: 'alpha', mail: 'alpha@example.test', alerts: [memory] },
        { host: b!, auth: 'key', name: 'beta', mail: 'beta@example.test', alerts: [memory] },
        { host: c!, auth: 'key', name: 'gamma', mail: 'refused@example.test', alerts: [memory] },
        { host: down, auth: 'key', name: 'down', mail: 'alpha@example.test', alerts: ['<alert type="unreachable"/>'] },
      ],
    });

    const first = await fleetstat(['collect', '--config', config, '--json']);
    expect(first.code).toBe(1); // one host down
    const round1 = JSON.parse(first.stdout);
    // Grouped by recipient: alpha's two changes (memory, unreachable) travel in one mail.
    expect(round1).toMatchObject({ hosts_ok: 3, hosts_failed: 1, mail: { sent: 0, failed: 0, deferred: 3 } });
    expect(round1.mail.lastError).toMatch(/SMTP server unreachable/);

    const store = await openStore(databaseUrl);
    try {
      const queued = await store.db.selectFrom('outbox').selectAll().execute();
      expect(queued).toHaveLength(3);
      expect(queued.every((m) => m.sent_at === null && Number(m.attempts) === 0)).toBe(true);
      // A minute passes (an unreachable server is retried after one): make the retry due now.
      await store.db
        .updateTable('outbox')
        .set({ next_attempt_at: new Date(Date.now() - 1000) })
        .execute();
    } finally {
      await store.close();
    }

    smtp = await startSmtpCatcher({ port: smtpPort });
    smtp.rejectRecipient('refused@example.test', 550, 'no such mailbox');
    const second = await fleetstat(['collect', '--config', config, '--json']);
    const round2 = JSON.parse(second.stdout);
    // Alerts still firing queue nothing new; the backlog goes out; the 5xx one waits alone.
    expect(round2).toMatchObject({ hosts_ok: 3, mail: { sent: 2, failed: 0, deferred: 1 } });
    expect(round2.mail.lastError).toMatch(/550/);

    const third = await fleetstat(['collect', '--config', config, '--json']);
    expect(JSON.parse(third.stdout)).toMatchObject({ mail: { sent: 0 } });

    const received = smtp.messages.map((m) => `${m.envelope.to.join(',')} ${m.subject}`).sort();
    expect(received).toHaveLength(2);
    expect(new Set(received).size).toBe(2); // exactly once each
    expect(received.filter((r) => r.startsWith('alpha@'))).toEqual([
      'alpha@example.test [fleetstat] 2 changes on 2 hosts: 2 firing',
    ]); // memory + unreachable
    expect(received.filter((r) => r.startsWith('beta@'))).toHaveLength(1);
    expect(received.some((r) => r.startsWith('refused@'))).toBe(false);

    const after = await openStore(databaseUrl);
    try {
      const rows = await after.db.selectFrom('outbox').selectAll().orderBy('id').execute();
      expect(rows).toHaveLength(3); // nothing lost, nothing duplicated
      const refused = rows.find((r) => r.recipient === 'refused@example.test')!;
      expect(refused.sent_at).toBeNull();
      expect(Number(refused.attempts)).toBe(1);
      expect(refused.last_error).toMatch(/550.*no such mailbox|no such mailbox.*550/);
      expect(rows.filter((r) => r.sent_at !== null)).toHaveLength(2);
    } finally {
      await after.close();
    }
  });
});
