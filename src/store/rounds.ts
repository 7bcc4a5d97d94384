/** Collection rounds and the per-host failures within them. */
import { insertReturningId } from './inserted-id.js';
import type { Store } from './open-store.js';

/** Longest host error message kept; the rest of a runaway stderr is not worth storing. */
export const MAX_HOST_ERROR_LENGTH = 2000;

/** Records the start of a round and returns its id. */
export async function beginRound(store: Store, startedAt: Date): Promise<number> {
  return insertReturningId(store.db, store.dialect, 'rounds', {
    started_at: startedAt,
    finished_at: null,
    hosts_ok: 0,
    hosts_failed: 0,
  });
}

export interface RoundOutcome {
  finishedAt: Date;
  hostsOk: number;
  hostsFailed: number;
}

/** Records the end of a round and how many hosts succeeded and failed. */
export async function finishRound(store: Store, roundId: number, outcome: RoundOutcome): Promise<void> {
  await store.db
    .updateTable('rounds')
    .set({ finished_at: outcome.finishedAt, hosts_ok: outcome.hostsOk, hosts_failed: outcome.hostsFailed })
    .where('id', '=', roundId)
    .execute();
}

export interface HostFailure {
  roundId: number;
  hostId: number;
  /** connect | hostkey | auth | detect | upload | run | decrypt | validate | store | timeout */
  stage: string;
  message: string;
  occurredAt: Date;
}

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return text.slice(0, end);
}

/** Stores one host's failure in a round; the message is cut to 2000 characters. */
export async function recordHostError(store: Store, failure: HostFailure): Promise<void> {
  await store.db
    .insertInto('host_errors')
    .values({
      round_id: failure.roundId,
      host_id: failure.hostId,
      stage: failure.stage,
      message: truncate(failure.message, MAX_HOST_ERROR_LENGTH),
      occurred_at: failure.occurredAt,
    })
    .execute();
}
