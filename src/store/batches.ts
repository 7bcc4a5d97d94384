/**
 * Splitting statements into sizes every database accepts: multi-row inserts, and the key lists
 * of `IN (…)`. One rule for all three dialects, under the lowest of their limits, so a statement
 * that works on SQLite works on PostgreSQL and MariaDB alike.
 */

// Well under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement.
const MAX_PARAMETERS = 10_000;
// Well under MariaDB's default 16 MiB max_allowed_packet, counting text at its UTF-8 size.
const MAX_TEXT_BYTES = 4 * 1024 * 1024;

function textBytes(row: Record<string, unknown>): number {
  let bytes = 0;
  for (const value of Object.values(row)) {
    bytes += typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 8;
  }
  return bytes;
}

/**
 * Splits rows into batches for one multi-row INSERT each: usually a single batch; more only
 * when the rows would exceed the bound-parameter limit or the packet size of a database.
 */
export function insertBatches<T extends Record<string, unknown>>(rows: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let parameters = 0;
  let bytes = 0;
  for (const row of rows) {
    const rowParameters = Object.keys(row).length;
    const rowBytes = textBytes(row);
    if (current.length > 0 && (parameters + rowParameters > MAX_PARAMETERS || bytes + rowBytes > MAX_TEXT_BYTES)) {
      batches.push(current);
      current = [];
      parameters = 0;
      bytes = 0;
    }
    current.push(row);
    parameters += rowParameters;
    bytes += rowBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Keys per `IN (…)` list: a few hundred parameters, cheap to plan everywhere. */
export const KEYS_PER_STATEMENT = 500;

/** Splits the keys of an `IN (…)` list into lists of at most KEYS_PER_STATEMENT. */
export function keyChunks<T>(keys: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) out.push(keys.slice(i, i + KEYS_PER_STATEMENT));
  return out;
}
