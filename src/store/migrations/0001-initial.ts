/**
 * Migration 0001: every table of schema.ts. This is the public contract documented in
 * docs/schema.md; never edit it once released, add a new migration instead.
 */
import type { CreateTableBuilder, ForeignKeyConstraintBuilder, Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store-url.js';
import { columnTypes, varchar, withId, withTableOptions } from './column-types.js';

type Builder = CreateTableBuilder<string, string>;

/** The initial schema, with the column types of `dialect`. */
export function initialMigration(dialect: StoreDialect): Migration {
  const t = columnTypes(dialect);
  // Kysely<any>: a migration must not depend on today's schema.ts.
  const table = (db: Kysely<any>, name: string, columns: (b: Builder) => Builder) =>
    withTableOptions(columns(withId(db.schema.createTable(name), dialect) as Builder), dialect).execute();
  // Children go with their parent: deleting a host or a sample leaves no orphans.
  const cascade = (f: ForeignKeyConstraintBuilder) => f.onDelete('cascade');

  return {
    async up(db: Kysely<any>): Promise<void> {
      await table(db, 'hosts', (b) =>
        b
          .addColumn('ip', varchar(255), (c) => c.notNull())
          .addColumn('port', t.integer, (c) => c.notNull())
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('os', t.text)
          .addColumn('os_name', t.text)
          .addColumn('kernel', t.text)
          .addColumn('arch', t.text)
          .addColumn('hostname', t.text)
          .addColumn('first_seen', t.timestamp, (c) => c.notNull())
          .addColumn('last_seen', t.timestamp)
          .addUniqueConstraint('hosts_ip_port_key', ['ip', 'port']),
      );

      await table(db, 'rounds', (b) =>
        b
          .addColumn('started_at', t.timestamp, (c) => c.notNull())
          .addColumn('finished_at', t.timestamp)
          .addColumn('hosts_ok', t.integer, (c) => c.notNull().defaultTo(0))
          .addColumn('hosts_failed', t.integer, (c) => c.notNull().defaultTo(0)),
      );
      await db.schema.createIndex('rounds_started_at_idx').on('rounds').column('started_at').execute();

      await table(db, 'samples', (b) =>
        b
          .addColumn('host_id', t.bigint, (c) => c.notNull())
          .addColumn('round_id', t.bigint)
          .addColumn('collected_at', t.timestamp, (c) => c.notNull())
          .addColumn('cpu_percent', t.double, (c) => c.notNull())
          .addColumn('load1', t.double)
          .addColumn('load5', t.double)
          .addColumn('load15', t.double)
          .addColumn('mem_total', t.bigint, (c) => c.notNull())
          .addColumn('mem_used', t.bigint, (c) => c.notNull())
          .addColumn('mem_available', t.bigint, (c) => c.notNull())
          .addColumn('mem_percent', t.double, (c) => c.notNull())
          .addColumn('swap_total', t.bigint, (c) => c.notNull())
          .addColumn('swap_used', t.bigint, (c) => c.notNull())
          .addColumn('swap_percent', t.double, (c) => c.notNull())
          .addColumn('uptime_seconds', t.bigint, (c) => c.notNull())
          .addColumn('boot_time', t.timestamp)
          .addColumn('process_count', t.bigint, (c) => c.notNull())
          .addColumn('users_count', t.integer, (c) => c.notNull())
          .addForeignKeyConstraint('samples_host_fk', ['host_id'], 'hosts', ['id'], cascade)
          // A pruned round leaves its later samples in place, unlinked.
          .addForeignKeyConstraint('samples_round_fk', ['round_id'], 'rounds', ['id'], (f) => f.onDelete('set null')),
      );
      await db.schema
        .createIndex('samples_host_collected_idx')
        .on('samples')
        .columns(['host_id', 'collected_at'])
        .execute();
      await db.schema.createIndex('samples_round_idx').on('samples').column('round_id').execute();
      await db.schema.createIndex('samples_collected_idx').on('samples').column('collected_at').execute();

      await table(db, 'disk_usage', (b) =>
        b
          .addColumn('sample_id', t.bigint, (c) => c.notNull())
          .addColumn('mount', t.text, (c) => c.notNull())
          .addColumn('fs', t.text, (c) => c.notNull())
          .addColumn('device', t.text, (c) => c.notNull())
          .addColumn('size_bytes', t.bigint, (c) => c.notNull())
          .addColumn('used_bytes', t.bigint, (c) => c.notNull())
          .addColumn('avail_bytes', t.bigint, (c) => c.notNull())
          .addColumn('used_percent', t.double, (c) => c.notNull())
          .addForeignKeyConstraint('disk_usage_sample_fk', ['sample_id'], 'samples', ['id'], cascade),
      );
      await db.schema.createIndex('disk_usage_sample_idx').on('disk_usage').column('sample_id').execute();

      await table(db, 'net_io', (b) =>
        b
          .addColumn('sample_id', t.bigint, (c) => c.notNull())
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('rx_bytes', t.bigint, (c) => c.notNull())
          .addColumn('tx_bytes', t.bigint, (c) => c.notNull())
          .addColumn('rx_packets', t.bigint, (c) => c.notNull())
          .addColumn('tx_packets', t.bigint, (c) => c.notNull())
          .addColumn('rx_errors', t.bigint, (c) => c.notNull())
          .addColumn('tx_errors', t.bigint, (c) => c.notNull())
          .addForeignKeyConstraint('net_io_sample_fk', ['sample_id'], 'samples', ['id'], cascade),
      );
      await db.schema.createIndex('net_io_sample_idx').on('net_io').column('sample_id').execute();

      await table(db, 'logged_in_users', (b) =>
        b
          .addColumn('sample_id', t.bigint, (c) => c.notNull())
          .addColumn('name', t.text, (c) => c.notNull())
          .addColumn('tty', t.text, (c) => c.notNull())
          .addColumn('from_host', t.text, (c) => c.notNull())
          .addColumn('login_at', t.timestamp)
          .addForeignKeyConstraint('logged_in_users_sample_fk', ['sample_id'], 'samples', ['id'], cascade),
      );
      await db.schema.createIndex('logged_in_users_sample_idx').on('logged_in_users').column('sample_id').execute();

      await table(db, 'security_events', (b) =>
        b
          .addColumn('host_id', t.bigint, (c) => c.notNull())
          .addColumn('record_id', t.bigint, (c) => c.notNull())
          .addColumn('event_id', t.bigint, (c) => c.notNull())
          .addColumn('level', varchar(32), (c) => c.notNull())
          .addColumn('provider', t.text, (c) => c.notNull())
          .addColumn('logged_at', t.timestamp)
          .addColumn('message', t.longText, (c) => c.notNull())
          .addColumn('raw', t.longText)
          .addColumn('round_id', t.bigint)
          .addUniqueConstraint('security_events_host_record_key', ['host_id', 'record_id'])
          .addForeignKeyConstraint('security_events_host_fk', ['host_id'], 'hosts', ['id'], cascade)
          .addForeignKeyConstraint('security_events_round_fk', ['round_id'], 'rounds', ['id'], (f) =>
            f.onDelete('set null'),
          ),
      );
      await db.schema.createIndex('security_events_round_idx').on('security_events').column('round_id').execute();

      await table(db, 'host_errors', (b) =>
        b
          .addColumn('round_id', t.bigint, (c) => c.notNull())
          .addColumn('host_id', t.bigint, (c) => c.notNull())
          .addColumn('occurred_at', t.timestamp, (c) => c.notNull())
          .addColumn('stage', varchar(32), (c) => c.notNull())
          .addColumn('message', t.text, (c) => c.notNull())
          .addForeignKeyConstraint('host_errors_round_fk', ['round_id'], 'rounds', ['id'], cascade)
          .addForeignKeyConstraint('host_errors_host_fk', ['host_id'], 'hosts', ['id'], cascade),
      );
      await db.schema.createIndex('host_errors_round_idx').on('host_errors').column('round_id').execute();
      await db.schema
        .createIndex('host_errors_host_occurred_idx')
        .on('host_errors')
        .columns(['host_id', 'occurred_at'])
        .execute();

      await table(db, 'alerts', (b) =>
        b
          .addColumn('host_id', t.bigint, (c) => c.notNull())
          .addColumn('rule', varchar(32), (c) => c.notNull())
          .addColumn('state', varchar(16), (c) => c.notNull())
          .addColumn('value', t.double)
          .addColumn('limit_value', t.double, (c) => c.notNull())
          .addColumn('since', t.timestamp, (c) => c.notNull())
          .addColumn('last_notified_at', t.timestamp)
          .addUniqueConstraint('alerts_host_rule_key', ['host_id', 'rule'])
          .addForeignKeyConstraint('alerts_host_fk', ['host_id'], 'hosts', ['id'], cascade),
      );

      await table(db, 'outbox', (b) =>
        b
          .addColumn('recipient', t.text, (c) => c.notNull())
          .addColumn('subject', t.text, (c) => c.notNull())
          .addColumn('body', t.longText, (c) => c.notNull())
          .addColumn('created_at', t.timestamp, (c) => c.notNull())
          .addColumn('attempts', t.integer, (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', t.timestamp, (c) => c.notNull())
          .addColumn('sent_at', t.timestamp)
          .addColumn('last_error', t.text),
      );
      await db.schema
        .createIndex('outbox_sent_next_attempt_idx')
        .on('outbox')
        .columns(['sent_at', 'next_attempt_at'])
        .execute();
    },
  };
}
