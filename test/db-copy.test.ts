/**
 * `fleetstat db copy` between real databases: SQLite → PostgreSQL, SQLite → MySQL/MariaDB,
 * PostgreSQL → MySQL and MySQL → PostgreSQL. Every row of every table arrives unchanged, the
 * target keeps working (ids continue past the copied ones), an interrupted copy resumes
 * without duplicates, and a target holding other data is refused.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetstat } from './support/cli.js';
import { createTestDatabase, testDialects, type TestDatabase, type TestDialect } from './support/databases.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { migrate } from '../src/store/migrate.js';
import { ensureHost } from '../src/store/hosts.js';
import { COPY_TABLES } from '../src/store/copy/copy-tables.js';
import { copyDatabase } from '../src/store/copy/copy-database.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute, 7, 123));

/** Rows in every table, with the awkward values: unicode, 2^40 counters, nulls, long text. */
async function seed(store: Store): Promise<void> {
  const db = store.db as unknown as Kysely<any>;
  for (let h = 1; h <= 3; h++) {
    await db
      .insertInto('hosts')
      .values({
        id: h,
        ip: `10.0.0.${h}`,
        port: 22,
        name: `hôst-${h} «α»`,
        os: 'linux',
        os_name: 'Debian',
        kernel: '6.1',
        arch: 'x86_64',
        hostname: null,
        first_seen: at(0),
        last_seen: h === 3 ? null : at(59),
      })
      .execute();
  }
  for (let r = 1; r <= 4; r++)
    await db
      .insertInto('rounds')
      .values({ id: r, started_at: at(r), finished_at: r === 4 ? null : at(r + 1), hosts_ok: 2, hosts_failed: 1 })
      .execute();
  let sample = 0;
  for (let r = 1; r <= 4; r++) {
    for (let h = 1; h <= 3; h++) {
      sample++;
      await db
        .insertInto('samples')
        .values({
          id: sample,
          host_id: h,
          round_id: r,
          collected_at: at(r),
          cpu_percent: 12.5 + h,
          load1: 0.25,
          load5: null,
          load15: 1,
          mem_total: 2 ** 40,
          mem_used: 2 ** 39,
          mem_available: 2 ** 39,
          mem_percent: 50,
          swap_total: 0,
          swap_used: 0,
          swap_percent: 0,
          uptime_seconds: 86_400 * r,
          boot_time: at(0),
          process_count: 200,
          users_count: 1,
        })
        .execute();
      await db
        .insertInto('disk_usage')
        .values({
          sample_id: sample,
          mount: '/',
          fs: 'ext4',
          device: '/dev/sda1',
          size_bytes: 2 ** 41,
          used_bytes: 2 ** 40,
          avail_bytes: 2 ** 40,
          used_percent: 50,
        })
        .execute();
      await db
        .insertInto('net_io')
        .values({
          sample_id: sample,
          name: 'eth0',
          rx_bytes: 2 ** 45 + sample,
          tx_bytes: 7,
          rx_packets: 1,
          tx_packets: 2,
          rx_errors: 0,
          tx_errors: 0,
        })
        .execute();
      await db
        .insertInto('logged_in_users')
        .values({ sample_id: sample, name: 'ops', tty: 'pts/0', from_host: '10.0.0.9', login_at: r % 2 ? null : at(0) })
        .execute();
    }
  }
  for (let e = 1; e <= 5; e++)
    await db
      .insertInto('security_events')
      .values({
        host_id: 1,
        record_id: 1000 + e,
        event_id: 4625,
        level: 'warning',
        provider: 'Microsoft-Windows-Security-Auditing',
        logged_at: at(e),
        message: `logon failed ✗ ${'x'.repeat(e * 1000)}`,
        raw: e === 1 ? null : '{"a":1}',
        round_id: e === 5 ? null : 1,
      })
      .execute();
  await db
    .insertInto('host_errors')
    .values({
      round_id: 2,
      host_id: 3,
      occurred_at: at(2),
      stage: 'connect',
      message: 'ECONNREFUSED "quoted" \'single\'',
    })
    .execute();
  await db
    .insertInto('alerts')
    .values({
      host_id: 1,
      rule: 'memory',
      state: 'firing',
      value: 93.5,
      limit_value: 90,
      since: at(3),
      last_notified_at: null,
    })
    .execute();
  await db
    .insertInto('outbox')
    .values({
      recipient: 'ops@example.test',
      subject: 'memory on hôst-1',
      body: 'body\nline 2',
      created_at: at(3),
      attempts: 1,
      next_attempt_at: at(4),
      sent_at: null,
      last_error: '451 try later',
    })
    .execute();
  await db
    .insertInto('host_leases')
    .values({
      host_key: '10.0.0.1:22',
      owner: 'collector-a',
      lease_until: at(30),
      last_started_at: at(29),
      last_finished_at: null,
    })
    .execute();
}

