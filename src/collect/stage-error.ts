/**
 * A per-host failure, named by the stage of collection where it happened, so every error a
 * user sees says which host, where, and (in `hint`) what to do.
 * Its text often carries a host's or a library's words (a disconnect reason, stderr, an
 * exception message), so it is made one printable, capped line here, once, for every sink.
 */
import { oneLine } from '../text/untrusted-text.js';

/** Longest message (and hint) a StageError carries, in characters. */
export const MAX_STAGE_MESSAGE_CHARS = 1000;

/** Where in the collection of one host a failure happened. */
export type Stage =
  | 'connect' | 'hostkey' | 'auth' | 'detect' | 'upload' | 'run'
  | 'decrypt' | 'validate' | 'store' | 'alert' | 'timeout';

/** A failure of one host at one stage, with an optional hint on what to do. */
export class StageError extends Error {
  readonly hint?: string;

  constructor(
    readonly stage: Stage,
    message: string,
    hint?: string,
  ) {
    super(oneLine(message, MAX_STAGE_MESSAGE_CHARS));
    this.name = 'StageError';
    if (hint !== undefined) this.hint = oneLine(hint, MAX_STAGE_MESSAGE_CHARS);
  }

  /** One line for logs, summaries and the host_errors table. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** Wraps anything thrown into a StageError of the given stage, keeping one already staged. */
export function asStageError(error: unknown, stage: Stage): StageError {
  if (error instanceof StageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StageError(stage, message);
}
