/**
 * Migration 0002: `host_leases`, one row per host that several collectors share through row
 * leases (src/serve/lease-claimer.ts); and the per-host sample index extended by `id`, so that
 * PostgreSQL reads "latest sample" and "one host's day" (ORDER BY collected_at, id) straight
 * from it instead of walking every host's rows by time (bench/store-year.ts showed it did).
 * Public contract in docs/schema.md; never edit it once released, add a new migration instead.
 */
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store-url.js';
import { columnTypes, varchar, withTableOptions } from './column-types.js';

/** The lease table, with the column types of `dialect`. */
export function hostLeasesMigration(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withTableOptions(
        db.schema
          .createTable('host_leases')
          // "ip:port", as clientKey() writes it: the same (ip, port) pair that identifies hosts.
          .addColumn('host_key', varchar(300), (c) => c.primaryKey())
          .addColumn('owner', varchar(255))
          .addColumn('lease_until', t.timestamp)
          .addColumn('last_started_at', t.timestamp)
          .addColumn('last_finished_at', t.timestamp),
        dialect,
      ).execute();

      // Created before the old index goes: MySQL needs an index starting with host_id for the
      // samples_host_fk foreign key at every moment. The new one makes the old one redundant.
      await db.schema
        .createIndex('samples_host_collected_id_idx')
        .on('samples')
        .columns(['host_id', 'collected_at', 'id'])
        .execute();
      const dropOld = db.schema.dropIndex('samples_host_collected_idx');
      await (dialect === 'mysql' ? dropOld.on('samples') : dropOld).execute();
    },
  };
}
