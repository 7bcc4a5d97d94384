/**
 * Migration 0004: `silences` (muting a host or a host pattern, optionally one rule, for a while,
 * stored in the database so that every collector honours them) and `alerts.muted` (an alert
 * whose firing was not mailed because it was silenced, in maintenance or inhibited: its
 * resolution is not mailed either, and its firing is mailed if it outlasts the silence).
 * Public contract in docs/schema.md; never edit it once released, add a new migration instead.
 */
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store-url.js';
import { columnTypes, varchar, withId, withTableOptions } from './column-types.js';

/** The migration, with the column types of `dialect`. */
export function silencesMigration(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('alerts')
        .addColumn('muted', t.integer, (c) => c.notNull().defaultTo(0))
        .execute();
      await withTableOptions(
        withId(db.schema.createTable('silences'), dialect)
          .addColumn('host_pattern', varchar(255), (c) => c.notNull())
          .addColumn('rule', varchar(64))
          .addColumn('starts_at', t.timestamp, (c) => c.notNull())
          .addColumn('ends_at', t.timestamp, (c) => c.notNull())
          .addColumn('author', t.text, (c) => c.notNull())
          .addColumn('comment', t.text, (c) => c.notNull())
          .addColumn('created_at', t.timestamp, (c) => c.notNull()),
        dialect,
      ).execute();
      await db.schema.createIndex('silences_ends_at_idx').on('silences').column('ends_at').execute();
    },
  };
}
