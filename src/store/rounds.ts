/** Collection rounds and the per-host failures within them. */
import { insertReturningId } from './dialect-adapter.js';
import type { Store } from './open-store.js';
import { oneLine } from '../text/untrusted-text.js';
import type { Stage } from '../errors/stage-error.js';

/** Longest host error message kept; the rest of a runaway stderr is not worth storing. */
export const MAX_HOST_ERROR_LENGTH = 2000;

/** Records the start of a round and returns its id. */
export async function beginRound(store: Store, startedAt: Date): Promise<number> {
  return insertReturningId(store.db, 'rounds', {
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
  stage: Stage;
  message: string;
  occurredAt: Date;
}

/** Stores one host's failure in a round; the message is made one printable line of at most 2000 characters. */
export async function recordHostError(store: Store, failure: HostFailure): Promise<void> {
  await store.db
    .insertInto('host_errors')
    .values({
      round_id: failure.roundId,
      host_id: failure.hostId,
      stage: failure.stage,
      message: oneLine(failure.message, MAX_HOST_ERROR_LENGTH),
      occurred_at: failure.occurredAt,
    })
    .execute();
}
