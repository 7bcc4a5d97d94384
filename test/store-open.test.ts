import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { beginRound } from '../src/store/rounds.js';
import { StoreError } from '../src/store/store-error.js';
import { createTestDatabase, withTestDatabase } from './support/databases.js';
import { startTarpit } from './support/fault-servers.js';

/**
 * Expects openStore(url) to fail with a StoreError that hides the password. A hang instead of a
 * refusal ends in the test's timeout; no wall-clock bound is asserted (speed lives in bench/).
 */
async function expectRefused(url: string, pattern: RegExp): Promise<StoreError> {
  const error = await openStore(url).then(
    () => {
      throw new Error(`openStore(${url}) unexpectedly succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  const message = (error as StoreError).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('s3cret');
  expect((error as StoreError).url).not.toContain('s3cret');
  return error as StoreError;
}

describe('openStore', () => {
  it('rejects an unknown scheme before connecting', async () => {
    await expectRefused('oracle://scott:s3cret@db/orcl', /not one of sqlite:path, postgres/);
    await expectRefused('sqlite:', /names no SQLite file/);
  });

  it('fails fast and clearly when PostgreSQL refuses', async () => {
    const e = await expectRefused(
      'postgres://postgres:s3cret@127.0.0.1:1/test',
      /cannot open database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test/,
    );
    expect(e.message).toMatch(/ECONNREFUSED/);
    await expectRefused(
      'postgresql://postgres:s3cret@127.0.0.1:5432/fleetstat_no_such_db',
      /fleetstat_no_such_db.*does not exist/,
    );
  });

  it('fails fast and clearly when MySQL refuses', async () => {
    const e = await expectRefused(
      'mysql://root:s3cret@127.0.0.1:1/test',
      /cannot open database mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/test/,
    );
    expect(e.message).toMatch(/ECONNREFUSED/);
    await expectRefused('mariadb://root@127.0.0.1:3306/fleetstat_no_such_db', /Unknown database/i);
  });

  it('gives up on a server that accepts the connection and never answers (the connect timeout)', async () => {
    // A tarpit on loopback (tests talk only to 127.0.0.0/8): the handshake never starts, so
    // only the drivers' connect timeouts can end the wait.
    // One driver at a time, so each error is known to follow a connection the tarpit accepted,
    // and the error must name the driver's timeout: a refusal or reset cannot pass for it.
    const tarpit = await startTarpit('127.0.0.1');
    try {
      const pg = await expectRefused(
        `postgres://u:s3cret@127.0.0.1:${tarpit.port}/x`,
        /cannot open database .*: Connection terminated due to connection timeout/,
      );
      expect(tarpit.connections).toBeGreaterThanOrEqual(1);
      const afterPg = tarpit.connections;
      const mysql = await expectRefused(
        `mysql://u:s3cret@127.0.0.1:${tarpit.port}/x`,
        /cannot open database .*: connect ETIMEDOUT/,
      );
      expect(tarpit.connections).toBeGreaterThan(afterPg);
      for (const e of [pg, mysql]) expect(e.message).not.toMatch(/ECONNREFUSED|ECONNRESET/);
    } finally {
      await tarpit.stop();
    }
  });

  it('fails clearly on a SQLite path that cannot be opened or is not a database', async () => {
    await expectRefused(
      'sqlite:/nonexistent-dir/sub/fleetstat.sqlite',
      /cannot open database sqlite:\/nonexistent-dir/,
    );
    const database = await createTestDatabase('sqlite');
    try {
      const path = database.url.slice('sqlite:'.length);
      await writeFile(path, 'this is not a SQLite database, just text that is long enough to have a header');
      await expectRefused(database.url, /not a database/);
    } finally {
      await database.drop();
    }
  });

  it('opens SQLite with WAL, a short synchronous busy timeout and foreign keys, and stores Dates as ISO text', async () => {
    await withTestDatabase('sqlite', async (url) => {
      const store = await openStore(url);
      try {
        expect(store.dialect).toBe('sqlite');
        const pragma = async (name: string) =>
          Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
        expect(await pragma('journal_mode')).toBe('wal');
        // The 5 s wait for a lock is asynchronous (sqlite-dialect.ts); SQLite's own, blocking one stays short.
        expect(await pragma('busy_timeout')).toBe(20);
        expect(await pragma('foreign_keys')).toBe(1);
        await migrate(store);
        const id = await beginRound(store, new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)));
        const row = await store.db
          .selectFrom('rounds')
          .select('started_at')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        expect(row.started_at).toBe('2024-01-02T03:04:05.006Z');
        // Dates bound in WHERE compare as the same text.
        const found = await store.db
          .selectFrom('rounds')
          .select('id')
          .where('started_at', '=', new Date('2024-01-02T03:04:05.006Z'))
          .execute();
        expect(found).toEqual([{ id }]);
      } finally {
        await store.close();
      }
    });
  });

  it('creates a new SQLite database and its -wal and -shm files readable by the owner only (0600)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetstat-mode-'));
    try {
      const path = join(dir, 'new.sqlite');
      const store = await openStore(`sqlite:${path}`);
      try {
        await migrate(store);
        await beginRound(store, new Date()); // a write, so the WAL holds something
        for (const file of [path, `${path}-wal`, `${path}-shm`]) {
          expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
        }
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens sqlite::memory:', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      expect(await migrate(store)).toEqual({
        applied: [
          '0001-initial',
          '0002-host-leases-sample-order',
          '0003-alert-severity-grouping',
          '0004-silences',
          '0005-webhook-outbox',
          '0006-cpu-counters',
        ],
      });
    } finally {
      await store.close();
    }
  });

  it('shows PostgreSQL and MySQL URLs with the password hidden', async () => {
    for (const dialect of ['postgres', 'mysql'] as const) {
      await withTestDatabase(dialect, async (url) => {
        const store = await openStore(url);
        try {
          expect(store.dialect).toBe(dialect);
          expect(store.url).toBe(url); // test URLs carry no password
          const { rows } = await sql<{ n: number }>`select ${9_007_199_254_740_991} as n`.execute(store.db);
          expect(Number(rows[0]?.n)).toBe(9_007_199_254_740_991);
        } finally {
          await store.close();
        }
      });
    }
  });
});
