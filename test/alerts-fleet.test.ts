/**
 * Alerting through a whole round against real parts: a loopback sshd fleet, the real probe,
 * SQLite on disk and a real SMTP server.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverQueuedMail } from '../src/cli/deliver-mail.js';
import { collectRound } from '../src/collect/round.js';
import { loadConfig } from '../src/config/index.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { listAlerts } from '../src/web/queries/host-details.js';
import { writeFleetConfig, type FleetClient } from './support/fleet-config.js';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { findFreePort, startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

describe('alerting over a real round', () => {
  let fleet: SshdFleet;
  let smtp: SmtpCatcher;
  let dir: string;
  let runs = 0;

  beforeAll(async () => {
    [fleet, smtp] = await Promise.all([startFleet(3), startSmtpCatcher()]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-alerts-'));
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), smtp?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a config for `clients` into a fresh directory and database, runs one round, returns the open store. */
  async function runRound(clients: FleetClient[], settings: Record<string, string> = {}) {
    const runDir = join(dir, `run${++runs}`);
    mkdirSync(runDir);
    const databaseUrl = `sqlite:${join(runDir, 'db.sqlite')}`;
    const path = writeFleetConfig(fleet, {
      dir: runDir,
      databaseUrl,
      clients,
      settings,
      smtp: { host: smtp.host, port: smtp.port },
    });
    const config = await loadConfig(path);
    const store = await openStore(config.settings.databaseUrl);
    await migrate(store);
    const summary = await collectRound(config, store);
    return { config, store, summary };
  }

  it('evaluates the rules of a client without mail: the alert fires and shows, nothing is queued', async () => {
    const { store, summary } = await runRound([
      // events-mail="every-run" too: with no address, no events mail either.
      {
        host: fleet.hosts[0]!,
        name: 'nomail',
        alerts: ['<alert type="memory" limit="0%"/>'],
        attributes: { 'events-mail': 'every-run' },
      },
    ]);
    try {
      expect(summary.hostsOk).toBe(1);
      const alerts = await listAlerts(store.db, { limit: 10 });
      expect(alerts).toMatchObject([{ host_name: 'nomail', rule: 'memory', state: 'firing' }]);
      const queued = await store.db.selectFrom('outbox').selectAll().execute();
      expect(queued).toEqual([]);
      expect(await store.db.selectFrom('notifications').select('id').execute()).toEqual([]);
      expect(summary.mailsQueued).toBe(0);
      // No address is not a failure of the alert step: nothing noted, nothing recorded.
      expect(summary.alertNotes).toEqual([]);
      expect(summary.problems).toEqual([]);
      expect(await store.db.selectFrom('host_errors').select('id').execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a fleet-wide crossing in one round sends one grouped mail per recipient; per-change keeps one per host', async () => {
    const memory = '<alert type="memory" limit="0%" severity="critical"/>';
    const mail = 'ops@example.test, dba@example.test';
    const grouped = fleet.hosts.map((host, i) => ({ host, name: `g${i}`, mail, alerts: [memory] }));
    const before = smtp.messages.length;
    const { config, store, summary } = await runRound(grouped);
    try {
      // One notice per host (a change for the grouped mail), two grouped mails.
      expect(summary).toMatchObject({ hostsOk: 3, mailsQueued: 3, groupedMails: 2 });
      const rows = await store.db.selectFrom('outbox').selectAll().execute();
      expect(rows.map((r) => r.recipient).sort()).toEqual(['dba@example.test', 'ops@example.test']);
      expect(rows[0]!.subject).toBe('[fleetstat] 3 changes on 3 hosts: 3 firing (3 critical)');
      expect(await deliverQueuedMail(store, config.smtp)).toMatchObject({ sent: 2, failed: 0 });
      const received = await smtp.waitForMessages(before + 2);
      const ops = received.slice(before).find((m) => m.envelope.to[0] === 'ops@example.test')!;
      expect(ops.body).toMatch(/Firing: +3 {2}\(critical 3\)/);
      for (const name of ['g0', 'g1', 'g2'])
        expect(ops.body).toMatch(new RegExp(`FIRING \\[critical\\]: memory [0-9.]+% > 0% on ${name} \\(`));
      expect(ops.header('auto-submitted')).toBe('auto-generated');
    } finally {
      await store.close();
    }

    const perChange = fleet.hosts.map((host, i) => ({ host, name: `p${i}`, mail, alerts: [memory] }));
    const second = await runRound(perChange, { 'alert-mail': 'per-change' });
    try {
      expect(second.summary).toMatchObject({ groupedMails: 0, mailsQueued: 3 });
      const rows = await second.store.db.selectFrom('outbox').selectAll().execute();
      expect(rows).toHaveLength(6);
    } finally {
      await second.store.close();
    }
  });

  it('events-mail="every-run" mails every run, "no new events" included, inside the grouped mail', async () => {
    const clients: FleetClient[] = [
      { host: fleet.hosts[0]!, name: 'ev', mail: 'sec@example.test', attributes: { 'events-mail': 'every-run' } },
      { host: fleet.hosts[1]!, name: 'quiet', mail: 'sec@example.test' },
    ];
    const { store, summary } = await runRound(clients);
    try {
      expect(summary).toMatchObject({ mailsQueued: 1, groupedMails: 1, alertNotes: [] });
      const changes = await store.db.selectFrom('notifications').selectAll().execute();
      expect(changes.map((c) => [c.rule, c.transition, c.severity])).toEqual([['security-events', 'events', 'info']]);
      expect(changes[0]!.summary).toMatch(/^ev \(127\.[0-9.]+\): no new security events/);
      const [ev] = await store.db.selectFrom('hosts').select('id').where('name', '=', 'ev').execute();
      expect(changes[0]!.thread_id).toMatch(new RegExp(`^events\\.${ev!.id}\\.\\d+$`));
      const rows = await store.db.selectFrom('outbox').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.subject).toMatch(/^\[fleetstat\] ev \(127\.[0-9.]+\): no new security events/);
    } finally {
      await store.close();
    }

    // Per change: the events mail goes straight to the outbox, with no change waiting.
    const perChange = await runRound(clients, { 'alert-mail': 'per-change' });
    try {
      expect(perChange.summary).toMatchObject({ mailsQueued: 1, groupedMails: 0, alertNotes: [] });
      expect(await perChange.store.db.selectFrom('notifications').select('id').execute()).toEqual([]);
      const rows = await perChange.store.db.selectFrom('outbox').select(['recipient', 'subject']).execute();
      expect(rows).toEqual([
        {
          recipient: 'sec@example.test',
          subject: expect.stringMatching(/^\[fleetstat\] ev \(127\.[0-9.]+\): no new security events/),
        },
      ]);
    } finally {
      await perChange.store.close();
    }
  });

  it('inhibition: most of the fleet unreachable in one round sends one "collector cannot reach" notice, not one per host', async () => {
    const downPorts = await Promise.all([1, 2, 3, 4, 5].map(() => findFreePort()));
    const clients = (): FleetClient[] => [
      { host: fleet.hosts[0]!, name: 'up', mail: 'ops@example.test', alerts: ['<alert type="unreachable"/>'] },
      ...downPorts.map((port, i) => ({
        host: { address: '127.0.0.1', port },
        name: `down${i}`,
        mail: 'ops@example.test',
        alerts: ['<alert type="unreachable"/>'],
      })),
    ];
    const inhibited = await runRound(clients(), { 'inhibit-min-hosts': '3', 'connect-timeout': '5' });
    try {
      expect(inhibited.summary).toMatchObject({ hostsOk: 1, hostsFailed: 5, groupedMails: 1, alertNotes: [] });
      const alerts = await inhibited.store.db
        .selectFrom('alerts')
        .select(['state', 'muted'])
        .where('rule', '=', 'unreachable')
        .where('state', '=', 'firing')
        .execute();
      expect(alerts).toHaveLength(5);
      expect(alerts.every((a) => Number(a.muted) === 1)).toBe(true);
      const mails = await inhibited.store.db.selectFrom('outbox').selectAll().execute();
      expect(mails.map((m) => m.subject)).toEqual([
        '[fleetstat] FIRING [critical]: collector cannot reach 5 of 6 hosts',
      ]);
      expect(mails[0]!.body).toMatch(/down4 \(127\.0\.0\.1\): stage connect/);
    } finally {
      await inhibited.store.close();
    }

    const plain = await runRound(clients(), { 'inhibit-share': '0', 'connect-timeout': '5' });
    try {
      const mails = await plain.store.db.selectFrom('outbox').selectAll().execute();
      expect(mails.map((m) => m.subject)).toEqual(['[fleetstat] 5 changes on 5 hosts: 5 firing']);
    } finally {
      await plain.store.close();
    }
  });
});
