/**
 * Migration 0006: CPU usage from cumulative counters (issue 16). Each sample keeps how its
 * cpu_percent was obtained and the span it covers, and the host's cumulative CPU counters, from
 * which the next round computes its figure without a sampling sleep (src/collect/cpu-rate.ts).
 * Every column is nullable: rows stored before it have none of them.
 * Public contract in docs/schema.md; never edit it once released, add a new migration instead.
 */
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store-url.js';
import { columnTypes, varchar } from './column-types.js';

/** The migration, with the column types of `dialect`. */
export function cpuCountersMigration(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      await db.schema.alterTable('samples').addColumn('cpu_method', varchar(16)).execute();
      await db.schema.alterTable('samples').addColumn('cpu_interval_ms', t.bigint).execute();
      await db.schema.alterTable('samples').addColumn('cpu_cores', t.integer).execute();
      await db.schema.alterTable('samples').addColumn('cpu_counter_total', t.bigint).execute();
      await db.schema.alterTable('samples').addColumn('cpu_counter_idle', t.bigint).execute();
    },
  };
}
