/**
 * Fleet-scale alert mail against real databases and a real SMTP server: several rules per type
 * with severities, mounts and clear levels; grouped mail (one per recipient per round) versus
 * one mail per host per change; threading of a resolution under its firing mail.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluateHostAlerts } from '../src/alerts/evaluate-host-alerts.js';
import type { AlertMailMode, AlertRule } from '../src/config/types.js';
import { drainOutbox } from '../src/notify/drain-outbox.js';
import { flushNotifications } from '../src/notify/flush-notifications.js';
import { smtpTransport } from '../src/notify/smtp-transport.js';
import { reportSchema, type Report } from '../src/probe/report.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const RECIPIENTS = 'ops@example.org, dba@example.org, lead@example.org';

function rule(type: AlertRule['type'], limit: number, extra: Partial<AlertRule> = {}): AlertRule {
  return {
    type,
    limit,
    severity: 'warning',
    forSeconds: 0,
    repeatSeconds: 4 * 3600,
    notify: 'on-change',
    line: 7,
    ...extra,
  };
}

function report(memoryPercent: number, disks: Array<[string, number]> = [['/', 10]]): Report {
  return reportSchema.parse({
    schema: 1,
    probe: 'sh',
    collected_at: '2024-05-01T12:00:00Z',
    host: { hostname: 'h', os: 'linux', os_name: 'Debian', kernel: '6.1', arch: 'x86_64' },
    cpu: { percent: 5, cores: 2, interval_ms: 1000, load1: 0.5, load5: 0.5, load15: 0.5 },
    memory: { total_bytes: 100, used_bytes: 50, available_bytes: 50, percent: memoryPercent },
    swap: { total_bytes: 0, used_bytes: 0, percent: 0 },
    uptime_seconds: 10,
    boot_time: '2024-05-01T11:59:50Z',
    process_count: 10,
    disks: disks.map(([mount, used]) => ({
      mount,
      fs: 'ext4',
      device: '/dev/vdb',
      size_bytes: 100,
      used_bytes: used,
      avail_bytes: 100 - used,
      used_percent: used,
    })),
    nics: [],
    users: [],
    events: { readable: false, truncated: false, note: '', items: [] },
    warnings: [],
  });
}

async function addHosts(store: Store, count: number, prefix: string): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const ip = `${prefix}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    await store.db
      .insertInto('hosts')
      .values({
        ip,
        port: 22,
        name: `h${i}`,
        first_seen: T0,
        last_seen: null,
        os: null,
        os_name: null,
        kernel: null,
        arch: null,
        hostname: null,
      })
      .execute();
    const row = await store.db.selectFrom('hosts').select('id').where('ip', '=', ip).executeTakeFirstOrThrow();
    ids.push(Number(row.id));
  }
  return ids;
}

describe.each(testDialects())('fleet alert mail on %s', (dialect) => {
  const database = useMigratedStore(dialect);
  let smtp: SmtpCatcher;

  beforeAll(async () => {
    smtp = await startSmtpCatcher();
  });
  afterAll(async () => {
    await smtp?.stop();
  });
  beforeEach(async () => {
    const { db } = database.store;
    await db.deleteFrom('notifications').execute();
    await db.deleteFrom('outbox').execute();
    await db.deleteFrom('alerts').execute();
    await db.deleteFrom('hosts').execute();
  });

  /** One round: every host measured at `memory`, then the grouped mails queued and delivered. Returns messages received. */
  async function round(
    hostIds: number[],
    memory: number,
    now: Date,
    mailMode: AlertMailMode,
    rules = [rule('memory', 90)],
  ) {
    const before = smtp.messages.length;
    for (const [i, hostId] of hostIds.entries()) {
      await evaluateHostAlerts(database.store.db, {
        hostId,
        hostName: `h${i}`,
        ip: `10.0.0.${i}`,
        mail: RECIPIENTS,
        rules,
        report: report(memory),
        now,
        mailMode,
      });
    }
    await flushNotifications(database.store.db, now);
    const transport = smtpTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      requireTls: false,
      tlsVerify: true,
      from: 'fleetstat@example.org',
    });
    try {
      for (;;) {
        const result = await drainOutbox(database.store.db, transport, { now, batch: 1000 });
        if (result.sent === 0) break;
      }
    } finally {
      transport.close?.();
    }
    return smtp.messages.slice(before);
  }

  it('100 hosts × 3 recipients crossing a limit and resolving: 3 grouped mails per round, threaded', async () => {
    const hosts = await addHosts(database.store, 100, '10.1');
    const firing = await round(hosts, 97, at(0), 'grouped');
    expect(firing).toHaveLength(3);
    expect(firing.map((m) => m.envelope.to[0]).sort()).toEqual([
      'dba@example.org',
      'lead@example.org',
      'ops@example.org',
    ]);
    const first = firing[0]!;
    expect(first.subject).toBe('[fleetstat] 100 changes on 100 hosts: 100 firing');
    expect(first.body).toMatch(/^100 alert changes on 100 hosts/);
    expect(first.body).toMatch(/Firing: +100 {2}\(warning 100\)/);
    expect(first.body).toContain('FIRING [warning]: memory 97.0% > 90% on h99 (10.0.0.99)');
    expect(first.header('auto-submitted')).toBe('auto-generated');
    expect(first.header('message-id')).toMatch(/^<m\.[0-9a-f-]+@example\.org>$/);

    const resolved = await round(hosts, 40, at(60), 'grouped');
    expect(resolved).toHaveLength(3);
    for (const mail of resolved) {
      expect(mail.subject).toBe('[fleetstat] 100 changes on 100 hosts: 100 resolved');
      expect(mail.header('auto-submitted')).toBe('auto-generated');
      const firingMail = firing.find((m) => m.envelope.to[0] === mail.envelope.to[0])!;
      expect(mail.header('in-reply-to')).toBe(firingMail.header('message-id'));
      expect(mail.header('references')).toContain(firingMail.header('message-id'));
    }
    // Nothing is left waiting, and a quiet round mails nothing.
    expect(await round(hosts, 40, at(120), 'grouped')).toHaveLength(0);
  }, 120_000);

  it('alert-mail="per-change" keeps one mail per host per change and recipient', async () => {
    const hosts = await addHosts(database.store, 10, '10.2');
    const firing = await round(hosts, 97, at(0), 'per-change');
    expect(firing).toHaveLength(30);
    const resolved = await round(hosts, 40, at(60), 'per-change');
    expect(resolved).toHaveLength(30);
    // Each resolution answers its own firing mail, whose Message-ID is the alert episode's.
    for (const mail of resolved) {
      const twin = firing.find(
        (m) => m.envelope.to[0] === mail.envelope.to[0] && m.subject!.endsWith(mail.subject!.split(' on ').pop()!),
      )!;
      expect(mail.header('in-reply-to')).toBe(twin.header('message-id'));
      expect(twin.header('message-id')).toMatch(/^<alert\.\d+\.[0-9a-f]{12}\.\d+@example\.org>$/);
    }
  }, 120_000);

  it("two collectors flushing at once queue each recipient's grouped mail once", async () => {
    const hosts = await addHosts(database.store, 10, '10.4');
    for (const [i, hostId] of hosts.entries()) {
      await evaluateHostAlerts(database.store.db, {
        hostId,
        hostName: `h${i}`,
        ip: `10.4.0.${i}`,
        mail: RECIPIENTS,
        rules: [rule('memory', 90)],
        report: report(97),
        now: at(0),
        mailMode: 'grouped',
      });
    }
    const second = await openStore(database.url);
    try {
      const results = await Promise.all([
        flushNotifications(database.store.db, at(1)),
        flushNotifications(second.db, at(1)),
      ]);
      expect(results[0].mails + results[1].mails).toBe(3);
      expect(results[0].changes + results[1].changes).toBe(30);
    } finally {
      await second.close();
    }
    const rows = await database.store.db.selectFrom('outbox').select('recipient').execute();
    expect(rows.map((r) => r.recipient).sort()).toEqual(['dba@example.org', 'lead@example.org', 'ops@example.org']);
    const waiting = await database.store.db
      .selectFrom('notifications')
      .select('id')
      .where('outbox_id', 'is', null)
      .execute();
    expect(waiting).toEqual([]);
  });

  it('a warning and a critical rule of one type keep separate states, severities and mails', async () => {
    const [host] = await addHosts(database.store, 1, '10.3');
    const rules = [
      rule('memory', 80),
      rule('memory', 95, { severity: 'critical' }),
      rule('disk', 50, { mount: '/var', clearLimit: 40 }),
    ];
    const evaluate = (memory: number, disks: Array<[string, number]>, now: Date) =>
      evaluateHostAlerts(database.store.db, {
        hostId: host!,
        hostName: 'db',
        ip: '10.3.0.1',
        mail: 'ops@example.org',
        rules,
        report: report(memory, disks),
        now,
        mailMode: 'per-change',
      });

    const warned = await evaluate(
      90,
      [
        ['/', 99],
        ['/var', 45],
      ],
      at(0),
    );
    expect(warned.map((m) => [m.key, m.severity, m.transition])).toEqual([['memory', 'warning', 'firing']]);
    const critical = await evaluate(
      97,
      [
        ['/', 99],
        ['/var', 55],
      ],
      at(60),
    );
    expect(critical.map((m) => [m.key, m.severity, m.transition])).toEqual([
      ['memory:critical', 'critical', 'firing'],
      ['disk@/var', 'warning', 'firing'],
    ]);
    expect(critical[0]!.subject).toBe('[fleetstat] FIRING [critical]: memory 97.0% > 95% on db (10.3.0.1)');
    expect(critical[1]!.subject).toBe('[fleetstat] FIRING [warning]: disk /var 55.0% > 50% on db (10.3.0.1)');
    // /var at 45 %: below the limit but above its clear level, so it keeps firing (no flap).
    const hovering = await evaluate(
      90,
      [
        ['/', 99],
        ['/var', 45],
      ],
      at(120),
    );
    expect(hovering.map((m) => [m.key, m.transition])).toEqual([['memory:critical', 'resolved']]);
    const cleared = await evaluate(
      50,
      [
        ['/', 99],
        ['/var', 40],
      ],
      at(180),
    );
    expect(cleared.map((m) => [m.key, m.transition])).toEqual([
      ['memory', 'resolved'],
      ['disk@/var', 'resolved'],
    ]);
    expect(cleared[1]!.subject).toBe('[fleetstat] RESOLVED [warning]: disk /var 40.0% <= 40% on db (10.3.0.1)');

    const rows = await database.store.db
      .selectFrom('alerts')
      .select(['rule', 'severity', 'mount', 'state'])
      .where('host_id', '=', host!)
      .orderBy('rule')
      .execute();
    expect(rows).toEqual([
      { rule: 'disk@/var', severity: 'warning', mount: '/var', state: 'ok' },
      { rule: 'memory', severity: 'warning', mount: null, state: 'ok' },
      { rule: 'memory:critical', severity: 'critical', mount: null, state: 'ok' },
    ]);
  });
});
