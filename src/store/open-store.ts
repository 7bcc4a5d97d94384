/** Opening the database named by a URL: dialect setup, driver conventions, and a fast failure. */
import { CompiledQuery, Kysely, MysqlDialect, PostgresDialect, sql, type Dialect } from 'kysely';
import { createPool as createMysqlPool } from 'mysql2';
import pg from 'pg';
import type { Database } from './schema.js';
import { mysqlLockLimitsStatement, mysqlStatementLimitsStatements, postgresSessionLimits } from './session-limits.js';
import { openSqliteDatabase, ImmediateSqliteDialect } from './sqlite-dialect.js';
import { StoreError, describeCause, redactUrl } from './store-error.js';
import { parseStoreUrl, type StoreDialect, type StoreTarget } from './store-url.js';

/** An open database: the Kysely instance others query through, and how to close it. */
export interface Store {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** The URL it was opened with, password replaced by `***`: safe to print. */
  url: string;
  close(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5000;
const POOL_SIZE = 10;

/** pg parses int8 (counts, bigint ids and counters) as strings by default; we want numbers. */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === (pg.types.builtins.INT8 as number) && format !== 'binary'
      ? (value: string) => Number(value)
      : // pg types its own parsers' results as any; they are whatever pg parses, handed on unchanged.
        (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

function createPostgresDialect(connectionString: string): Dialect {
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    max: POOL_SIZE,
    types: pgTypes,
    // Lock, statement and idle-in-transaction limits: a locked table fails our statement, not the round.
    ...postgresSessionLimits(),
  });
  // A client losing its server (restart, pg_terminate_backend) emits 'error': on the pool when
  // idle, on the client itself while checked out between two queries of a transaction. Without
  // a listener either would crash the process; the next query reports the failure instead.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new PostgresDialect({ pool });
}

function createMysqlDialect(uri: string): Dialect {
  const pool = createMysqlPool({
    uri,
    connectTimeout: CONNECT_TIMEOUT_MS,
    connectionLimit: POOL_SIZE,
    // DATETIME(3) columns hold UTC: write and read Dates as UTC.
    timezone: 'Z',
    dateStrings: false,
    // BIGINT counters come back as numbers (as strings only past 2^53, which cannot be exact).
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4',
  });
  return new MysqlDialect({
    pool,
    // Strict mode turns silent truncation into errors, so a bad row fails its transaction.
    onCreateConnection: async (connection) => {
      await connection.executeQuery(
        CompiledQuery.raw(
          "set session sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'",
        ),
      );
      // Lock and statement limits: a locked table fails our statement, not the round (session-limits.ts).
      await connection.executeQuery(CompiledQuery.raw(mysqlLockLimitsStatement()));
      const limits = mysqlStatementLimitsStatements();
      try {
        await connection.executeQuery(CompiledQuery.raw(limits.mariadb));
      } catch {
        // Not MariaDB: MySQL names its statement limit differently.
        await connection.executeQuery(CompiledQuery.raw(limits.mysql));
      }
    },
  });
}

function createDialect(target: StoreTarget): Dialect {
  switch (target.dialect) {
    case 'sqlite':
      return new ImmediateSqliteDialect(openSqliteDatabase(target.path));
    case 'postgres':
      return createPostgresDialect(target.connectionString);
    case 'mysql':
      return createMysqlDialect(target.uri);
  }
}

/**
 * Opens the database named by `url` and checks that it answers, so a wrong URL or a stopped
 * server fails within about 5 s, before any host is contacted.
 * Throws StoreError (URL with password hidden) when the URL is malformed or the database refuses.
 */
export async function openStore(url: string): Promise<Store> {
  const target = parseStoreUrl(url);
  const shownUrl = redactUrl(url);
  let db: Kysely<Database>;
  try {
    db = new Kysely<Database>({ dialect: createDialect(target) });
  } catch (error) {
    throw new StoreError(`cannot open database ${shownUrl}: ${describeCause(error)}`, url, { cause: error });
  }
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    // The connect failure below is what the caller must hear; a pool that never connected has
    // nothing of value to close, so a failure to destroy it is not worth a second error.
    await db.destroy().catch(() => undefined);
    throw new StoreError(
      `cannot open database ${shownUrl}: ${describeCause(error)} (is the server running and the URL right?)`,
      url,
      { cause: error },
    );
  }
  return {
    db,
    dialect: target.dialect,
    url: shownUrl,
    close: () => db.destroy(),
  };
}
