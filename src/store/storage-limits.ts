/**
 * What one host may add to the database. The report schema (src/probe/report.ts) bounds what a
 * probe may send; these tighter limits bound what is kept of it, so a compromised target that
 * sends the maximum every round (hundreds of disks with long names, thousands of events with
 * fresh record ids) cannot fill the collector's disk. Counts are per report; event text is also
 * budgeted per host over a rolling day. Text limits are in characters (UTF-16 units, as the
 * schema counts them): at most 3 bytes each in UTF-8. The figures are in docs/schema.md.
 */
import type { DiskReport, EventReport, NicReport, Report, UserReport } from '../probe/report.js';

export const STORAGE_LIMITS = {
  disks: 64,
  diskMount: 256,
  diskDevice: 256,
  diskFs: 16,
  nics: 64,
  nicName: 64,
  users: 32,
  userName: 32,
  userTty: 32,
  userFrom: 64,
  eventLevel: 32,
  eventProvider: 128,
  eventMessage: 8192,
  eventRaw: 16384,
  /** What each event row is charged on top of its text, for its numbers and index entries: many tiny events cost too. */
  eventRowCharge: 128,
  /** Characters of event text (level + provider + message + raw, plus the row charge) kept from one report. */
  eventCharsPerReport: 128 * 1024,
  /** Events kept per host over the last 24 h (rounds' start times, the collector's clock). */
  eventsPerDay: 10_000,
  /** Characters of event text kept per host over the last 24 h. */
  eventCharsPerDay: 4 * 1024 * 1024,
} as const;

/** Cuts `text` to `max` characters, marking the cut with an ellipsis; never splits a surrogate pair. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate would be left without its pair
  return `${text.slice(0, end)}…`;
}

/** The characters an event is charged against the event budgets: its text plus the row charge. */
export function eventChars(event: EventReport): number {
  return (
    STORAGE_LIMITS.eventRowCharge +
    event.level.length +
    event.provider.length +
    event.message.length +
    (event.raw?.length ?? 0)
  );
}

function limitDisk(d: DiskReport): DiskReport {
  const L = STORAGE_LIMITS;
  return { ...d, mount: clip(d.mount, L.diskMount), device: clip(d.device, L.diskDevice), fs: clip(d.fs, L.diskFs) };
}

function limitNic(n: NicReport): NicReport {
  return { ...n, name: clip(n.name, STORAGE_LIMITS.nicName) };
}

function limitUser(u: UserReport): UserReport {
  const L = STORAGE_LIMITS;
  return { ...u, name: clip(u.name, L.userName), tty: clip(u.tty, L.userTty), from: clip(u.from, L.userFrom) };
}

/** An event's text fields cut to their limits. */
export function limitEvent(e: EventReport): EventReport {
  const L = STORAGE_LIMITS;
  const limited: EventReport = {
    ...e,
    level: clip(e.level, L.eventLevel),
    provider: clip(e.provider, L.eventProvider),
    message: clip(e.message, L.eventMessage),
  };
  if (e.raw !== undefined) limited.raw = clip(e.raw, L.eventRaw);
  return limited;
}

/** What limitReport left out, for the host's error record. */
export interface Trimmed {
  disks: number;
  nics: number;
  users: number;
}

/**
 * The report as it will be stored (and spooled): at most `STORAGE_LIMITS.disks` disks, `nics`
 * NICs and `users` users, every text field cut to its limit, every event's text fields cut to
 * theirs. Events are not dropped here (that depends on what is already stored: see
 * selectEventsWithinBudget).
 */
export function limitReport(report: Report): { report: Report; trimmed: Trimmed } {
  const L = STORAGE_LIMITS;
  const trimmed: Trimmed = {
    disks: Math.max(0, report.disks.length - L.disks),
    nics: Math.max(0, report.nics.length - L.nics),
    users: Math.max(0, report.users.length - L.users),
  };
  return {
    report: {
      ...report,
      disks: report.disks.slice(0, L.disks).map(limitDisk),
      nics: report.nics.slice(0, L.nics).map(limitNic),
      users: report.users.slice(0, L.users).map(limitUser),
      events: { ...report.events, items: report.events.items.map(limitEvent) },
    },
    trimmed,
  };
}

/** Events and event text a host stored over the last day. */
export interface EventUsage {
  events: number;
  chars: number;
}

/**
 * Picks the new events to store, lowest record id first, within the per-report count `cap`, the
 * per-report character budget and what is left of the host's daily budgets. The rest are not
 * stored: since the probe resumes after the highest stored record id, a legitimate host's
 * deferred events are read again next round, and stored once the budget allows.
 */
export function selectEventsWithinBudget(
  fresh: readonly EventReport[],
  cap: number,
  usedToday: EventUsage,
): { keep: EventReport[]; deferred: number } {
  const L = STORAGE_LIMITS;
  const rowsLeft = Math.max(0, Math.min(cap, L.eventsPerDay - usedToday.events));
  let charsLeft = Math.max(0, Math.min(L.eventCharsPerReport, L.eventCharsPerDay - usedToday.chars));
  const keep: EventReport[] = [];
  for (const event of [...fresh].sort((a, b) => a.record_id - b.record_id)) {
    const chars = eventChars(event);
    if (keep.length >= rowsLeft || chars > charsLeft) break;
    keep.push(event);
    charsLeft -= chars;
  }
  return { keep, deferred: fresh.length - keep.length };
}

/** One line for the host's error record saying what the limits left out; undefined when nothing was. */
export function describeLimited(limited: Trimmed & { events: number }): string | undefined {
  const L = STORAGE_LIMITS;
  const parts: string[] = [];
  if (limited.disks > 0) parts.push(`${limited.disks} disks over the limit of ${L.disks}`);
  if (limited.nics > 0) parts.push(`${limited.nics} NICs over the limit of ${L.nics}`);
  if (limited.users > 0) parts.push(`${limited.users} user sessions over the limit of ${L.users}`);
  if (limited.events > 0)
    parts.push(
      `${limited.events} new security events over the per-report or daily budget (read again by a later round)`,
    );
  return parts.length === 0 ? undefined : `storage limits: not stored: ${parts.join('; ')}`;
}
