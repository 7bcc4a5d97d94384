/**
 * Copies one table between two databases in batches: rows are read in id order after the
 * highest id the target already has, and each batch is inserted in one transaction, so an
 * interrupted copy resumes exactly where it stopped.
 */
import type { Kysely } from 'kysely';
import { insertBatches } from '../batches.js';
import type { CopyTable } from './copy-tables.js';

/** Tuning of a table copy. */
export interface CopyTableOptions {
  /** Rows read from the source per query. */
  batchSize: number;
  /** Called after each committed batch with the rows it held. */
  onRows(count: number): void;
}

/** What happened to one table. */
export type TableCopyOutcome =
  { status: 'copied'; rows: number } | { status: 'skipped'; reason: string } | { status: 'refused'; reason: string };

type Row = Record<string, unknown>;

/** Converts text timestamps (as SQLite returns them) into Dates for the target's timestamp columns. */
export function toTargetRow(row: Row, timestampColumns: ReadonlySet<string>): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    out[column] = timestampColumns.has(column) && typeof value === 'string' ? new Date(value) : value;
  }
  return out;
}

async function count(db: Kysely<any>, table: string, upToId?: number): Promise<number> {
  let query = db.selectFrom(table).select((eb) => eb.fn.countAll<number | string | bigint>().as('n'));
  if (upToId !== undefined) query = query.where('id', '<=', upToId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

async function maxId(db: Kysely<any>, table: string): Promise<number | null> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.max<number | string | null>('id').as('m'))
    .executeTakeFirstOrThrow();
  return row.m === null ? null : Number(row.m);
}

/** A value as every dialect can agree on it: instants as ISO text, integers as numbers. */
export function comparable(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) return new Date(value).toISOString();
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** Whether two rows (from different dialects) hold the same values. */
export function sameRow(a: Row, b: Row): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (comparable(a[key]) !== comparable(b[key])) return false;
  return true;
}

async function rowById(db: Kysely<any>, table: string, id: number): Promise<Row | undefined> {
  return await db.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst();
}

async function insertAll(target: Kysely<any>, table: string, rows: Row[]): Promise<void> {
  await target.transaction().execute(async (trx) => {
    for (const chunk of insertBatches(rows)) await trx.insertInto(table).values(chunk).execute();
  });
}

async function copyById(
  source: Kysely<any>,
  target: Kysely<any>,
  table: string,
  timestamps: ReadonlySet<string>,
  options: CopyTableOptions,
): Promise<TableCopyOutcome> {
  const done = await maxId(target, table);
  if (done !== null) {
    // Resuming: the target must hold the source's rows up to its highest id, the last one equal.
    const [inSource, inTarget] = await Promise.all([count(source, table, done), count(target, table)]);
    if (inSource !== inTarget) {
      return {
        status: 'refused',
        reason: `${table}: the target has ${inTarget} rows up to id ${done}, the source ${inSource}; it is not an earlier copy of this source`,
      };
    }
    const [ours, theirs] = await Promise.all([rowById(source, table, done), rowById(target, table, done)]);
    if (!ours || !theirs || !sameRow(ours, theirs)) {
      return {
        status: 'refused',
        reason: `${table}: the target's row ${done} differs from the source's; it is not an earlier copy of this source`,
      };
    }
    if (inTarget > 0) options.onRows(inTarget);
  }
  const read = async (after: number) =>
    (await source
      .selectFrom(table)
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(options.batchSize)
      .execute()) as Row[];
  let copied = 0;
  let rows = await read(done ?? Number.MIN_SAFE_INTEGER);
  while (rows.length > 0) {
    // The next batch is read while this one is written: the two databases work at once.
    const [, following] = await Promise.all([
      insertAll(
        target,
        table,
        rows.map((row) => toTargetRow(row, timestamps)),
      ),
      read(Number(rows[rows.length - 1]!.id)),
    ]);
    copied += rows.length;
    options.onRows(rows.length);
    rows = following;
  }
  return { status: 'copied', rows: copied };
}

async function copyWhole(
  source: Kysely<any>,
  target: Kysely<any>,
  table: string,
  timestamps: ReadonlySet<string>,
  options: CopyTableOptions,
): Promise<TableCopyOutcome> {
  const already = await count(target, table);
  if (already > 0) {
    options.onRows(already);
    return { status: 'skipped', reason: `${table}: already copied (${already} rows)` };
  }
  const rows = (await source.selectFrom(table).selectAll().execute()) as Row[];
  if (rows.length > 0)
    await insertAll(
      target,
      table,
      rows.map((row) => toTargetRow(row, timestamps)),
    );
  options.onRows(rows.length);
  return { status: 'copied', rows: rows.length };
}

/** Copies `table` from `source` into `target`; `timestamps` names the target's timestamp columns. */
export function copyTable(
  source: Kysely<any>,
  target: Kysely<any>,
  table: CopyTable,
  timestamps: ReadonlySet<string>,
  options: CopyTableOptions,
): Promise<TableCopyOutcome> {
  return table.key === 'id'
    ? copyById(source, target, table.name, timestamps, options)
    : copyWhole(source, target, table.name, timestamps, options);
}

/** Row count of `table` (for the verification at the end). */
export function countRows(db: Kysely<any>, table: string): Promise<number> {
  return count(db, table);
}
