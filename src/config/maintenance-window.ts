/**
 * Recurring maintenance windows from the config (`<maintenance>` in a `<client>`): on given
 * weekdays (or every day), from one UTC time of day to another; a window whose end is not after
 * its start runs past midnight into the next day. Pure: the caller passes the moment.
 */

/** One window. Days are 0 = Sunday … 6 = Saturday; times are minutes after midnight UTC. */
export interface MaintenanceWindow {
  days: readonly number[];
  fromMinute: number;
  toMinute: number;
  /** A rule type or key; undefined covers every rule. */
  rule?: string;
  /** Config line, for the dashboard and mails. */
  line: number;
}

const DAY_MINUTES = 24 * 60;

/** True when `now` falls inside `window` (the start is inside, the end is not). */
export function inMaintenance(window: MaintenanceWindow, now: Date): boolean {
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  const day = now.getUTCDay();
  if (window.fromMinute < window.toMinute) {
    return window.days.includes(day) && minute >= window.fromMinute && minute < window.toMinute;
  }
  // Past midnight: the evening part belongs to a listed day, the morning part to the day after one.
  const yesterday = (day + 6) % 7;
  return (
    (window.days.includes(day) && minute >= window.fromMinute) ||
    (window.days.includes(yesterday) && minute < window.toMinute)
  );
}

/** Minutes after midnight of `HH:MM` (00:00–24:00), or undefined. */
export function parseTimeOfDay(text: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return Number(match[2]) < 60 && minutes <= DAY_MINUTES ? minutes : undefined;
}
