/**
 * One compromised target cannot fill the collector's disk: what a host may add per report and
 * per day is bounded (src/store/storage-limits.ts), on every database, and the most one host can
 * add per round is measured on SQLite with maximal hostile reports (schema-valid, every list at
 * its schema maximum or stuffed with events, 3-byte characters, fresh record ids every round).
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { MAX_REPLY_BYTES } from '../src/probe/envelope.js';
import { reportSchema, type EventReport, type Report } from '../src/probe/report.js';
import { ensureHost } from '../src/store/hosts.js';
import { beginRound } from '../src/store/rounds.js';
import { saveReport } from '../src/store/save-report.js';
import {
  STORAGE_LIMITS as L,
  clip,
  eventChars,
  limitReport,
  selectEventsWithinBudget,
} from '../src/store/storage-limits.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { makeDisk, makeEvent, makeNic, makeReport, makeUser } from './support/report-factory.js';
import type { Store } from '../src/store/open-store.js';

/** The most bytes one host may add to a SQLite database per round (docs/schema.md, "Storage limits"). */
const MAX_BYTES_PER_ROUND = 600 * 1024;

const wide = (n: number) => '€'.repeat(n); // 3 bytes in UTF-8, 1 character in the schema's count

/** Every list at the schema's maximum, every field at its maximum length. */
function hostileBase(): Report {
  return makeReport({
    disks: Array.from({ length: 512 }, (_, i) =>
      makeDisk({ mount: `${i}${wide(511 - String(i).length)}`, fs: wide(64), device: wide(512) }),
    ),
    nics: Array.from({ length: 512 }, (_, i) => makeNic({ name: `${i}${wide(63 - String(i).length)}` })),
    users: Array.from({ length: 1024 }, () => makeUser({ name: wide(64), tty: wide(64), from: wide(256) })),
  });
}

/** Hostile events with fresh record ids from `firstId`: `big` ones at maximum length, or tiny ones (most rows). */
function hostileEvents(firstId: number, kind: 'big' | 'tiny'): EventReport[] {
  if (kind === 'tiny') {
    return Array.from({ length: 5000 }, (_, i) => ({
      ...makeEvent(firstId + i),
      level: 'x',
      provider: 'x',
      message: 'x',
      raw: undefined,
    }));
  }
  // As many maximal events as fit in the largest reply the collector accepts (base64 of the JSON).
  const count = Math.floor((MAX_REPLY_BYTES * 0.75 - 2_500_000) / ((8192 + 32768 + 256 + 32) * 3));
  return Array.from({ length: count }, (_, i) => ({
    ...makeEvent(firstId + i),
    level: wide(32),
    provider: wide(256),
    message: wide(8192),
    raw: wide(32768),
  }));
}

function hostileReport(firstId: number, kind: 'big' | 'tiny'): Report {
  const base = hostileBase();
  return reportSchema.parse({ ...base, events: { ...base.events, items: hostileEvents(firstId, kind) } });
}

describe('storage limits (pure)', () => {
  it('cuts fields and rows to their limits', () => {
    const { report, trimmed } = limitReport(hostileReport(1, 'big'));
    expect(trimmed).toEqual({ disks: 512 - L.disks, nics: 512 - L.nics, users: 1024 - L.users });
    expect(report.disks).toHaveLength(L.disks);
    expect(Math.max(...report.disks.map((d) => d.mount.length))).toBe(L.diskMount);
    expect(Math.max(...report.users.map((u) => u.from.length))).toBe(L.userFrom);
    expect(Math.max(...report.events.items.map((e) => (e.raw ?? '').length))).toBe(L.eventRaw);
    expect(report.disks[0]!.mount.endsWith('…')).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const text = 'a' + '😀'.repeat(10);
    const cut = clip(text, 4);
    expect(cut.length).toBeLessThanOrEqual(4);
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut); // no lone surrogate (would become U+FFFD)
  });

  it('keeps the lowest record ids within the per-report and daily budgets', () => {
    const events = [3, 1, 2].map((id) => ({ ...makeEvent(id), message: 'm'.repeat(1000) }));
    const one = eventChars(events[0]!);
    expect(selectEventsWithinBudget(events, 2, { events: 0, chars: 0 }).keep.map((e) => e.record_id)).toEqual([1, 2]);
    expect(selectEventsWithinBudget(events, 10, { events: L.eventsPerDay - 1, chars: 0 })).toMatchObject({
      keep: [{ record_id: 1 }],
      deferred: 2,
    });
    expect(selectEventsWithinBudget(events, 10, { events: 0, chars: L.eventCharsPerDay - 2 * one })).toMatchObject({
      keep: [{ record_id: 1 }, { record_id: 2 }],
      deferred: 1,
    });
  });
});

