/**
 * evaluateHostAlerts against real databases: states stored per host+rule, mails queued once per
 * transition, all dialects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateHostAlerts, type HostAlertInput } from '../src/alerts/evaluate-host-alerts.js';
import type { AlertRule } from '../src/config/types.js';
import { listUnsentMail } from '../src/notify/outbox.js';
import { reportSchema, type Report } from '../src/probe/report.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { testDialects, useTestDatabase } from './support/databases.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const HOUR = 3600;

function rule(type: AlertRule['type'], limit: number, extra: Partial<AlertRule> = {}): AlertRule {
  return {
    type,
    limit,
    severity: 'warning',
    forSeconds: 0,
    repeatSeconds: 4 * HOUR,
    notify: 'on-change',
    line: 7,
    ...extra,
  };
}

function report(memoryPercent: number, diskPercent = 10): Report {
  return reportSchema.parse({
    schema: 1,
    probe: 'sh',
    collected_at: '2024-05-01T12:00:00Z',
    host: { hostname: 'web1', os: 'linux', os_name: 'Debian', kernel: '6.1', arch: 'x86_64' },
    cpu: { percent: 5, cores: 2, interval_ms: 1000, load1: 0.5, load5: 0.5, load15: 0.5 },
    memory: { total_bytes: 100, used_bytes: 50, available_bytes: 50, percent: memoryPercent },
    swap: { total_bytes: 0, used_bytes: 0, percent: 0 },
    uptime_seconds: 10,
    boot_time: '2024-05-01T11:59:50Z',
    process_count: 10,
    disks: [
      {
        mount: '/srv',
        fs: 'ext4',
        device: '/dev/vdb',
        size_bytes: 100,
        used_bytes: diskPercent,
        avail_bytes: 100 - diskPercent,
        used_percent: diskPercent,
      },
    ],
    nics: [],
    users: [],
    events: { readable: false, truncated: false, note: '', items: [] },
    warnings: [],
  });
}

describe.each(testDialects())('evaluateHostAlerts on %s', (dialect) => {
  const database = useTestDatabase(dialect);
  let store: Store;
  let hostId: number;

  beforeEach(async () => {
    store = await openStore(database.url);
    await migrate(store);
    await store.db.deleteFrom('outbox').execute();
    await store.db.deleteFrom('alerts').execute();
    await store.db.deleteFrom('hosts').execute();
    await store.db
      .insertInto('hosts')
      .values({
        ip: '10.0.0.5',
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
    const host = await store.db.selectFrom('hosts').select('id').where('ip', '=', '10.0.0.5').executeTakeFirstOrThrow();
    hostId = Number(host.id);
  });

  afterEach(async () => {
    await store.close();
  });

  const evaluate = (overrides: Partial<HostAlertInput> & Pick<HostAlertInput, 'now' | 'report'>) =>
    evaluateHostAlerts(store.db, {
      hostId,
      hostName: 'web1',
      ip: '10.0.0.5',
      mail: 'ops@example.org, dba@example.org',
      rules: [rule('memory', 90), rule('disk', 80), rule('unreachable', 0)],
      ...overrides,
    });

  it('queues one firing mail per recipient, nothing while it keeps firing, a reminder after repeat, one resolved', async () => {
    expect(await evaluate({ now: at(0), report: report(50) })).toEqual([]);

    const firing = await evaluate({ now: at(60), report: report(95) });
    expect(firing.map((m) => [m.rule, m.transition])).toEqual([['memory', 'firing']]);
    expect(firing[0]!.to).toEqual(['ops@example.org', 'dba@example.org']);
    expect(firing[0]!.outboxIds).toHaveLength(2);
    expect(firing[0]!.subject).toBe('[fleetstat] FIRING [warning]: memory 95.0% > 90% on web1 (10.0.0.5)');

    expect(await evaluate({ now: at(120), report: report(97) })).toEqual([]);
    expect(await evaluate({ now: at(60 + 4 * HOUR - 1), report: report(97) })).toEqual([]);
    const reminder = await evaluate({ now: at(60 + 4 * HOUR), report: report(97) });
    expect(reminder.map((m) => m.transition)).toEqual(['reminder']);

    const resolved = await evaluate({ now: at(5 * HOUR), report: report(40) });
    expect(resolved.map((m) => m.transition)).toEqual(['resolved']);
    expect(await evaluate({ now: at(6 * HOUR), report: report(40) })).toEqual([]);

    const queued = await listUnsentMail(store.db);
    expect(queued.map((m) => m.subject.split(':')[0])).toEqual([
      '[fleetstat] FIRING [warning]',
      '[fleetstat] FIRING [warning]',
      '[fleetstat] STILL FIRING [warning]',
      '[fleetstat] STILL FIRING [warning]',
      '[fleetstat] RESOLVED [warning]',
      '[fleetstat] RESOLVED [warning]',
    ]);

    const row = await store.db
      .selectFrom('alerts')
      .selectAll()
      .where('host_id', '=', hostId)
      .where('rule', '=', 'memory')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'ok', value: 40, limit_value: 90 });
    expect(new Date(row.since).getTime()).toBe(at(5 * HOUR).getTime());
  });

  it('an unreachable host fires the unreachable rule with its stage, and leaves the other rules alone', async () => {
    await evaluate({ now: at(0), report: report(95, 85) });
    const down = await evaluate({
      now: at(60),
      report: null,
      error: { stage: 'connect', message: 'connect ECONNREFUSED 10.0.0.5:22' },
    });
    expect(down.map((m) => [m.rule, m.transition])).toEqual([['unreachable', 'firing']]);
    expect(down[0]!.body).toContain('failed at stage connect: connect ECONNREFUSED 10.0.0.5:22');

    const states = await store.db
      .selectFrom('alerts')
      .select(['rule', 'state'])
      .where('host_id', '=', hostId)
      .orderBy('rule')
      .execute();
    expect(states).toEqual([
      { rule: 'disk', state: 'firing' },
      { rule: 'memory', state: 'firing' },
      { rule: 'unreachable', state: 'firing' },
    ]);

    const back = await evaluate({ now: at(120), report: report(95, 85) });
    expect(back.map((m) => [m.rule, m.transition])).toEqual([['unreachable', 'resolved']]);
  });

  it('names the fullest disk in the disk mail', async () => {
    const [mail] = await evaluate({ now: at(0), report: report(10, 99) });
    expect(mail).toMatchObject({ rule: 'disk', transition: 'firing' });
    expect(mail!.body).toContain('/srv');
  });

  it('tracks states without queueing mail when the client has no address', async () => {
    const mails = await evaluate({ now: at(0), report: report(95), mail: undefined });
    expect(mails.map((m) => [m.rule, m.transition, m.outboxIds])).toEqual([['memory', 'firing', []]]);
    expect(await listUnsentMail(store.db)).toHaveLength(0);
    expect(await evaluate({ now: at(60), report: report(95), mail: undefined })).toEqual([]);
  });

  it('drops the state of a rule removed from the config', async () => {
    await evaluate({ now: at(0), report: report(95) });
    await evaluate({ now: at(60), report: report(95), rules: [rule('disk', 80)] });
    const rules = await store.db.selectFrom('alerts').select('rule').where('host_id', '=', hostId).execute();
    expect(rules.map((r) => r.rule)).toEqual(['disk']);
  });

  it('refuses invalid recipients before storing anything, naming the host', async () => {
    await expect(evaluate({ now: at(0), report: report(95), mail: 'not an address' })).rejects.toThrow(
      /web1 \(10\.0\.0\.5\).*plain address/,
    );
    expect(await store.db.selectFrom('alerts').selectAll().execute()).toHaveLength(0);
  });
});
