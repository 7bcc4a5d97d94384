/**
 * A per-host failure, named by the stage of collection where it happened, so every error a
 * user sees says which host, where, and (in `hint`) what to do.
 * Its text often carries a host's or a library's words (a disconnect reason, stderr, an
 * exception message), so it is made one printable, capped line here, once, for every sink.
 * A leaf module: the ssh layer, the collector and the store all share this vocabulary, so it
 * imports nothing of theirs.
 */
import { oneLine } from '../text/untrusted-text.js';

/** Longest message (and hint) a StageError carries, in characters. */
export const MAX_STAGE_MESSAGE_CHARS = 1000;

/**
 * Every stage of the collection of one host, in pipeline order: the values of
 * `host_errors.stage` (docs/schema.md lists exactly these; test/stage-error.test.ts checks it).
 * A timeout is reported with the stage it interrupted, not as a stage of its own.
 */
export const STAGES = [
  'connect',
  'hostkey',
  'auth',
  'detect',
  'upload',
  'run',
  'decrypt',
  'validate',
  'store',
  'alert',
] as const;

/** Where in the collection of one host a failure happened. */
export type Stage = (typeof STAGES)[number];

/** Whether `value` is one of the STAGES (for text read back from the database). */
export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

/** A hint on what to do, and the error this one wraps (kept as the ES2022 `cause`). */
export interface StageErrorOptions {
  hint?: string;
  cause?: unknown;
}

/** A failure of one host at one stage, with an optional hint on what to do. */
export class StageError extends Error {
  readonly hint?: string;

  /** `details` is the hint itself, or the hint and the cause. */
  constructor(
    readonly stage: Stage,
    message: string,
    details: string | StageErrorOptions = {},
  ) {
    const { hint, cause } = typeof details === 'string' ? { hint: details, cause: undefined } : details;
    super(oneLine(message, MAX_STAGE_MESSAGE_CHARS), cause === undefined ? undefined : { cause });
    this.name = 'StageError';
    if (hint !== undefined) this.hint = oneLine(hint, MAX_STAGE_MESSAGE_CHARS);
  }

  /** One line for logs, summaries and the host_errors table. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/**
 * Wraps anything thrown into a StageError of the given stage, keeping one already staged; the
 * thrown value stays reachable as the wrapper's `cause` (its stack, its code).
 */
export function asStageError(error: unknown, stage: Stage): StageError {
  if (error instanceof StageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StageError(stage, message, { cause: error });
}
