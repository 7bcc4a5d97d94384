/** Errors raised by the storage layer, always naming the database (with its password hidden). */

/** A storage failure the user can act on: the message names the database and what went wrong. */
export class StoreError extends Error {
  /** The database URL with any password replaced by `***`. */
  readonly url: string;

  constructor(message: string, url: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.url = redactUrl(url);
  }
}

/**
 * Returns the URL with its password (user-info password or `password=` query parameter)
 * replaced by `***`, so it can be printed or logged.
 */
export function redactUrl(url: string): string {
  // Regexes rather than `new URL`, so malformed URLs (say an unescaped @ in the password) are redacted too.
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/]*@/i, '$1:***@')
    .replace(/([?&](?:password|pass|pwd)=)[^&#]*/gi, '$1***');
}

/** The message of any thrown value, for wrapping into a StoreError. */
export function describeCause(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // pg/mysql2 report "connect ECONNREFUSED" for each address tried; show the first.
    return describeCause(error.errors[0]);
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
