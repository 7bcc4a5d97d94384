/**
 * Whether a silence or a maintenance window covers one host's rule at one moment. Pure
 * functions: the orchestration (evaluate-host-alerts.ts) asks, the state machine never knows.
 */

/** A silence as the matcher needs it. */
export interface SilenceRule {
  id: number;
  hostPattern: string;
  /** A rule type or key; undefined silences every rule. */
  rule?: string;
  startsAt: Date;
  endsAt: Date;
}

/** The host and rule being evaluated. */
export interface SilenceTarget {
  hostName: string;
  ip: string;
  /** The rule key (`memory:critical`) and its type (`memory`). */
  ruleKey: string;
  ruleType: string;
}

/** True when `pattern` (`*` any run of characters, `?` one character, case-insensitive) matches all of `text`. */
export function globMatches(pattern: string, text: string): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(text);
}

/** True when `silence` is active at `now` and covers the target's host (by name or address) and rule (by type or key). */
export function silenceCovers(silence: SilenceRule, target: SilenceTarget, now: Date): boolean {
  if (now < silence.startsAt || now >= silence.endsAt) return false;
  if (!globMatches(silence.hostPattern, target.hostName) && !globMatches(silence.hostPattern, target.ip)) return false;
  return silence.rule === undefined || silence.rule === target.ruleKey || silence.rule === target.ruleType;
}
