/**
 * Validating path and query parameters of the API and pages. Every failure is a BadRequest whose
 * message names the parameter and what it accepts; the server answers it with 400.
 */

/** A client error: answered with 400 and this message. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

/** A missing resource: answered with 404 and this message. */
export class NotFound extends Error {
  override readonly name = 'NotFound';
}

/** The query string as single values; unknown and repeated parameters are rejected. */
export function readQuery(query: unknown, allowed: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (!allowed.includes(key)) {
      throw new BadRequest(
        allowed.length === 0
          ? `unknown query parameter "${key}": this endpoint takes none`
          : `unknown query parameter "${key}": expected ${allowed.map((a) => `"${a}"`).join(', ')}`,
      );
    }
    if (typeof value !== 'string') throw new BadRequest(`query parameter "${key}" must be given once`);
    out[key] = value;
  }
  return out;
}

/** A database id: a positive integer in decimal. */
export function parseId(text: string | undefined, name: string): number {
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new BadRequest(`"${name}" must be a positive integer id, got ${JSON.stringify(text ?? '')}`);
  }
  return Number(text);
}

// Date and time with an explicit zone, as ISO 8601 / RFC 3339 writes them: 2024-05-01T12:00:00Z, …+02:00.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An instant in ISO 8601 with a zone, e.g. 2024-05-01T12:00:00Z. */
export function parseInstant(text: string, name: string): Date {
  const ms = ISO_INSTANT.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) {
    throw new BadRequest(
      `"${name}" must be an ISO 8601 timestamp with a time zone, like 2024-05-01T12:00:00Z; got ${JSON.stringify(text)}`,
    );
  }
  return new Date(ms);
}

/** A result count limit between 1 and `max`, `fallback` when absent. */
export function parseLimit(text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = /^[0-9]{1,7}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= max))
    throw new BadRequest(`"limit" must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(
  text: string | undefined,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) {
    throw new BadRequest(`"${name}" must be one of ${choices.join(', ')}; got ${JSON.stringify(text)}`);
  }
  return text as T;
}

/** Longest range /samples accepts, so one request cannot ask the database for years. */
export const MAX_RANGE_DAYS = 400;

/** The [from, to] range of a samples request; default: the last 24 hours up to now. */
export function parseRange(query: { from?: string; to?: string }, now: Date): { from: Date; to: Date } {
  const to = query.to !== undefined ? parseInstant(query.to, 'to') : now;
  const from = query.from !== undefined ? parseInstant(query.from, 'from') : new Date(to.getTime() - 24 * 3600_000);
  if (from.getTime() >= to.getTime())
    throw new BadRequest(`"from" (${from.toISOString()}) must be before "to" (${to.toISOString()})`);
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86400_000)
    throw new BadRequest(`the range from "from" to "to" may span at most ${MAX_RANGE_DAYS} days`);
  return { from, to };
}
