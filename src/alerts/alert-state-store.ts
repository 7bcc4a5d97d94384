/**
 * Reading and writing alert states (table `alerts`, one row per host+rule). The upsert is a
 * select followed by an insert or an update, which works the same on SQLite, PostgreSQL and
 * MySQL; run it inside a transaction.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AlertsTable, Database } from '../store/schema.js';
import type { AlertStateName, AlertStateRow } from './alert-state.js';

const STATE_NAMES: readonly AlertStateName[] = ['ok', 'pending', 'firing'];

/** Loads the stored states of one host, keyed by rule type. */
export async function loadAlertStates(db: Kysely<Database>, hostId: number): Promise<Map<string, AlertStateRow>> {
  const rows = await db.selectFrom('alerts').selectAll().where('host_id', '=', hostId).execute();
  return new Map(rows.map((row) => [row.rule, fromRow(row)]));
}

/** Stores the state of one host+rule (its key, see rule-key.ts), inserting the row the first time. */
export async function saveAlertState(
  db: Kysely<Database>,
  hostId: number,
  rule: string,
  state: AlertStateRow,
  exists: boolean,
  labels: { severity: string; mount: string | null; muted?: boolean } = { severity: 'warning', mount: null },
): Promise<void> {
  const { muted, ...names } = labels;
  const values = {
    ...names,
    ...(muted === undefined ? {} : { muted: muted ? 1 : 0 }),
    state: state.state,
    value: state.value,
    limit_value: state.limit,
    since: state.since,
    last_notified_at: state.lastNotifiedAt,
  };
  if (exists) {
    await db.updateTable('alerts').set(values).where('host_id', '=', hostId).where('rule', '=', rule).execute();
  } else {
    await db
      .insertInto('alerts')
      .values({ host_id: hostId, rule, ...values })
      .execute();
  }
}

/** The rule keys of one host whose firing went unmailed (alerts.muted = 1). */
export async function loadMutedRules(db: Kysely<Database>, hostId: number): Promise<Set<string>> {
  const rows = await db
    .selectFrom('alerts')
    .select('rule')
    .where('host_id', '=', hostId)
    .where('muted', '=', 1)
    .execute();
  return new Set(rows.map((row) => row.rule));
}

/**
 * Deletes the states of rules a host no longer has in the config, so a removed rule does not
 * stay "firing" forever on the dashboard.
 */
export async function deleteAlertStatesExcept(
  db: Kysely<Database>,
  hostId: number,
  keepRules: readonly string[],
): Promise<void> {
  let query = db.deleteFrom('alerts').where('host_id', '=', hostId);
  if (keepRules.length > 0) query = query.where('rule', 'not in', [...keepRules]);
  await query.execute();
}

function fromRow(row: Selectable<AlertsTable>): AlertStateRow {
  const state = STATE_NAMES.find((name) => name === row.state) ?? 'ok';
  return {
    state,
    value: row.value === null ? null : Number(row.value),
    limit: Number(row.limit_value),
    since: new Date(row.since),
    lastNotifiedAt: row.last_notified_at === null ? null : new Date(row.last_notified_at),
  };
}
