/** Read queries over `rounds` and `host_errors` for the dashboard, API and metrics. */
import type { Kysely, Selectable } from 'kysely';
import type { Database, RoundsTable } from '../../store/schema.js';
import { toIso, toNumber } from './db-values.js';

export interface RoundView {
  id: number;
  started_at: string | null;
  finished_at: string | null;
  /** Null while the round is still running. */
  duration_seconds: number | null;
  hosts_ok: number;
  hosts_failed: number;
  /** Host errors recorded in the round, by stage. */
  errors_by_stage: Record<string, number>;
}

export interface HostErrorView {
  round_id: number;
  host_id: number;
  occurred_at: string | null;
  stage: string;
  message: string;
}

/** The most recent rounds, newest first, with their errors counted by stage. */
export async function listRounds(db: Kysely<Database>, limit: number): Promise<RoundView[]> {
  const rounds = await db.selectFrom('rounds').selectAll().orderBy('id', 'desc').limit(limit).execute();
  return withErrorCounts(db, rounds);
}

/** The newest round that has finished, or undefined before the first one ends. */
export async function latestFinishedRound(db: Kysely<Database>): Promise<RoundView | undefined> {
  const rounds = await db
    .selectFrom('rounds')
    .selectAll()
    .where('finished_at', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .execute();
  const [round] = await withErrorCounts(db, rounds);
  return round;
}

type RoundRow = Selectable<RoundsTable>;

async function withErrorCounts(db: Kysely<Database>, rounds: RoundRow[]): Promise<RoundView[]> {
  if (rounds.length === 0) return [];
  const counts = await db
    .selectFrom('host_errors')
    .select(['round_id', 'stage', (eb) => eb.fn.countAll().as('n')])
    .where(
      'round_id',
      'in',
      rounds.map((r) => r.id),
    )
    .groupBy(['round_id', 'stage'])
    .execute();
  return rounds.map((round) => {
    const started = toIso(round.started_at);
    const finished = toIso(round.finished_at);
    const errors_by_stage: Record<string, number> = {};
    for (const c of counts) if (Number(c.round_id) === Number(round.id)) errors_by_stage[c.stage] = toNumber(c.n) ?? 0;
    return {
      id: Number(round.id),
      started_at: started,
      finished_at: finished,
      duration_seconds: started && finished ? (Date.parse(finished) - Date.parse(started)) / 1000 : null,
      hosts_ok: Number(round.hosts_ok),
      hosts_failed: Number(round.hosts_failed),
      errors_by_stage,
    };
  });
}

/** The errors a host had, newest first. */
export async function hostErrorHistory(db: Kysely<Database>, hostId: number, limit: number): Promise<HostErrorView[]> {
  const rows = await db
    .selectFrom('host_errors')
    .select(['round_id', 'host_id', 'occurred_at', 'stage', 'message'])
    .where('host_id', '=', hostId)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    round_id: Number(r.round_id),
    host_id: Number(r.host_id),
    occurred_at: toIso(r.occurred_at),
    stage: r.stage,
    message: r.message,
  }));
}

/** The errors recorded in one round. */
export async function roundErrors(db: Kysely<Database>, roundId: number): Promise<HostErrorView[]> {
  const rows = await db
    .selectFrom('host_errors')
    .select(['round_id', 'host_id', 'occurred_at', 'stage', 'message'])
    .where('round_id', '=', roundId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    round_id: Number(r.round_id),
    host_id: Number(r.host_id),
    occurred_at: toIso(r.occurred_at),
    stage: r.stage,
    message: r.message,
  }));
}
