/**
 * Fresh, throw-away databases for integration tests on SQLite, PostgreSQL and MySQL/MariaDB.
 *
 *   describe.each(testDialects())('%s', (dialect) => {
 *     const database = useTestDatabase(dialect);   // created in beforeAll, dropped in afterAll
 *     it('…', async () => { const store = await openStore(database.url); … });
 *   });
 *
 * or, for a migrated Store opened once per describe block:
 *
 *   describe.each(testDialects())('%s', (dialect) => {
 *     const fixture = useMigratedStore(dialect);
 *     it('…', async () => { await ensureHost(fixture.store, …); });
 *   });
 *
 * Admin URLs: FLEETSTAT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) and
 * FLEETSTAT_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/test). FLEETSTAT_TEST_DIALECTS
 * (e.g. "sqlite,postgres") limits the dialects run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../../src/store/migrate.js';
import { openStore, type Store } from '../../src/store/open-store.js';

export type TestDialect = 'sqlite' | 'postgres' | 'mysql';

export const ALL_TEST_DIALECTS: readonly TestDialect[] = ['sqlite', 'postgres', 'mysql'];

export interface TestDatabase {
  dialect: TestDialect;
  /** URL for openStore(). */
  url: string;
  /** Drops the database (or removes the SQLite file); safe to call twice. */
  drop(): Promise<void>;
}

const PG_ADMIN_URL = process.env.FLEETSTAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_ADMIN_URL = process.env.FLEETSTAT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** The dialects to test: all three, or those listed in FLEETSTAT_TEST_DIALECTS. */
export function testDialects(): TestDialect[] {
  const wanted = process.env.FLEETSTAT_TEST_DIALECTS?.split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  if (!wanted || wanted.length === 0) return [...ALL_TEST_DIALECTS];
  return ALL_TEST_DIALECTS.filter((d) => wanted.includes(d));
}

/** A database name that is safe to splice into CREATE/DROP DATABASE (identifiers cannot be bound). */
function freshDatabaseName(): string {
  const name = `fleetstat_t_${randomBytes(6).toString('hex')}`;
  if (!/^fleetstat_t_[0-9a-f]{12}$/.test(name)) throw new Error(`unsafe test database name ${name}`);
  return name;
}

function withDatabaseName(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function createSqlite(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetstat-t-'));
  return {
    dialect: 'sqlite',
    url: `sqlite:${join(dir, 'test.sqlite')}`,
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

async function createPostgres(): Promise<TestDatabase> {
  const name = freshDatabaseName();
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  return {
    dialect: 'postgres',
    url: withDatabaseName(PG_ADMIN_URL, name),
    // FORCE ends sessions a failed test left open.
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

async function createMysql(): Promise<TestDatabase> {
  const name = freshDatabaseName();
  const admin = async (statement: string) => {
    const connection = await mysql.createConnection({ uri: MYSQL_ADMIN_URL, connectTimeout: 5000 });
    try {
      await connection.query(statement);
    } finally {
      await connection.end();
    }
  };
  await admin(`create database ${name} character set utf8mb4`);
  return {
    dialect: 'mysql',
    url: withDatabaseName(MYSQL_ADMIN_URL, name),
    drop: () => admin(`drop database if exists ${name}`),
  };
}

/** Creates a fresh empty database of `dialect`; the caller must drop() it. */
export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  switch (dialect) {
    case 'sqlite':
      return createSqlite();
    case 'postgres':
      return createPostgres();
    case 'mysql':
      return createMysql();
  }
}

/**
 * Registers beforeAll/afterAll hooks in the current describe block that create a fresh database
 * of `dialect` and drop it afterwards. Read `.url` inside tests (it is set by beforeAll).
 */
export function useTestDatabase(dialect: TestDialect): { readonly url: string } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get url(): string {
      if (!database) throw new Error('useTestDatabase: url read outside a test');
      return database.url;
    },
  };
}

/** Runs `fn` with a fresh database of `dialect` and drops it afterwards, also on failure. */
export async function withTestDatabase<T>(dialect: TestDialect, fn: (url: string) => Promise<T>): Promise<T> {
  const database = await createTestDatabase(dialect);
  try {
    return await fn(database.url);
  } finally {
    await database.drop();
  }
}

/**
 * Registers hooks that create a fresh database of `dialect`, open it and run the migrations
 * before the block's tests, then close and drop it. Read `.store` / `.url` inside tests.
 */
export function useMigratedStore(dialect: TestDialect): { readonly store: Store; readonly url: string } {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    store = await openStore(database.url);
    await migrate(store);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  return {
    get store(): Store {
      if (!store) throw new Error('useMigratedStore: store read outside a test');
      return store;
    },
    get url(): string {
      if (!database) throw new Error('useMigratedStore: url read outside a test');
      return database.url;
    },
  };
}
