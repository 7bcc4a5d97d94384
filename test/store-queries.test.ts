import { describe, expect, it } from 'vitest';
import { lastEventRecordId } from '../src/store/events.js';
import { adapterFor, adapterOf } from '../src/store/dialect-adapter.js';
import { ensureHost } from '../src/store/hosts.js';
import { openStore } from '../src/store/open-store.js';
import { pruneOlderThan } from '../src/store/prune.js';
import { beginRound, finishRound, recordHostError } from '../src/store/rounds.js';
import { saveReport } from '../src/store/save-report.js';
import { toDate, toDateOrNull } from '../src/store/timestamps.js';
import { sampleDisks, sampleUsers } from '../src/web/queries/host-details.js';
import { hostSeries } from '../src/web/queries/host-series.js';
import { listHostSummaries } from '../src/web/queries/host-summaries.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { makeEvent, makeReport } from './support/report-factory.js';

const minute = (n: number) => new Date(Date.UTC(2024, 5, 1, 12, n, 0, 500));

describe.each(testDialects())('store queries on %s', (dialect) => {
  const fixture = useMigratedStore(dialect);

  it('ensureHost inserts once, returns the same id, and follows a rename', async () => {
    const { store } = fixture;
    const id = await ensureHost(store, { ip: '198.51.100.1', port: 22, name: 'db-1' }, minute(0));
    expect(id).toBeGreaterThan(0);
    expect(await ensureHost(store, { ip: '198.51.100.1', port: 22, name: 'db-1' })).toBe(id);
    expect(await ensureHost(store, { ip: '198.51.100.1', port: 2222, name: 'db-1' })).not.toBe(id);
    expect(await ensureHost(store, { ip: '198.51.100.1', port: 22, name: 'database-1' })).toBe(id);
    const row = await store.db.selectFrom('hosts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.name).toBe('database-1');
    expect(toDate(row.first_seen).getTime()).toBe(minute(0).getTime());
    expect(row.last_seen).toBeNull();
  });

  it('ensureHost gives one id to many concurrent callers, also from a second store', async () => {
    const second = await openStore(fixture.url);
    try {
      // SQLite: one Store per file and process (see docs); its calls are serialised, the rest run in parallel.
      const stores = dialect === 'sqlite' ? [fixture.store] : [fixture.store, second];
      const host = { ip: '198.51.100.7', port: 22, name: 'busy' };
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => ensureHost(stores[i % stores.length]!, host)));
      expect(new Set(ids).size).toBe(1);
      const rows = await fixture.store.db.selectFrom('hosts').select('id').where('ip', '=', host.ip).execute();
      expect(rows).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('records rounds and host errors, cutting long messages and making them one printable line', async () => {
    const { store } = fixture;
    const hostId = await ensureHost(store, { ip: '198.51.100.2', port: 22, name: 'flaky' });
    const roundId = await beginRound(store, minute(1));
    await recordHostError(store, {
      roundId,
      hostId,
      stage: 'connect',
      message: 'E'.repeat(5000),
      occurredAt: minute(2),
    });
    await finishRound(store, roundId, { finishedAt: minute(3), hostsOk: 7, hostsFailed: 1 });

    const round = await store.db.selectFrom('rounds').selectAll().where('id', '=', roundId).executeTakeFirstOrThrow();
    expect({ ...round, started_at: toDate(round.started_at), finished_at: toDateOrNull(round.finished_at) }).toEqual({
      id: roundId,
      started_at: minute(1),
      finished_at: minute(3),
      hosts_ok: 7,
      hosts_failed: 1,
    });
    const error = await store.db
      .selectFrom('host_errors')
      .selectAll()
      .where('round_id', '=', roundId)
      .executeTakeFirstOrThrow();
    expect(error).toMatchObject({ host_id: hostId, stage: 'connect' });
    expect(error.message).toBe(`${'E'.repeat(1999)}…`);
    expect(toDate(error.occurred_at).getTime()).toBe(minute(2).getTime());
    await recordHostError(store, {
      roundId,
      hostId,
      stage: 'run',
      message: 'bad\u001b[2J\r\nFORGED \u202eline\ud800',
      occurredAt: minute(2),
    });
    const hostile = await store.db
      .selectFrom('host_errors')
      .select('message')
      .where('round_id', '=', roundId)
      .where('stage', '=', 'run')
      .executeTakeFirstOrThrow();
    expect(hostile.message).toBe('bad [2J FORGED line\ufffd');
  });

  it('lastEventRecordId is 0 without events, then the highest stored record id', async () => {
    const { store } = fixture;
    const hostId = await ensureHost(store, { ip: '198.51.100.3', port: 22, name: 'win-1' });
    expect(await lastEventRecordId(store, hostId)).toBe(0);
    const items = [makeEvent(6_000_000_001), makeEvent(17), makeEvent(5_000_000_000)];
    await saveReport(store, {
      hostId,
      roundId: null,
      collectedAt: minute(0),
      report: makeReport({ events: { readable: true, truncated: false, note: '', items } }),
    });
    expect(await lastEventRecordId(store, hostId)).toBe(6_000_000_001);
  });

  it('finds the dialect adapter from the database handle, inside a transaction too', async () => {
    const { store } = fixture;
    expect(adapterOf(store.db)).toBe(adapterFor(store.dialect));
    await store.db.transaction().execute(async (trx) => expect(adapterOf(trx).dialect).toBe(store.dialect));
    // Each adapter's text length counts characters, not bytes.
    const host = await ensureHost(store, { ip: '203.0.113.9', port: 22, name: 'ünïcödé' });
    const row = await store.db
      .selectFrom('hosts')
      .select(adapterFor(store.dialect).charLength('name').as('n'))
      .where('id', '=', host)
      .executeTakeFirstOrThrow();
    expect(Number(row.n)).toBe(7);
  });

  // The queries the dashboard, the API and /metrics run (src/web/queries), on every database.
  it('listHostSummaries gives every host its newest sample by time, hostSeries one host in a range', async () => {
    const { store } = fixture;
    const a = await ensureHost(store, { ip: '203.0.113.1', port: 22, name: 'aa-latest' });
    const b = await ensureHost(store, { ip: '203.0.113.2', port: 22, name: 'ab-latest' });
    const never = await ensureHost(store, { ip: '203.0.113.3', port: 22, name: 'ac-never' });
    const save = (hostId: number, at: Date, percent: number) =>
      saveReport(store, {
        hostId,
        roundId: null,
        collectedAt: at,
        report: makeReport({
          cpu: { percent, cores: 2, interval_ms: 1000, load1: null, load5: null, load15: null },
          events: { readable: false, truncated: false, note: '', items: [] },
        }),
      });
    // Out of order on purpose: the newest is not the last inserted.
    await save(a, minute(10), 10);
    const newestA = await save(a, minute(30), 30);
    await save(a, minute(20), 20);
    const onlyB = await save(b, minute(15), 15);

    const latest = await listHostSummaries(store.db);
    const byName = new Map(latest.map((l) => [l.name, l]));
    // The newest by collected_at, not the highest id (a spooled report is imported late).
    expect(byName.get('aa-latest')?.latest?.sample_id).toBe(newestA.sampleId);
    expect(byName.get('aa-latest')?.latest?.cpu_percent).toBe(30);
    expect(byName.get('aa-latest')?.latest?.collected_at).toBe(minute(30).toISOString());
    expect(byName.get('aa-latest')?.last_seen).toBe(minute(20).toISOString()); // last saved, not newest
    expect(byName.get('ab-latest')?.latest?.sample_id).toBe(onlyB.sampleId);
    expect(byName.get('ac-never')).toMatchObject({ id: never, latest: null });
    const mine = latest.map((l) => l.name).filter((n) => /^a[abc]-/.test(n));
    expect(mine).toEqual(['aa-latest', 'ab-latest', 'ac-never']);
    expect((await listHostSummaries(store.db, a)).map((h) => h.latest?.sample_id)).toEqual([newestA.sampleId]);

    const range = await hostSeries(store.db, a, minute(10), minute(25), 100);
    expect(range.series.cpu_percent).toEqual([10, 20]); // from and to inclusive, oldest first
    expect(range.time[0]).toBe(minute(10).getTime() / 1000);

    expect((await sampleDisks(store.db, newestA.sampleId)).map((d) => d.size_bytes)).toEqual([
      500_000_000_000, 8_000_000_000_000,
    ]);
    expect((await sampleUsers(store.db, newestA.sampleId)).map((u) => u.login_at)).toEqual([
      '2024-05-01T07:30:00.000Z',
      null,
    ]);
  });

  it('prunes samples with their rows, host errors, rounds and sent mail older than the cutoff', async () => {
    const { store } = fixture;
    const { db } = store;
    const old = new Date('2020-01-01T00:00:00Z');
    const recent = new Date('2020-03-01T00:00:00Z');
    const cutoff = new Date('2020-02-01T00:00:00Z');
    const hostId = await ensureHost(store, { ip: '203.0.113.9', port: 22, name: 'pruned' });
    const oldRound = await beginRound(store, old);
    await finishRound(store, oldRound, { finishedAt: new Date(old.getTime() + 60_000), hostsOk: 1, hostsFailed: 1 });
    const recentRound = await beginRound(store, recent);
    const unfinishedOld = await beginRound(store, old);
    const oldSample = await saveReport(store, { hostId, roundId: oldRound, collectedAt: old, report: makeReport() });
    const newSample = await saveReport(store, {
      hostId,
      roundId: recentRound,
      collectedAt: recent,
      report: makeReport({ events: { readable: true, truncated: false, note: '', items: [makeEvent(555)] } }),
    });
    await recordHostError(store, { roundId: oldRound, hostId, stage: 'auth', message: 'denied', occurredAt: old });
    await recordHostError(store, {
      roundId: recentRound,
      hostId,
      stage: 'auth',
      message: 'denied',
      occurredAt: recent,
    });
    const mail = (sent_at: Date | null) => ({
      recipient: 'ops@example.org',
      subject: 's',
      body: 'b',
      created_at: old,
      attempts: 1,
      next_attempt_at: old,
      sent_at,
      last_error: null,
    });
    await db
      .insertInto('outbox')
      .values([mail(old), mail(null), mail(recent)])
      .execute();
    const outboxBefore = (await db.selectFrom('outbox').select('id').execute()).length;

    const counts = await pruneOlderThan(store, cutoff);
    expect(counts).toEqual({ samples: 1, hostErrors: 1, rounds: 2, outbox: 1 });

    const sampleIds = (await db.selectFrom('samples').select('id').where('host_id', '=', hostId).execute()).map(
      (s) => s.id,
    );
    expect(sampleIds).toEqual([newSample.sampleId]);
    for (const table of ['disk_usage', 'net_io', 'logged_in_users'] as const) {
      expect(await db.selectFrom(table).select('id').where('sample_id', '=', oldSample.sampleId).execute()).toEqual([]);
      expect(
        await db.selectFrom(table).select('id').where('sample_id', '=', newSample.sampleId).execute(),
      ).toHaveLength(2);
    }
    const rounds = (
      await db.selectFrom('rounds').select('id').where('id', 'in', [oldRound, recentRound, unfinishedOld]).execute()
    ).map((r) => r.id);
    expect(rounds).toEqual([recentRound]);
    expect((await db.selectFrom('outbox').select('id').execute()).length).toBe(outboxBefore - 1);
    // Events carry the resume position: kept.
    expect(await lastEventRecordId(store, hostId)).toBe(555);
    expect(await pruneOlderThan(store, cutoff)).toEqual({ samples: 0, hostErrors: 0, rounds: 0, outbox: 0 });
  });
});
