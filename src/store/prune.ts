/** Deleting history past the retention period. */
import { sql } from 'kysely';
import type { Store } from './open-store.js';

export interface PruneCounts {
  /** Samples deleted; their disk_usage, net_io and logged_in_users rows went with them. */
  samples: number;
  hostErrors: number;
  rounds: number;
  /** Sent mails deleted; unsent ones are always kept. */
  outbox: number;
}

/**
 * Deletes samples (and their child rows), host errors, rounds and sent mails older than
 * `cutoff`. Security events are kept: they hold each host's resume position and are few.
 * Each table is pruned in its own statement so no lock is held for the whole run; a prune
 * interrupted half way is simply finished by the next one.
 */
export async function pruneOlderThan(store: Store, cutoff: Date): Promise<PruneCounts> {
  const { db } = store;
  const samples = await db.deleteFrom('samples').where('collected_at', '<', cutoff).executeTakeFirst();
  const hostErrors = await db.deleteFrom('host_errors').where('occurred_at', '<', cutoff).executeTakeFirst();
  // A round is old once it ended (or, if it never finished, started) before the cutoff.
  const rounds = await db
    .deleteFrom('rounds')
    .where(sql<Date>`coalesce(${sql.ref('finished_at')}, ${sql.ref('started_at')})`, '<', cutoff)
    .executeTakeFirst();
  const outbox = await db
    .deleteFrom('outbox')
    .where('sent_at', 'is not', null)
    .where('sent_at', '<', cutoff)
    .executeTakeFirst();
  return {
    samples: Number(samples.numDeletedRows),
    hostErrors: Number(hostErrors.numDeletedRows),
    rounds: Number(rounds.numDeletedRows),
    outbox: Number(outbox.numDeletedRows),
  };
}