/** Every table's rows in a dialect-neutral form: dates as ISO text, numbers as numbers. */
async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const db = store.db as unknown as Kysely<any>;
  const out: Record<string, unknown[]> = {};
  for (const { name, key } of COPY_TABLES) {
    const rows = await db
      .selectFrom(name)
      .selectAll()
      .orderBy(key === 'id' ? 'id' : 'host_key')
      .execute();
    out[name] = rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => {
          if (v instanceof Date) return [k, v.toISOString()];
          if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return [k, new Date(v).toISOString()];
          if (typeof v === 'bigint') return [k, Number(v)];
          return [k, v];
        }),
      ),
    );
  }
  return out;
}

/** The source/target pairs to run: each database as a source and PostgreSQL/MySQL as targets. */
function pairs(): Array<[TestDialect, TestDialect]> {
  const all: Array<[TestDialect, TestDialect]> = [
    ['sqlite', 'postgres'],
    ['sqlite', 'mysql'],
    ['postgres', 'mysql'],
    ['mysql', 'postgres'],
  ];
  const wanted = testDialects();
  return all.filter(([a, b]) => wanted.includes(a) && wanted.includes(b));
}

describe('db copy table list', () => {
  it('names every table the migrations create, each once', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const store = await openStore(database.url);
      await migrate(store);
      const tables = (await store.db.introspection.getTables())
        .map((t) => t.name)
        .filter((name) => !name.startsWith('fleetstat_migration'));
      await store.close();
      expect(COPY_TABLES.map((t) => t.name).sort()).toEqual(tables.sort());
    } finally {
      await database.drop();
    }
  });
});

describe('db copy from a SQLite file that does not exist', () => {
  it('refuses, and creates no file', async () => {
    const missing = join(tmpdir(), `fleetstat-missing-${process.pid}.sqlite`);
    const result = await fleetstat(['db', 'copy', '--db', `sqlite:${missing}`, '--to', `sqlite:${missing}.copy`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`no SQLite database at ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });
});

describe.each(pairs())('db copy %s → %s', (fromDialect, toDialect) => {
  let source: TestDatabase;
  let target: TestDatabase;
  let sourceStore: Store;

  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDatabase(fromDialect), createTestDatabase(toDialect)]);
    sourceStore = await openStore(source.url);
    await migrate(sourceStore);
    await seed(sourceStore);
  });
  afterAll(async () => {
    await sourceStore?.close();
    await Promise.all([source?.drop(), target?.drop()]);
  });

  it('resumes an interrupted copy and ends with every row, verified', async () => {
    // Interrupt inside samples, after two committed batches.
    const targetStore = await openStore(target.url);
    await migrate(targetStore);
    let batches = 0;
    const interrupted = copyDatabase(sourceStore, targetStore, {
      batchSize: 5,
      onEvent: (event) => {
        if (event.type === 'rows' && event.table === 'samples' && ++batches === 2) throw new Error('interrupted');
      },
    });
    await expect(interrupted).rejects.toThrow('interrupted');
    const partial = await (targetStore.db as unknown as Kysely<any>)
      .selectFrom('samples')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(partial.n)).toBe(10);
    await targetStore.close();

    const result = await fleetstat(['db', 'copy', '--db', source.url, '--to', target.url, '--batch-size', '5']);
    expect(result.stderr).not.toContain('\x1b');
    expect(result.stderr).toContain('copy: samples: 2 rows copied');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('verified: every table has the same row count');
    expect(result.stdout).toMatch(/samples\s+12\s+12/);

    const copied = await openStore(target.url);
    try {
      expect(await dump(copied)).toEqual(await dump(sourceStore));
      // The target goes on from here: a new host gets an id past the copied ones.
      const host = await ensureHost(copied, { ip: '10.0.0.99', port: 22, name: 'new' });
      expect(host).toBeGreaterThan(3);
    } finally {
      await copied.close();
    }
  });

  it('refuses a target that holds other data, and changes nothing in it', async () => {
    const other = await createTestDatabase(toDialect);
    try {
      const store = await openStore(other.url);
      await migrate(store);
      await ensureHost(store, { ip: '192.0.2.1', port: 22, name: 'unrelated' });
      await ensureHost(store, { ip: '192.0.2.2', port: 22, name: 'unrelated-2' });
      await store.close();
      const result = await fleetstat(['db', 'copy', '--db', source.url, '--to', other.url]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("copy refused: hosts: the target's row 2 differs from the source's");
      const after = await openStore(other.url);
      try {
        expect((await dump(after)).hosts!.map((h) => (h as { name: string }).name)).toEqual([
          'unrelated',
          'unrelated-2',
        ]);
      } finally {
        await after.close();
      }
    } finally {
      await other.drop();
    }
  });
});
