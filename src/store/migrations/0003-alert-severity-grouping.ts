/**
 * Migration 0003: alerting for a fleet (issue 12).
 * - `alerts.severity` and `alerts.mount`: several rules of one type (a warning and a critical
 *   limit, one disk rule per mount) keep separate states; `rule` holds the rule's key.
 * - `notifications`: each alert change waits here, stored in the same transaction as the state
 *   change, until the end of the round folds every change for one recipient into one mail.
 * - `outbox.message_id`, `outbox.in_reply_to`, `outbox.failed_at`, `outbox.tries`: a stable
 *   Message-ID per mail, threading of a resolution under its firing mail, the moment a mail was
 *   given up, and every delivery attempt counted (`attempts` counts only refusals).
 * Public contract in docs/schema.md; never edit it once released, add a new migration instead.
 */
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store-url.js';
import { columnTypes, varchar, withId, withTableOptions } from './column-types.js';

/** The migration, with the column types of `dialect`. */
export function alertSeverityGroupingMigration(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      await db.schema
        .alterTable('alerts')
        .addColumn('severity', varchar(16), (c) => c.notNull().defaultTo('warning'))
        .execute();
      await db.schema.alterTable('alerts').addColumn('mount', t.text).execute();

      await db.schema.alterTable('outbox').addColumn('message_id', t.text).execute();
      await db.schema.alterTable('outbox').addColumn('in_reply_to', t.text).execute();
      await db.schema.alterTable('outbox').addColumn('failed_at', t.timestamp).execute();
      await db.schema
        .alterTable('outbox')
        .addColumn('tries', t.integer, (c) => c.notNull().defaultTo(0))
        .execute();

      await withTableOptions(
        withId(db.schema.createTable('notifications'), dialect)
          .addColumn('host_id', t.bigint, (c) => c.notNull())
          .addColumn('recipient', t.text, (c) => c.notNull())
          .addColumn('rule', varchar(32), (c) => c.notNull())
          .addColumn('severity', varchar(16), (c) => c.notNull())
          .addColumn('transition', varchar(16), (c) => c.notNull())
          .addColumn('summary', t.text, (c) => c.notNull())
          .addColumn('details', t.longText, (c) => c.notNull())
          .addColumn('thread_id', t.text, (c) => c.notNull())
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('outbox_id', t.bigint)
          .addForeignKeyConstraint('notifications_host_fk', ['host_id'], 'hosts', ['id'], (f) => f.onDelete('cascade')),
        dialect,
      ).execute();
      await db.schema
        .createIndex('notifications_outbox_idx')
        .on('notifications')
        .columns(['outbox_id', 'id'])
        .execute();
    },
  };
}
