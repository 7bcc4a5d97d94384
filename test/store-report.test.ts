import { describe, expect, it } from 'vitest';
import type { Report } from '../src/probe/report.js';
import { ensureHost } from '../src/store/hosts.js';
import { beginRound } from '../src/store/rounds.js';
import { saveReport } from '../src/store/save-report.js';
import { StoreError } from '../src/store/store-error.js';
import { STORAGE_LIMITS, eventChars } from '../src/store/storage-limits.js';
import { toDate, toDateOrNull } from '../src/store/timestamps.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { makeEvent, makeReport } from './support/report-factory.js';

let nextPort = 2200;

describe.each(testDialects())('saveReport on %s', (dialect) => {
  const fixture = useMigratedStore(dialect);

  async function newHost(): Promise<number> {
    nextPort += 1;
    return ensureHost(fixture.store, { ip: '192.0.2.10', port: nextPort, name: `host-${nextPort}` });
  }

  async function countRows(hostId: number) {
    const { db } = fixture.store;
    const samples = await db.selectFrom('samples').select('id').where('host_id', '=', hostId).execute();
    const ids = samples.map((s) => s.id);
    const count = async (table: 'disk_usage' | 'net_io' | 'logged_in_users') =>
      ids.length === 0 ? 0 : (await db.selectFrom(table).select('id').where('sample_id', 'in', ids).execute()).length;
    const events = await db.selectFrom('security_events').select('id').where('host_id', '=', hostId).execute();
    return {
      samples: samples.length,
      disks: await count('disk_usage'),
      nics: await count('net_io'),
      users: await count('logged_in_users'),
      events: events.length,
    };
  }

  it('stores every row with its values and types intact', async () => {
    const { store } = fixture;
    const hostId = await newHost();
    const roundId = await beginRound(store, new Date('2024-05-01T08:00:00Z'));
    const collectedAt = new Date('2024-05-01T08:00:01.234Z');
    const report = makeReport();
    const saved = await saveReport(store, { hostId, roundId, collectedAt, report });

    expect(saved.newEvents.map((e) => e.record_id)).toEqual([101, 102]);
    const host = await store.db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirstOrThrow();
    expect(host).toMatchObject({
      os: 'linux',
      os_name: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.1.0-18-amd64',
      arch: 'x86_64',
      hostname: 'web-1',
    });
    expect(toDateOrNull(host.last_seen)?.toISOString()).toBe('2024-05-01T08:00:01.234Z');

    const sample = await store.db
      .selectFrom('samples')
      .selectAll()
      .where('id', '=', saved.sampleId)
      .executeTakeFirstOrThrow();
    expect(sample).toMatchObject({
      host_id: hostId,
      round_id: roundId,
      cpu_percent: 37.5,
      load1: 0.52,
      load5: 0.61,
      load15: 0.7,
      mem_total: 17_179_869_184,
      mem_used: 8_589_934_592,
      mem_available: 8_589_934_592,
      mem_percent: 50,
      swap_total: 4_294_967_296,
      swap_used: 1_073_741_824,
      swap_percent: 25,
      uptime_seconds: 5_000_000_000,
      process_count: 213,
      users_count: 2,
    });
    expect(typeof sample.mem_total).toBe('number');
    expect(typeof sample.id).toBe('number');
    expect(toDate(sample.collected_at).getTime()).toBe(collectedAt.getTime());
    expect(toDateOrNull(sample.boot_time)?.toISOString()).toBe('2024-04-01T00:00:00.000Z');

    const disks = await store.db
      .selectFrom('disk_usage')
      .selectAll()
      .where('sample_id', '=', saved.sampleId)
      .orderBy('id')
      .execute();
    expect(disks.map(({ id: _id, sample_id: _s, ...d }) => d)).toEqual(report.disks);
    const nics = await store.db
      .selectFrom('net_io')
      .selectAll()
      .where('sample_id', '=', saved.sampleId)
      .orderBy('id')
      .execute();
    expect(nics.map(({ id: _id, sample_id: _s, ...n }) => n)).toEqual(report.nics);
    expect(nics[0]?.rx_bytes).toBe(9_876_543_210_123);

    const users = await store.db
      .selectFrom('logged_in_users')
      .selectAll()
      .where('sample_id', '=', saved.sampleId)
      .orderBy('id')
      .execute();
    expect(users.map((u) => [u.name, u.tty, u.from_host, toDateOrNull(u.login_at)?.toISOString() ?? null])).toEqual([
      ['alice', 'pts/0', '10.0.0.5', '2024-05-01T07:30:00.000Z'],
      ['bob', 'pts/1', '10.0.0.5', null], // "yesterday" is not a time
    ]);

    const events = await store.db
      .selectFrom('security_events')
      .selectAll()
      .where('host_id', '=', hostId)
      .orderBy('record_id')
      .execute();
    expect(
      events.map((e) => ({
        record_id: e.record_id,
        event_id: e.event_id,
        level: e.level,
        provider: e.provider,
        message: e.message,
        raw: e.raw,
        round_id: e.round_id,
        logged_at: toDateOrNull(e.logged_at)?.toISOString(),
      })),
    ).toEqual(report.events.items.map((e) => ({ ...e, round_id: roundId, logged_at: '2024-05-01T08:00:00.123Z' })));
  });

  it('stores each event once and returns only the new ones on a re-run', async () => {
    const { store } = fixture;
    const hostId = await newHost();
    const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 9, minute));
    const first = await saveReport(store, { hostId, roundId: null, collectedAt: at(0), report: makeReport() });
    expect(first.newEvents.map((e) => e.record_id)).toEqual([101, 102]);

    const again = makeReport({
      events: {
        readable: true,
        truncated: false,
        note: '',
        items: [makeEvent(102), makeEvent(103), makeEvent(101), makeEvent(104), makeEvent(104)],
      },
    });
    const second = await saveReport(store, { hostId, roundId: null, collectedAt: at(1), report: again });
    expect(second.newEvents.map((e) => e.record_id)).toEqual([103, 104]);

    const third = await saveReport(store, { hostId, roundId: null, collectedAt: at(2), report: again });
    expect(third.newEvents).toEqual([]);
    expect(await countRows(hostId)).toEqual({ samples: 3, disks: 6, nics: 6, users: 6, events: 4 });
  });

  it('keeps record ids apart per host', async () => {
    const { store } = fixture;
    const [a, b] = [await newHost(), await newHost()];
    await saveReport(store, { hostId: a, roundId: null, collectedAt: new Date(), report: makeReport() });
    const other = await saveReport(store, { hostId: b, roundId: null, collectedAt: new Date(), report: makeReport() });
    expect(other.newEvents.map((e) => e.record_id)).toEqual([101, 102]);
  });

  it.each([
    [
      'a disk row',
      (r: Report) => ({ ...r, disks: [...r.disks, { ...r.disks[0]!, mount: null as unknown as string }] }),
    ],
    [
      'the last event',
      (r: Report) => ({
        ...r,
        events: { ...r.events, items: [...r.events.items, { ...makeEvent(999), message: null as unknown as string }] },
      }),
    ],
  ])('stores nothing when %s violates a constraint', async (_what, spoil) => {
    const { store } = fixture;
    const hostId = await newHost();
    const before = await store.db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirstOrThrow();
    const bad = spoil(makeReport());
    const attempt = saveReport(store, { hostId, roundId: null, collectedAt: new Date(), report: bad });
    await expect(attempt).rejects.toThrow(StoreError);
    await expect(attempt).rejects.toThrow(/host id \d+ .*nothing was stored/);
    expect(await countRows(hostId)).toEqual({ samples: 0, disks: 0, nics: 0, users: 0, events: 0 });
    const after = await store.db.selectFrom('hosts').selectAll().where('id', '=', hostId).executeTakeFirstOrThrow();
    expect(after).toEqual(before);

    // The same host then stores a good report normally.
    const good = await saveReport(store, { hostId, roundId: null, collectedAt: new Date(), report: makeReport() });
    expect(good.newEvents).toHaveLength(2);
  });

  it('refuses a report for a host id that does not exist', async () => {
    const attempt = saveReport(fixture.store, {
      hostId: 987_654,
      roundId: null,
      collectedAt: new Date(),
      report: makeReport(),
    });
    await expect(attempt).rejects.toThrow(/host id 987654/);
  });

  it('stores a full event batch of 5000 records with large raw text within the per-report budget, lowest record ids first', async () => {
    const { store } = fixture;
    const hostId = await newHost();
    const raw = 'x'.repeat(2000) + 'é'.repeat(500);
    const items = Array.from({ length: 5000 }, (_, i) => makeEvent(1_000_000 + i, { raw }));
    const report = makeReport({ events: { readable: true, truncated: true, note: 'capped', items } });
    const saved = await saveReport(store, { hostId, roundId: null, collectedAt: new Date(), report });
    const fits = Math.floor(STORAGE_LIMITS.eventCharsPerReport / eventChars(items[0]!));
    expect(saved.newEvents).toHaveLength(fits);
    expect(saved.limited.events).toBe(5000 - fits);
    const stored = await store.db
      .selectFrom('security_events')
      .select(['record_id', 'raw'])
      .where('host_id', '=', hostId)
      .orderBy('record_id', 'desc')
      .execute();
    expect(stored).toHaveLength(fits);
    expect(stored[0]).toEqual({ record_id: 1_000_000 + fits - 1, raw });
    // The next report (the probe resumes after the highest stored id) stores the next ones.
    const next = await saveReport(store, {
      hostId,
      roundId: null,
      collectedAt: new Date(),
      report: makeReport({ events: { ...report.events, items: items.slice(fits) } }),
    });
    expect(next.newEvents[0]!.record_id).toBe(1_000_000 + fits);
  });
});
