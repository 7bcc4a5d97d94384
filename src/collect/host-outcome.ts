/**
 * What became of one host in a round, as a union the compiler checks: stored, spooled (the
 * database failed, the report waits in the spool), failed (with the stage), or not started (the
 * round was abandoned first). Each member carries exactly the fields that exist in that state.
 */
import type { ClientConfig } from '../config/types.js';
import type { Report } from '../probe/report.js';
import { assertNever } from '../errors/assert-never.js';
import type { Stage, StageError } from '../errors/stage-error.js';

/** Collected and stored; its alert rules evaluated. */
export interface StoredHost {
  status: 'stored';
  client: ClientConfig;
  ms: number;
  report: Report;
  /** Bytes of probe script sent to the host. */
  uploadedBytes: number;
  /** Security events stored that were not stored before. */
  newEvents: number;
  /** Notices queued for this host (mails, changes waiting for the grouped mail, webhook notices). */
  mailsQueued: number;
}

/** Collected, but the database failed: the report waits in the spool for the next round. */
export interface SpooledHost {
  status: 'spooled';
  client: ClientConfig;
  ms: number;
  report: Report;
  uploadedBytes: number;
  /** The spool file holding the report. */
  path: string;
  /** Why it was not stored (stage `store`). */
  error: StageError;
}

/** Not collected, or collected and lost (database and spool both failed). */
export interface FailedHost {
  status: 'failed';
  client: ClientConfig;
  ms: number;
  error: StageError;
}

/** Never started: the round was abandoned (the collector shutting down) before its turn. */
export interface NotStartedHost {
  status: 'not-started';
  client: ClientConfig;
  reason: string;
}

export type HostOutcome = StoredHost | SpooledHost | FailedHost | NotStartedHost;

/** Why a host was not stored: the stage (null when it never started) and one line; undefined when it was. */
export function outcomeFailure(outcome: HostOutcome): { stage: Stage | null; message: string } | undefined {
  switch (outcome.status) {
    case 'stored':
      return undefined;
    case 'spooled':
    case 'failed':
      return { stage: outcome.error.stage, message: outcome.error.describe() };
    case 'not-started':
      return { stage: null, message: outcome.reason };
    default:
      return assertNever(outcome, 'host outcome');
  }
}
