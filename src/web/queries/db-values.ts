/**
 * Reading values back from any of the three drivers: timestamps arrive as Date (PostgreSQL,
 * MySQL) or ISO text (SQLite), and aggregates such as SUM or COUNT may arrive as strings or
 * bigints (PostgreSQL numeric, MySQL decimal).
 */
import { toDate as storedTimestamp } from '../../store/timestamps.js';

/** A timestamp column value as a Date (the store's conversion), or null when absent or invalid. */
export function toDate(value: Date | string | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const date = storedTimestamp(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A timestamp column value as ISO-8601 UTC text, or null. */
export function toIso(value: Date | string | null | undefined): string | null {
  return toDate(value)?.toISOString() ?? null;
}

/** A numeric value from the driver (number, numeric string or bigint) as a number, or null. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}
