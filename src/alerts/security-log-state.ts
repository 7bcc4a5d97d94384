/**
 * Whether a Windows host's Security log became unreadable (the account lacks Administrator
 * rights). Kept as one row of `alerts` (rule "security-log", state firing while unreadable), so
 * the host's owner is told once when it happens, not every run, and the dashboard lists it.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export const SECURITY_LOG_RULE = 'security-log';

/** Records the log's readability; resolves true when it has just become unreadable. */
export async function securityLogBecameUnreadable(
  db: Kysely<Database>,
  hostId: number,
  readable: boolean,
  now: Date,
): Promise<boolean> {
  const row = await db
    .selectFrom('alerts')
    .select(['id', 'state'])
    .where('host_id', '=', hostId)
    .where('rule', '=', SECURITY_LOG_RULE)
    .executeTakeFirst();
  const state = readable ? 'ok' : 'firing';
  if (row?.state === state || (!row && readable)) return false;
  if (row) {
    await db
      .updateTable('alerts')
      .set({ state, since: now, value: readable ? 0 : 1, last_notified_at: readable ? null : now })
      .where('id', '=', row.id)
      .execute();
  } else {
    await db
      .insertInto('alerts')
      .values({
        host_id: hostId,
        rule: SECURITY_LOG_RULE,
        state,
        value: 1,
        limit_value: 0,
        since: now,
        last_notified_at: now,
      })
      .execute();
  }
  return !readable;
}
