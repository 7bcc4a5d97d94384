/**
 * What the three databases do differently, in one place (as Kysely's DialectAdapter does for
 * SQL generation): capability flags and the few query pieces that differ. Queries ask the
 * adapter instead of testing the dialect's name. Statement-size limits (chunking) are in
 * batches.ts; DDL types are in migrations/column-types.ts.
 *
 * | capability                          | SQLite             | PostgreSQL   | MySQL/MariaDB            |
 * |-------------------------------------|--------------------|--------------|--------------------------|
 * | INSERT … RETURNING                  | yes                | yes          | no: the driver's insert id |
 * | ignore a row that breaks a unique key | ON CONFLICT DO NOTHING | same     | ON DUPLICATE KEY UPDATE k = k |
 * | FOR UPDATE SKIP LOCKED, isolation levels | no (BEGIN IMMEDIATE serialises writers) | yes | yes (MySQL 8, MariaDB 10.6+) |
 * | characters in a text                | length()           | length()     | char_length() (length() counts bytes) |
 * | id counter after explicit ids       | follows            | setval()     | follows                  |
 */
import { sql, type Insertable, type InsertQueryBuilder, type Kysely, type RawBuilder } from 'kysely';
import { MysqlAdapter, PostgresAdapter, SqliteAdapter } from 'kysely';
import type { Database } from './schema.js';
import type { StoreDialect } from './store-url.js';

/** The capabilities and dialect-specific pieces of one database kind. */
export interface StoreAdapter {
  readonly dialect: StoreDialect;
  /** INSERT … RETURNING reports inserted rows (not on MySQL/MariaDB). */
  readonly supportsReturning: boolean;
  /**
   * Row locks that skip rows locked by others (FOR UPDATE SKIP LOCKED) and per-transaction
   * isolation levels: what lets several collectors share one database (src/store/leases.ts).
   */
  readonly supportsRowLocks: boolean;
  /**
   * The insert, made to skip a row that collides with the unique key on `columns` (a concurrent
   * writer stored it first). Any other error still fails: never INSERT IGNORE, which also turns
   * bad data into warnings on MySQL.
   */
  ignoreDuplicates<DB, T extends keyof DB & string, O>(
    insert: InsertQueryBuilder<DB, T, O>,
    columns: readonly [keyof DB[T] & string, ...(keyof DB[T] & string)[]],
  ): InsertQueryBuilder<DB, T, O>;
  /** The number of characters (not bytes) in a text column. */
  charLength(column: string): RawBuilder<number>;
  /**
   * After rows were inserted with explicit ids (db copy): moves the table's id counter past them,
   * so the next insert does not collide. Only PostgreSQL's sequences need it.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- db copy works on any table by name: Kysely<any> is Kysely's idiom for that
  advanceIdCounter(db: Kysely<any>, table: string): Promise<void>;
}

const lengthFunction = (column: string): RawBuilder<number> => sql<number>`length(${sql.ref(column)})`;

// SQLite and MySQL/MariaDB move their auto-increment past any explicit id by themselves.
const counterFollowsIds = async (): Promise<void> => undefined;

const onConflictDoNothing: StoreAdapter['ignoreDuplicates'] = (insert, columns) =>
  insert.onConflict((oc) => oc.columns(columns).doNothing());

const ADAPTERS: Record<StoreDialect, StoreAdapter> = {
  sqlite: {
    dialect: 'sqlite',
    supportsReturning: true,
    supportsRowLocks: false,
    ignoreDuplicates: onConflictDoNothing,
    charLength: lengthFunction,
    advanceIdCounter: counterFollowsIds,
  },
  postgres: {
    dialect: 'postgres',
    supportsReturning: true,
    supportsRowLocks: true,
    ignoreDuplicates: onConflictDoNothing,
    charLength: lengthFunction,
    advanceIdCounter: async (db, table) => {
      await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce(max(id), 1), max(id) is not null) from ${sql.table(table)}`.execute(
        db,
      );
    },
  },
  mysql: {
    dialect: 'mysql',
    supportsReturning: false,
    supportsRowLocks: true,
    // `k = k` (the stored row's own value) is a no-op update: the row stays as the first writer stored it.
    ignoreDuplicates: (insert, columns) => insert.onDuplicateKeyUpdate({ [columns[0]]: sql.ref(columns[0]) } as never),
    charLength: (column) => sql<number>`char_length(${sql.ref(column)})`,
    advanceIdCounter: counterFollowsIds,
  },
};

/** The adapter of a dialect. */
export function adapterFor(dialect: StoreDialect): StoreAdapter {
  return ADAPTERS[dialect];
}

/**
 * The adapter of the database behind `db` (a Kysely instance or a transaction), from the Kysely
 * adapter its dialect installed, so code holding only `db` needs no dialect parameter.
 */
export function adapterOf(db: Kysely<Database> | Kysely<never>): StoreAdapter {
  // getExecutor() is marked internal in Kysely but is the documented way to ask the dialect's abilities.
  const kyselyAdapter = (db as Kysely<Database>).getExecutor().adapter;
  if (kyselyAdapter instanceof MysqlAdapter) return ADAPTERS.mysql;
  if (kyselyAdapter instanceof PostgresAdapter) return ADAPTERS.postgres;
  if (kyselyAdapter instanceof SqliteAdapter) return ADAPTERS.sqlite;
  throw new Error(`unsupported database adapter ${kyselyAdapter.constructor.name}`);
}

type TableWithId = {
  [T in keyof Database]: Database[T] extends { id: unknown } ? T : never;
}[keyof Database];

/**
 * Inserts `values` into `table` and returns the new row's id: RETURNING where the database has
 * it, the driver's insert id otherwise (MySQL/MariaDB).
 */
export async function insertReturningId<T extends TableWithId>(
  db: Kysely<Database>,
  table: T,
  values: Insertable<Database[T]>,
): Promise<number> {
  // Kysely cannot type values for a table chosen by a type parameter; the signature above does.
  const query = db.insertInto(table).values(values);
  if (adapterOf(db).supportsReturning) {
    const row = await query.returning(sql.ref<number>('id').as('id')).executeTakeFirstOrThrow();
    return Number(row.id);
  }
  const result = await query.executeTakeFirstOrThrow();
  if (result.insertId === undefined) throw new Error(`insert into ${table} returned no id`);
  return Number(result.insertId);
}
