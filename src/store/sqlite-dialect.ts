/**
 * SQLite through better-sqlite3, adapted to the conventions of schema.ts:
 * Date parameters are bound as ISO-8601 UTC text, and transactions start with BEGIN IMMEDIATE.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';

/** better-sqlite3 binds only numbers, strings, bigints, buffers and null. */
function bindable(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function bindAll(parameters: ReadonlyArray<unknown>): unknown[] {
  return parameters.map(bindable);
}

/** Wraps a better-sqlite3 database so every statement converts its parameters first. */
function withDateBinding(raw: BetterSqlite3.Database): SqliteDatabase {
  return {
    close: () => raw.close(),
    prepare(sqlText: string): SqliteStatement {
      const statement = raw.prepare(sqlText);
      return {
        reader: statement.reader,
        all: (parameters) => statement.all(bindAll(parameters)),
        run: (parameters) => statement.run(bindAll(parameters)),
        iterate: (parameters) => statement.iterate(bindAll(parameters)),
      };
    },
  };
}

/**
 * Opens a SQLite file (or `:memory:`) with WAL, a 5 s busy timeout and foreign keys on.
 * Throws the driver's error when the file cannot be opened or is not a database.
 */
export function openSqliteDatabase(path: string): SqliteDatabase {
  const raw = new BetterSqlite3(path, { timeout: 5000 });
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('busy_timeout = 5000');
    raw.pragma('foreign_keys = ON');
    // With WAL, NORMAL keeps the database consistent across crashes at a fraction of FULL's fsyncs.
    raw.pragma('synchronous = NORMAL');
  } catch (error) {
    raw.close();
    throw error;
  }
  return withDateBinding(raw);
}

/**
 * A plain deferred BEGIN lets two writers both read and then fail to upgrade with SQLITE_BUSY
 * without waiting; BEGIN IMMEDIATE takes the write lock up front so busy_timeout applies.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * Kysely treats SQLite DDL as non-transactional, so its migrator would run without any lock or
 * transaction and two processes could both create the tables. SQLite DDL is transactional:
 * saying so makes the migrator run inside one BEGIN IMMEDIATE transaction, which serialises
 * concurrent migrators and rolls a failed migration back whole.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely's SQLite dialect with transactions that take the write lock at BEGIN, DDL included. */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;

  constructor(database: SqliteDatabase) {
    super({ database });
    this.#database = database;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
