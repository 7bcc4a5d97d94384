/**
 * A hung database never stops collection. A real second session holds a lock on the samples
 * table (PostgreSQL `LOCK TABLE … IN EXCLUSIVE MODE`, MariaDB `SELECT … FOR UPDATE` in an open transaction) while a
 * round runs against a real sshd host: the database's lock timeout ends our insert, the round
 * finishes, the report is spooled and the next round, with the lock gone, stores it.
 * Then the store-timeout bound: with a bound shorter than the lock timeout the save is abandoned
 * and spooled; the lock is released right after, and the abandoned transaction must roll back
 * instead of committing a second copy of the report.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectRound, type RoundEvent } from '../src/collect/round.js';
import { outcomeFailure } from '../src/collect/host-outcome.js';
import { loadConfig } from '../src/config/load-config.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { requireService } from './support/requirements.js';
import { startFleet, type SshdFleet } from './support/sshd.js';

/** A second session that holds a lock on `samples` until released. */
interface LockHolder {
  release(): Promise<void>;
}

async function lockSamples(dialect: 'postgres' | 'mysql', url: string): Promise<LockHolder> {
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE samples IN EXCLUSIVE MODE'); // reads go on, writes wait
    return {
      release: async () => {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  }
  const connection = await mysql.createConnection(url);
  // Next-key locks on every row and the gap after the last: every insert into samples waits.
  // (LOCK TABLES would also lock the rounds table through the foreign key: the round could not begin.)
  await connection.query('BEGIN');
  await connection.query('SELECT id FROM samples FOR UPDATE');
  return {
    release: async () => {
      await connection.query('ROLLBACK');
      await connection.end();
    },
  };
}

const reachable = async (dialect: 'postgres' | 'mysql') =>
  createTestDatabase(dialect).then(
    async (db) => {
      await db.drop();
      return true;
    },
    () => false,
  );
const available = {
  postgres: requireService(await reachable('postgres'), 'PostgreSQL on 127.0.0.1:5432'),
  mysql: requireService(await reachable('mysql'), 'MariaDB on 127.0.0.1:3306'),
};

describe.each(['postgres', 'mysql'] as const)('a lock held on samples (%s)', (dialect) => {
  let fleet: SshdFleet;
  let database: TestDatabase;
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    if (!available[dialect]) return;
    [fleet, database] = await Promise.all([
      startFleet(1, { firstIndex: dialect === 'postgres' ? 170 : 171 }),
      createTestDatabase(dialect),
    ]);
    dir = mkdtempSync(join(tmpdir(), `fleetstat-locks-${dialect}-`));
    store = await openStore(database.url);
    await migrate(store);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await fleet?.stop();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const configWith = async (settings: Record<string, string>) => {
    const path = writeFleetConfig(fleet, {
      dir,
      databaseUrl: database.url,
      settings: { 'spool-dir': join(dir, 'spool'), ...settings },
      clients: [{ host: fleet.hosts[0]!, auth: 'key', name: 'alpha' }],
    });
    return loadConfig(path);
  };
  const samples = async () =>
    Number(
      (await store.db.selectFrom('samples').select(store.db.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n,
    );
  const spooled = () => readdirSync(join(dir, 'spool')).filter((name) => name.endsWith('.json'));

  it.skipIf(!available[dialect])(
    'finishes the round, spools the report, and stores it next round',
    async () => {
      const config = await configWith({});
      const holder = await lockSamples(dialect, database.url);
      let first;
      try {
        first = await collectRound(config, store);
      } finally {
        await holder.release();
      }
      expect(first.hostsOk).toBe(0);
      expect(first.spooled).toBe(1);
      const message = outcomeFailure(first.outcomes[0]!)!.message;
      expect(first.outcomes[0]!.status).toBe('spooled');
      expect(message).toMatch(/kept in the spool/);
      // The database's own lock timeout ended the wait (not the store-timeout bound).
      expect(message).toMatch(dialect === 'postgres' ? /lock timeout/ : /Lock wait timeout exceeded/);
      expect(spooled()).toHaveLength(1);
      expect(await samples()).toBe(0);

      const second = await collectRound(config, store);
      expect(second).toMatchObject({ spoolImported: 1, hostsOk: 1, spooled: 0 });
      expect(spooled()).toHaveLength(0);
      expect(await samples()).toBe(2);
    },
    120_000,
  );

  it.skipIf(!available[dialect])(
    'abandons a save past store-timeout, and the abandoned save rolls back',
    async () => {
      const before = await samples();
      const config = await configWith({ 'store-timeout': '1s' });
      const holder = await lockSamples(dialect, database.url);
      let released: Promise<void> | undefined;
      const round = await collectRound(config, store, {
        // The bound has fired once the host is reported: free the table so the abandoned
        // transaction gets its lock and reaches its next step (where it must roll back).
        onEvent: (event: RoundEvent) => {
          if (event.type === 'host-failed') released = holder.release();
        },
      }).finally(async () => {
        released ??= holder.release();
        await released;
      });
      expect(round.spooled).toBe(1);
      expect(outcomeFailure(round.outcomes[0]!)!.message).toMatch(/store-timeout of 1 s.*kept in the spool/);

      // Close the store: that waits for the abandoned transaction to finish, whichever way.
      await store.close();
      store = await openStore(database.url);
      expect(await samples()).toBe(before);
      const next = await collectRound(config, store);
      expect(next).toMatchObject({ spoolImported: 1, hostsOk: 1 });
      expect(await samples()).toBe(before + 2);
    },
    120_000,
  );
});
