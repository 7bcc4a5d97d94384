/**
 * Silences and maintenance windows: the pure matchers, the CLI against a real database, and
 * held notices in evaluateHostAlerts against every real database (no mail while silenced, no
 * resolution for an alert silenced while it resolved, a late firing mail once a silence ends).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { alertHolds } from '../src/alerts/alert-holds.js';
import { decideNotice, evaluateHostAlerts } from '../src/alerts/evaluate-host-alerts.js';
import { inMaintenance, type MaintenanceWindow } from '../src/config/maintenance-window.js';
import { globMatches, silenceCovers } from '../src/alerts/silence-match.js';
import { activeSilences, addSilence, expireSilence, listSilences } from '../src/alerts/silence-store.js';
import { analyzeConfig, formatIssue, parseConfig } from '../src/config/index.js';
import type { AlertRule } from '../src/config/types.js';
import { reportSchema, type Report } from '../src/probe/report.js';
import { openStore } from '../src/store/open-store.js';
import { renderAlertsPage } from '../src/web/pages/alerts-page.js';
import { listAlerts } from '../src/web/queries/host-details.js';
import { fleetstat } from './support/cli.js';
import { testDialects, useMigratedStore } from './support/databases.js';

const T0 = new Date('2026-11-29T01:30:00.000Z'); // a Sunday
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const memoryRule: AlertRule = {
  type: 'memory',
  limit: 90,
  severity: 'warning',
  forSeconds: 0,
  repeatSeconds: 4 * 3600,
  notify: 'on-change',
  line: 5,
};

function report(memoryPercent: number): Report {
  return reportSchema.parse({
    schema: 1,
    probe: 'sh',
    collected_at: '2026-11-29T01:30:00Z',
    host: { hostname: 'h', os: 'linux', os_name: 'Debian', kernel: '6.1', arch: 'x86_64' },
    cpu: { percent: 5, cores: 2, interval_ms: 1000, load1: 0.5, load5: 0.5, load15: 0.5 },
    memory: { total_bytes: 100, used_bytes: 50, available_bytes: 50, percent: memoryPercent },
    swap: { total_bytes: 0, used_bytes: 0, percent: 0 },
    uptime_seconds: 10,
    boot_time: '2026-11-29T01:00:00Z',
    process_count: 10,
    disks: [],
    nics: [],
    users: [],
    events: { readable: false, truncated: false, note: '', items: [] },
    warnings: [],
  });
}

describe('matching', () => {
  it('globs match the whole name, case-insensitively, with * and ?', () => {
    expect(globMatches('web*', 'web12')).toBe(true);
    expect(globMatches('web*', 'db-web1')).toBe(false);
    expect(globMatches('10.0.1.?', '10.0.1.7')).toBe(true);
    expect(globMatches('10.0.1.?', '10.0.1.17')).toBe(false);
    expect(globMatches('WEB.corp', 'web.corp')).toBe(true);
    expect(globMatches('web.corp', 'webxcorp')).toBe(false); // a dot is a dot
  });

  it('a silence covers its hosts and rule only between its start and end', () => {
    const silence = { id: 1, hostPattern: 'web*', rule: 'memory', startsAt: at(0), endsAt: at(3600) };
    const target = { hostName: 'web1', ip: '10.0.0.1', ruleKey: 'memory:critical', ruleType: 'memory' };
    expect(silenceCovers(silence, target, at(0))).toBe(true);
    expect(silenceCovers(silence, target, at(3600))).toBe(false);
    expect(silenceCovers(silence, target, at(-1))).toBe(false);
    expect(silenceCovers(silence, { ...target, ruleKey: 'cpu', ruleType: 'cpu' }, at(1))).toBe(false);
    expect(silenceCovers({ ...silence, hostPattern: '10.0.0.*' }, target, at(1))).toBe(true);
    expect(silenceCovers({ ...silence, rule: 'memory:critical' }, { ...target, ruleKey: 'memory' }, at(1))).toBe(false);
  });

  it('maintenance windows recur weekly, in UTC, also across midnight', () => {
    const sunday: MaintenanceWindow = { days: [0], fromMinute: 60, toMinute: 180, line: 9 }; // Sun 01:00–03:00
    expect(inMaintenance(sunday, T0)).toBe(true);
    expect(inMaintenance(sunday, at(90 * 60))).toBe(false); // 03:00 is the end
    expect(inMaintenance(sunday, new Date('2026-12-06T02:59:00Z'))).toBe(true); // next Sunday
    expect(inMaintenance(sunday, new Date('2026-11-30T02:00:00Z'))).toBe(false); // Monday
    const night: MaintenanceWindow = { days: [6], fromMinute: 23 * 60, toMinute: 120, line: 9 }; // Sat 23:00 – Sun 02:00
    expect(inMaintenance(night, new Date('2026-11-28T23:30:00Z'))).toBe(true);
    expect(inMaintenance(night, T0)).toBe(true);
    expect(inMaintenance(night, new Date('2026-11-29T02:00:00Z'))).toBe(false);
    expect(inMaintenance(night, new Date('2026-11-29T23:30:00Z'))).toBe(false);
  });

  it('reads <maintenance> in a client and reports a bad one on its line', () => {
    const xml = (m: string) =>
      `<clients>\n<client ip="10.0.0.5" username="ops" agent="true">\n  ${m}\n</client>\n</clients>`;
    const config = parseConfig(xml('<maintenance every="sat,sun" from="23:00" to="02:00" rule="disk"/>'), '/c.xml');
    expect(config.clients[0]!.maintenance).toEqual([
      { days: [6, 0], fromMinute: 1380, toMinute: 120, rule: 'disk', line: 3 },
    ]);
    const errors = (m: string) =>
      analyzeConfig(xml(m), '/c.xml', { env: {} })
        .issues.filter((i) => i.severity === 'error')
        .map(formatIssue);
    expect(errors('<maintenance every="sunday" from="02:00" to="04:00"/>')).toEqual([
      '/c.xml:3: maintenance every "sunday" is not "day" or a comma-separated list of sun, mon, tue, wed, thu, fri, sat',
    ]);
    expect(errors('<maintenance every="day" from="2am" to="04:00"/>')).toEqual([
      '/c.xml:3: maintenance from "2am" is not a UTC time of day like 02:00 or 23:30',
    ]);
    expect(errors('<maintenance every="day" from="04:00"/>')).toEqual(['/c.xml:3: maintenance is missing to']);
  });

  it('holds a notice by inhibition first, then a silence, then a maintenance window', () => {
    const client = {
      name: 'web1',
      ip: '10.0.0.1',
      maintenance: [{ days: [0], fromMinute: 60, toMinute: 180, line: 9 }],
    };
    const silence = { id: 4, hostPattern: 'web1', startsAt: at(0), endsAt: at(60) };
    expect(alertHolds(client, [silence], at(1))({ key: 'memory', type: 'memory' })).toBe('silence 4');
    expect(alertHolds(client, [silence], at(120))({ key: 'memory', type: 'memory' })).toBe(
      'maintenance window (config line 9)',
    );
    expect(alertHolds(client, [], at(3 * 3600))({ key: 'memory', type: 'memory' })).toBeUndefined();
    expect(
      alertHolds(
        client,
        [silence],
        at(1),
        'collector cannot reach 9 of 10 hosts',
      )({ key: 'unreachable', type: 'unreachable' }),
    ).toBe('collector cannot reach 9 of 10 hosts');
  });

  it('decides what a held, muted or plain transition sends', () => {
    expect(decideNotice('firing', 'firing', false, 'silence 1')).toEqual({
      notice: 'held',
      heldBy: 'silence 1',
      muted: true,
    });
    expect(decideNotice('reminder', 'firing', false, 'silence 1')).toEqual({
      notice: 'held',
      heldBy: 'silence 1',
      muted: false,
    });
    expect(decideNotice('resolved', 'ok', false, 'silence 1')).toEqual({
      notice: 'held',
      heldBy: 'silence 1',
      muted: false,
    });
    expect(decideNotice('resolved', 'ok', true, undefined)).toEqual({
      notice: 'held',
      heldBy: 'its firing was not mailed',
      muted: false,
    });
    expect(decideNotice('none', 'firing', true, undefined)).toEqual({ notice: 'firing', muted: false });
    expect(decideNotice('resolved', 'ok', false, undefined)).toEqual({ notice: 'resolved', muted: false });
  });
});

describe.each(testDialects())('silences on %s', (dialect) => {
  const database = useMigratedStore(dialect);
  let hostId: number;

  beforeEach(async () => {
    const { db } = database.store;
    for (const table of ['silences', 'notifications', 'outbox', 'alerts', 'hosts'] as const)
      await db.deleteFrom(table).execute();
    await db
      .insertInto('hosts')
      .values({
        ip: '10.0.0.1',
        port: 22,
        name: 'web1',
        first_seen: T0,
        last_seen: null,
        os: null,
        os_name: null,
        kernel: null,
        arch: null,
        hostname: null,
      })
      .execute();
    hostId = Number((await db.selectFrom('hosts').select('id').executeTakeFirstOrThrow()).id);
  });

  const evaluate = async (memory: number, now: Date) => {
    const silences = await activeSilences(database.store.db, now);
    return evaluateHostAlerts(database.store.db, {
      hostId,
      hostName: 'web1',
      ip: '10.0.0.1',
      mail: 'ops@example.org',
      rules: [memoryRule],
      report: report(memory),
      now,
      mailMode: 'per-change',
      mutedBy: alertHolds({ name: 'web1', ip: '10.0.0.1' }, silences, now),
    });
  };
  const subjects = async () =>
    (await database.store.db.selectFrom('outbox').select('subject').orderBy('id').execute()).map(
      (r) => r.subject.split(':')[0],
    );

  it('holds the firing while silenced, shows the alert as firing and muted, mails it once the silence ends', async () => {
    const { db } = database.store;
    const id = await addSilence(db, {
      hostPattern: 'web*',
      startsAt: at(0),
      endsAt: at(3600),
      author: 'ann',
      comment: 'reboot',
      now: at(0),
    });
    const held = await evaluate(95, at(60));
    expect(held).toMatchObject([{ transition: 'firing', heldBy: `silence ${id}`, outboxIds: [] }]);
    expect(await subjects()).toEqual([]);
    const [alert] = await listAlerts(db, { limit: 10 });
    expect(alert).toMatchObject({ state: 'firing', muted: true });
    expect(
      renderAlertsPage([alert!], at(60), {
        counts: { queued: 0, retrying: 0, sent: 0, failed: 0 },
        undelivered: [],
        silences: await listSilences(db, at(60)),
      }),
    ).toMatch(/muted<\/span>[\s\S]*<tr class="silence-row" data-active="true">[\s\S]*reboot/);

    expect(await expireSilence(db, id, at(120))).toBe(true);
    expect(await expireSilence(db, id, at(130))).toBe(false);
    const late = await evaluate(96, at(180));
    expect(late.map((m) => m.transition)).toEqual(['firing']);
    expect(await subjects()).toEqual(['[fleetstat] FIRING [warning]']);
    const resolved = await evaluate(10, at(240));
    expect(resolved.map((m) => m.transition)).toEqual(['resolved']);
    expect(await subjects()).toEqual(['[fleetstat] FIRING [warning]', '[fleetstat] RESOLVED [warning]']);
  });

  it('an alert that resolves while silenced mails no resolution, and none later', async () => {
    const { db } = database.store;
    expect((await evaluate(95, at(0))).map((m) => m.transition)).toEqual(['firing']);
    await addSilence(db, {
      hostPattern: '10.0.0.1',
      rule: 'memory',
      startsAt: at(30),
      endsAt: at(3600),
      author: 'ann',
      comment: 'maintenance',
      now: at(30),
    });
    expect(await evaluate(10, at(60))).toMatchObject([
      { transition: 'resolved', heldBy: expect.stringMatching(/^silence \d+$/) },
    ]);
    expect(await evaluate(10, at(4000))).toEqual([]);
    expect(await subjects()).toEqual(['[fleetstat] FIRING [warning]']);
  });

  it('a silence for another rule or host holds nothing', async () => {
    await addSilence(database.store.db, {
      hostPattern: 'db*',
      startsAt: at(0),
      endsAt: at(3600),
      author: 'ann',
      comment: 'x',
      now: at(0),
    });
    await addSilence(database.store.db, {
      hostPattern: 'web1',
      rule: 'cpu',
      startsAt: at(0),
      endsAt: at(3600),
      author: 'ann',
      comment: 'x',
      now: at(0),
    });
    expect((await evaluate(95, at(60))).map((m) => [m.transition, m.heldBy])).toEqual([['firing', undefined]]);
  });
});

describe('fleetstat silence add|list|expire', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-silence-'));
  const db = `sqlite:${join(dir, 'db.sqlite')}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds, lists and expires a silence in the database', async () => {
    const added = await fleetstat([
      'silence',
      'add',
      '--db',
      db,
      '--host',
      'web*',
      '--rule',
      'disk',
      '--duration',
      '2h',
      '--author',
      'ann',
      '--comment',
      'disk swap',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = /^silence (\d+): web\* rule disk from /.exec(added.stdout)?.[1];
    expect(id).toBeDefined();

    const listed = JSON.parse((await fleetstat(['silence', 'list', '--db', db, '--json'])).stdout) as {
      silences: { id: number; host_pattern: string; rule: string; author: string; active: boolean }[];
    };
    expect(listed.silences).toMatchObject([
      { id: Number(id), host_pattern: 'web*', rule: 'disk', author: 'ann', active: true },
    ]);

    expect((await fleetstat(['silence', 'expire', id!, '--db', db])).stdout).toBe(`silence ${id} expired\n`);
    expect(JSON.parse((await fleetstat(['silence', 'list', '--db', db, '--json'])).stdout).silences).toEqual([]);
    const again = await fleetstat(['silence', 'expire', id!, '--db', db]);
    expect(again).toMatchObject({ code: 2, stderr: `no active or pending silence ${id}\n` });

    const store = await openStore(db);
    try {
      expect(await listSilences(store.db, new Date(), { all: true })).toMatchObject([
        { id: Number(id), active: false },
      ]);
    } finally {
      await store.close();
    }
  });

  it('refuses a silence without an end, or ending in the past, as a usage error', async () => {
    expect(await fleetstat(['silence', 'add', '--db', db, '--host', 'x', '--comment', 'c'])).toMatchObject({
      code: 2,
      stderr: 'give exactly one of --duration <d> (e.g. 2h) or --until <ISO instant>\n',
    });
    const past = await fleetstat([
      'silence',
      'add',
      '--db',
      db,
      '--host',
      'x',
      '--comment',
      'c',
      '--until',
      '2020-01-01T00:00:00Z',
    ]);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/before it starts or in the past/);
  });
});
