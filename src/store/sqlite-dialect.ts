/**
 * SQLite through better-sqlite3, adapted to the conventions of schema.ts:
 * Date parameters are bound as ISO-8601 UTC text, transactions start with BEGIN IMMEDIATE, and
 * waiting for another process's lock happens asynchronously (see BusyRetryConnection).
 */
import { closeSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
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

/**
 * Prepared statements kept per SQL text. Kysely prepares every query anew, and a round runs the
 * same few statements for every host: preparing was the largest single cost of SQLite storage.
 */
const STATEMENT_CACHE_SIZE = 256;

/** Wraps a better-sqlite3 database so every statement converts its parameters first. */
function withDateBinding(raw: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sqlText: string): BetterSqlite3.Statement => {
    let statement = statements.get(sqlText);
    if (!statement) {
      statement = raw.prepare(sqlText);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
      statements.set(sqlText, statement);
    }
    return statement;
  };
  return {
    close: () => raw.close(),
    prepare(sqlText: string): SqliteStatement {
      const statement = prepared(sqlText);
      return {
        reader: statement.reader,
        all: (parameters) => statement.all(bindAll(parameters)),
        run: (parameters) => statement.run(bindAll(parameters)),
        // A cached statement is busy while it is iterated: a stream gets a statement of its own.
        iterate: (parameters) => raw.prepare(sqlText).iterate(bindAll(parameters)),
      };
    },
  };
}

/** How long a statement waits, in all, for another connection's lock. */
const BUSY_WAIT_MS = 5000;
/**
 * SQLite's own busy timeout: better-sqlite3 waits synchronously, which freezes the whole process
 * (every SSH session of a round, their timers included), so it is kept tiny and the real wait
 * is done asynchronously by BusyRetryConnection.
 */
const SYNC_BUSY_MS = 20;
const BUSY_POLL_MS = 25;

/**
 * Opens a SQLite file (or `:memory:`) with WAL, a 5 s (asynchronous) busy wait and foreign keys
 * on. Throws the driver's error when the file cannot be opened or is not a database.
 */
export function openSqliteDatabase(path: string): SqliteDatabase {
  createPrivately(path);
  const raw = new BetterSqlite3(path, { timeout: SYNC_BUSY_MS });
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma(`busy_timeout = ${SYNC_BUSY_MS}`);
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
 * The database holds security events, host errors and mails: a new file is created 0600 before
 * SQLite opens it (SQLite would use 0644 less the umask). SQLite gives its -wal and -shm files
 * the database file's permissions, so they are private too. An existing file is left as it is.
 */
function createPrivately(path: string): void {
  if (path === ':memory:' || path === '') return;
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch {
    // It exists already, or cannot be made (no such directory): SQLite's own open, next, says so.
    return;
  }
  closeSync(fd);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Retries a statement refused with SQLITE_BUSY (nothing was done: safe to repeat) every 25 ms
 * for up to BUSY_WAIT_MS, yielding to the event loop in between. A lock that outlasted a whole
 * wait is taken as a locked database for the next BUSY_WAIT_MS: statements then try once and
 * fail at once, so a file locked by another process costs a round one wait, not one per
 * statement queued behind it (the round spools those reports instead).
 */
class BusyRetryConnection implements DatabaseConnection {
  constructor(
    private readonly inner: DatabaseConnection,
    private readonly busy: { lockedUntil: number },
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const started = Date.now();
    const patient = started >= this.busy.lockedUntil;
    for (;;) {
      try {
        return await this.inner.executeQuery<R>(query);
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (!patient) throw error;
        if (Date.now() - started >= BUSY_WAIT_MS) {
          this.busy.lockedUntil = Date.now() + BUSY_WAIT_MS;
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS));
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

/**
 * A plain deferred BEGIN lets two writers both read and then fail to upgrade with SQLITE_BUSY
 * without waiting; BEGIN IMMEDIATE takes the write lock up front so the busy wait applies.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #busy = { lockedUntil: 0 };

  override async acquireConnection(): Promise<DatabaseConnection> {
    return new BusyRetryConnection(await super.acquireConnection(), this.#busy);
  }

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
