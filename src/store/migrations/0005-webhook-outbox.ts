/**
 * Migration 0005: `outbox.channel`, so webhook notices travel through the same durable outbox
 * as mail (claimed, retried with backoff, given up after a bounded time). For a webhook row,
 * `recipient` is the URL, `subject` a one-line summary and `body` the JSON payload.
 * Public contract in docs/schema.md; never edit it once released, add a new migration instead.
 */
import type { Kysely, Migration } from 'kysely';
import { varchar } from './column-types.js';

/** The migration (the same on every dialect). */
export function webhookOutboxMigration(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .alterTable('outbox')
        .addColumn('channel', varchar(16), (c) => c.notNull().defaultTo('mail'))
        .execute();
    },
  };
}
