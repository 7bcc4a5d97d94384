import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { testDialects, withTestDatabase } from './support/databases.js';

const run = promisify(execFile);
const TABLES = [
  'hosts',
  'samples',
  'disk_usage',
  'net_io',
  'logged_in_users',
  'security_events',
  'rounds',
  'host_errors',
  'alerts',
  'outbox',
  'host_leases',
  'notifications',
  'silences',
];

/** Migrates `url` from a separate Node process, as a second collector would. */
async function migrateInChild(url: string, startAt: number): Promise<string[]> {
  const child = ['--import', 'tsx', 'test/support/migrate-child.ts', url, String(startAt)];
  const { stdout } = await run(process.execPath, child, {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as string[];
}

describe.each(testDialects())('migrate on %s', (dialect) => {
  it('creates every table of schema.ts and is idempotent', async () => {
    await withTestDatabase(dialect, async (url) => {
      const store = await openStore(url);
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
        expect(await migrate(store)).toEqual({ applied: [] });
        const tables = (await store.db.introspection.getTables()).map((t) => t.name);
        expect(tables).toEqual(expect.arrayContaining(TABLES));
        for (const table of TABLES) {
          // Each table is queryable and empty.
          const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(store.db);
          expect(Number(rows[0]?.n)).toBe(0);
        }
      } finally {
        await store.close();
      }
    });
  });

  it('applies each migration once when two stores migrate at the same time', async () => {
    await withTestDatabase(dialect, async (url) => {
      const [a, b] = await Promise.all([openStore(url), openStore(url)]);
      try {
        const results = await Promise.all([migrate(a), migrate(b)]);
        expect(results.flatMap((r) => r.applied)).toEqual([
          '0001-initial',
          '0002-host-leases-sample-order',
          '0003-alert-severity-grouping',
          '0004-silences',
          '0005-webhook-outbox',
          '0006-cpu-counters',
        ]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  it('applies each migration once when three processes migrate at the same time', async () => {
    await withTestDatabase(dialect, async (url) => {
      // Node with tsx takes about a second to start; all three begin migrating at the same instant.
      const startAt = Date.now() + 4000;
      const results = await Promise.all([1, 2, 3].map(() => migrateInChild(url, startAt)));
      expect(results.flat()).toEqual([
        '0001-initial',
        '0002-host-leases-sample-order',
        '0003-alert-severity-grouping',
        '0004-silences',
        '0005-webhook-outbox',
        '0006-cpu-counters',
      ]);
    });
  });
});
