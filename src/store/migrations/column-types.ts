/**
 * The column types of each dialect, so that a migration states a column's meaning once
 * ("a timestamp", "a long text") and each database gets its right type.
 */
import { sql, type ColumnDataType, type CreateTableBuilder, type Expression } from 'kysely';
import type { StoreDialect } from '../store-url.js';

/** What Kysely's addColumn accepts as a type (its own alias is not exported). */
export type DataTypeExpression = ColumnDataType | Expression<unknown>;

export interface ColumnTypes {
  /** An instant, always UTC: timestamptz / DATETIME(3) / ISO-8601 TEXT. */
  timestamp: DataTypeExpression;
  /** Unindexed text of modest size (names, paths, error messages). */
  text: DataTypeExpression;
  /** Text that may exceed MySQL TEXT's 64 KiB (event messages and raw records, mail bodies). */
  longText: DataTypeExpression;
  /** 64-bit integer: byte and packet counters, ids and references to ids. */
  bigint: DataTypeExpression;
  /** 32-bit integer: ports, small counts. */
  integer: DataTypeExpression;
  /** Double precision float: percents (0–100) and load averages. */
  double: DataTypeExpression;
}

/** The column types to use on `dialect`. */
export function columnTypes(dialect: StoreDialect): ColumnTypes {
  const common = { bigint: 'bigint', integer: 'integer', double: 'double precision' } as const;
  switch (dialect) {
    case 'postgres':
      return { ...common, timestamp: 'timestamptz', text: 'text', longText: 'text' };
    case 'mysql':
      return { ...common, timestamp: 'datetime(3)', text: 'text', longText: sql`mediumtext` };
    case 'sqlite':
      return { ...common, timestamp: 'text', text: 'text', longText: 'text' };
  }
}

/** Text that takes part in an index: MySQL needs a length; the others enforce it too. */
export function varchar(length: number): DataTypeExpression {
  return `varchar(${length})` as DataTypeExpression;
}

/**
 * Adds the auto-increment primary key `id`: AUTOINCREMENT on SQLite (ids of pruned rows are
 * never reused), a bigint identity on PostgreSQL, a bigint AUTO_INCREMENT on MySQL.
 */
export function withId<T extends string>(
  builder: CreateTableBuilder<T, never>,
  dialect: StoreDialect,
): CreateTableBuilder<T, 'id'> {
  switch (dialect) {
    case 'sqlite':
      return builder.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
    case 'postgres':
      return builder.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
    case 'mysql':
      return builder.addColumn('id', 'bigint', (c) => c.primaryKey().autoIncrement());
  }
}

/** Table options: InnoDB and full UTF-8 on MySQL, nothing elsewhere. */
export function withTableOptions<T extends string, C extends string>(
  builder: CreateTableBuilder<T, C>,
  dialect: StoreDialect,
): CreateTableBuilder<T, C> {
  return dialect === 'mysql' ? builder.modifyEnd(sql`engine = InnoDB default charset = utf8mb4`) : builder;
}
