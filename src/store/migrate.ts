/** Bringing a database's schema up to date with the migrations compiled into this program. */
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { initialMigration } from './migrations/0001-initial.js';
import { hostLeasesMigration } from './migrations/0002-host-leases-sample-order.js';
import { alertSeverityGroupingMigration } from './migrations/0003-alert-severity-grouping.js';
import { silencesMigration } from './migrations/0004-silences.js';
import { webhookOutboxMigration } from './migrations/0005-webhook-outbox.js';
import { cpuCountersMigration } from './migrations/0006-cpu-counters.js';
import type { Store } from './open-store.js';
import { StoreError, describeCause } from './store-error.js';
import type { StoreDialect } from './store-url.js';

/** Kysely's bookkeeping tables, named for this application so other readers can tell them apart. */
export const MIGRATION_TABLE = 'fleetstat_migration';
export const MIGRATION_LOCK_TABLE = 'fleetstat_migration_lock';

/** All migrations in order; names sort in the order they must run. */
function migrationsFor(dialect: StoreDialect): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-host-leases-sample-order': hostLeasesMigration(dialect),
    '0003-alert-severity-grouping': alertSeverityGroupingMigration(dialect),
    '0004-silences': silencesMigration(dialect),
    '0005-webhook-outbox': webhookOutboxMigration(),
    '0006-cpu-counters': cpuCountersMigration(dialect),
  };
}

/** Serves the migrations from code, so nothing is read from disk at run time. */
class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return migrationsFor(this.dialect);
  }
}

// Two Stores on one SQLite file in one process share the event loop: a synchronous busy wait
// in one would block the other's commit. Serialise migrations per process; across processes
// SQLite's write lock (BEGIN IMMEDIATE + busy_timeout) does the job.
let migrationQueue: Promise<unknown> = Promise.resolve();

/**
 * Applies every migration not yet applied and returns their names (empty when up to date).
 * Idempotent, and safe from several processes at once: PostgreSQL and MySQL take Kysely's
 * migration lock, SQLite runs the migration in a write transaction.
 * Throws StoreError naming the failed migration.
 */
export async function migrate(store: Store): Promise<{ applied: string[] }> {
  const run = migrationQueue.then(() => migrateNow(store));
  // The queue only orders the runs: this run's failure reaches its own caller through `run`.
  migrationQueue = run.catch(() => undefined);
  return run;
}

async function migrateNow(store: Store): Promise<{ applied: string[] }> {
  const migrator = new Migrator({
    db: store.db,
    provider: new InCodeMigrationProvider(store.dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError(
      `migrating database ${store.url} failed${failed ? ` in migration ${failed}` : ''}: ${describeCause(error)}`,
      store.url,
      { cause: error },
    );
  }
  return { applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
