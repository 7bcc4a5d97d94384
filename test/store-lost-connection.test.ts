/**
 * A PostgreSQL connection killed by the server (restart, pg_terminate_backend) while the store
 * holds it, idle or between two queries of a transaction, fails the next query; it never becomes
 * an unhandled 'error' event that would crash the collector.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { withTestDatabase } from './support/databases.js';

const ADMIN_URL = process.env.FLEETSTAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

describe('PostgreSQL connection lost under the store', () => {
  it('between two queries of a transaction, and while idle in the pool', async () => {
    await withTestDatabase('postgres', async (url) => {
      const store = await openStore(url);
      const unhandled: unknown[] = [];
      const onUncaught = (error: unknown) => unhandled.push(error);
      process.on('uncaughtException', onUncaught);
      try {
        const inTransaction = store.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await terminate(rows[0]!.pid);
          await new Promise((resolve) => setTimeout(resolve, 300)); // the 'error' event arrives now
          await sql`select 1`.execute(trx);
        });
        await expect(inTransaction).rejects.toThrow();

        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(store.db);
        await terminate(rows[0]!.pid);
        await new Promise((resolve) => setTimeout(resolve, 300));
        // The pool drops the dead idle client; the store keeps working.
        const again = await sql<{ one: number }>`select 1 as one`
          .execute(store.db)
          .catch(async () => sql<{ one: number }>`select 1 as one`.execute(store.db));
        expect(again.rows[0]!.one).toBe(1);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('uncaughtException', onUncaught);
        await store.close().catch(() => {});
      }
    });
  });
});
