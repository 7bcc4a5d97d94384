/**
 * A per-host failure, named by the stage of collection where it happened, so every error a
 * user sees says which host, where, and (in `hint`) what to do.
 */
export type Stage =
  | 'connect' | 'hostkey' | 'auth' | 'detect' | 'upload' | 'run'
  | 'decrypt' | 'validate' | 'store' | 'alert' | 'timeout';

export class StageError extends Error {
  constructor(
    readonly stage: Stage,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'StageError';
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
