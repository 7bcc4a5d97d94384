/**
 * `fleetstat db copy`: every table of one fleetstat database into another (normally SQLite into
 * an empty PostgreSQL or MySQL/MariaDB), in batches, resumable, verified by row counts.
 */
import type { Kysely } from 'kysely';
import type { Store } from '../open-store.js';
import { COPY_TABLES, type CopyTable } from './copy-tables.js';
import { adapterFor } from '../dialect-adapter.js';
import { copyTable, countRows, type TableCopyOutcome } from './copy-table.js';

/** Events a progress display follows. */
export type CopyEvent =
  | { type: 'start'; totalRows: number }
  | { type: 'rows'; table: string; count: number }
  | { type: 'table-done'; table: string; outcome: TableCopyOutcome };

/** Source and target row counts of one table after the copy. */
export interface TableCount {
  table: string;
  source: number;
  target: number;
}

/** The result of a whole copy. */
export type CopyOutcome =
  | { status: 'verified'; counts: TableCount[] }
  | { status: 'mismatch'; counts: TableCount[] }
  | { status: 'refused'; reason: string };

/** Options of copyDatabase. */
export interface CopyOptions {
  batchSize: number;
  onEvent?: (event: CopyEvent) => void;
  /** Tables to copy (default: all, in dependency order). */
  tables?: readonly CopyTable[];
}

const TIMESTAMP_TYPE = /^(timestamp|timestamptz|datetime)/i;

/** Timestamp columns per table, as the target declares them. */
async function timestampColumns(target: Kysely<any>): Promise<Map<string, Set<string>>> {
  const map = new Map<string, Set<string>>();
  for (const table of await target.introspection.getTables()) {
    map.set(table.name, new Set(table.columns.filter((c) => TIMESTAMP_TYPE.test(c.dataType)).map((c) => c.name)));
  }
  return map;
}

async function verify(source: Kysely<any>, target: Kysely<any>, tables: readonly CopyTable[]): Promise<TableCount[]> {
  const counts: TableCount[] = [];
  for (const { name } of tables)
    counts.push({ table: name, source: await countRows(source, name), target: await countRows(target, name) });
  return counts;
}

/**
 * Copies every table from `source` into `target`; both must be migrated. A target that already
 * holds rows is accepted only as an earlier, interrupted copy of the same source.
 */
export async function copyDatabase(source: Store, target: Store, options: CopyOptions): Promise<CopyOutcome> {
  const from = source.db as unknown as Kysely<any>;
  const to = target.db as unknown as Kysely<any>;
  const tables = options.tables ?? COPY_TABLES;
  const emit = options.onEvent ?? (() => undefined);
  const timestamps = await timestampColumns(to);
  let totalRows = 0;
  for (const { name } of tables) totalRows += await countRows(from, name);
  emit({ type: 'start', totalRows });
  for (const table of tables) {
    const outcome = await copyTable(from, to, table, timestamps.get(table.name) ?? new Set(), {
      batchSize: options.batchSize,
      onRows: (count) => emit({ type: 'rows', table: table.name, count }),
    });
    if (outcome.status === 'refused') return { status: 'refused', reason: outcome.reason };
    if (table.key === 'id') await adapterFor(target.dialect).advanceIdCounter(to, table.name);
    emit({ type: 'table-done', table: table.name, outcome });
  }
  const counts = await verify(from, to, tables);
  return { status: counts.every((c) => c.source === c.target) ? 'verified' : 'mismatch', counts };
}