async function saveInNewRound(store: Store, hostId: number, report: Report, at: Date) {
  const roundId = await beginRound(store, at);
  return saveReport(store, { hostId, roundId, collectedAt: at, report, eventCap: 5000 });
}

describe.each(testDialects())('storage limits on %s', (dialect) => {
  const fixture = useMigratedStore(dialect);

  it('stores a maximal hostile report within the per-report limits', async () => {
    const { store } = fixture;
    const hostId = await ensureHost(store, { ip: '10.9.0.1', port: 22, name: 'hostile-big' });
    const saved = await saveInNewRound(store, hostId, hostileReport(1, 'big'), new Date());
    expect(saved.limited).toMatchObject({ disks: 512 - L.disks, nics: 512 - L.nics, users: 1024 - L.users });
    expect(saved.limited.events).toBeGreaterThan(0);
    const count = async (table: 'disk_usage' | 'net_io' | 'logged_in_users') =>
      Number(
        (
          await store.db
            .selectFrom(table)
            .select(store.db.fn.countAll<string>().as('n'))
            .where('sample_id', '=', saved.sampleId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect([await count('disk_usage'), await count('net_io'), await count('logged_in_users')]).toEqual([
      L.disks,
      L.nics,
      L.users,
    ]);
    const events = await store.db
      .selectFrom('security_events')
      .select(['message', 'raw'])
      .where('host_id', '=', hostId)
      .execute();
    const chars = events.reduce((sum, e) => sum + e.message.length + (e.raw?.length ?? 0), 0);
    expect(chars).toBeLessThanOrEqual(L.eventCharsPerReport);
    expect(events.length).toBe(saved.newEvents.length);
  });

  it("stops storing a host's fresh events once its daily budget is spent, and says so", async () => {
    const { store } = fixture;
    const hostId = await ensureHost(store, { ip: '10.9.0.2', port: 22, name: 'hostile-tiny' });
    const perReport = Math.floor(L.eventCharsPerReport / eventChars(hostileEvents(1, 'tiny')[0]!));
    const rounds = Math.ceil(L.eventsPerDay / perReport);
    let stored = 0;
    for (let round = 0; round < rounds; round++) {
      const saved = await saveInNewRound(store, hostId, hostileReport(1 + round * 10_000, 'tiny'), new Date());
      stored += saved.newEvents.length;
    }
    expect(stored).toBe(L.eventsPerDay);
    const over = await saveInNewRound(store, hostId, hostileReport(1_000_000, 'tiny'), new Date());
    expect(over.newEvents).toEqual([]);
    expect(over.limited.events).toBe(5000);
    const total = await store.db
      .selectFrom('security_events')
      .select(store.db.fn.countAll<string>().as('n'))
      .where('host_id', '=', hostId)
      .executeTakeFirstOrThrow();
    expect(Number(total.n)).toBe(L.eventsPerDay);
  }, 120_000);
});

describe.skipIf(!testDialects().includes('sqlite'))('bytes one host can add per round (SQLite)', () => {
  const fixture = useMigratedStore('sqlite');

  /** Bytes in use by the database file: pages minus free pages, after a checkpoint of the WAL. */
  async function bytesInUse(store: Store): Promise<number> {
    await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(store.db);
    const [pages, free, size] = await Promise.all(
      ['page_count', 'freelist_count', 'page_size'].map(async (pragma) =>
        Number(Object.values((await sql.raw(`PRAGMA ${pragma}`).execute(store.db)).rows[0] as object)[0]),
      ),
    );
    return (pages! - free!) * size!;
  }

  it.each(['big', 'tiny'] as const)(
    'a maximal hostile report (%s events) adds at most the documented figure',
    async (kind) => {
      const { store } = fixture;
      const hostId = await ensureHost(store, {
        ip: kind === 'big' ? '10.9.1.1' : '10.9.1.2',
        port: 22,
        name: `measure-${kind}`,
      });
      await saveInNewRound(store, hostId, hostileReport(1, kind), new Date()); // first report: the host's own pages exist
      const before = await bytesInUse(store);
      await saveInNewRound(store, hostId, hostileReport(100_000, kind), new Date());
      const added = (await bytesInUse(store)) - before;
      console.log(`one round of a maximal hostile report (${kind} events) added ${added} bytes to SQLite`);
      expect(added).toBeLessThanOrEqual(MAX_BYTES_PER_ROUND);
    },
    120_000,
  );
});
