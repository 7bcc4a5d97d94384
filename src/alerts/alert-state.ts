/**
 * The alert state machine for one host and one rule, after Alertmanager:
 *
 *   ok ──above──▶ pending ──above for `for` s──▶ firing ──below──▶ ok (one "resolved" mail)
 *    └──above, for = 0──────────────────────────▶ firing
 *   firing ──still above, `repeat` s since the last mail──▶ firing (one "reminder" mail)
 *
 * "Above" means value > limit, compared as numbers: a limit of 0 fires on any usage, and a
 * limit of 100 (%) never fires, because usage cannot exceed 100 %. A value equal to the limit
 * is not above it. A missing value (null: the figure is unknown this run) changes nothing, so an
 * unreachable host does not "resolve" its disk alert.
 *
 * Hysteresis: a rule with a clear level (`clear`, below its limit) fires above the limit but
 * resolves only at or below the clear level, so a value hovering at the limit does not flap:
 *
 *   firing ──value > clear──▶ firing        firing ──value <= clear──▶ ok (resolved)
 *
 * Without one the clear level is the limit itself.
 *
 * With notify="every-run" a firing rule mails on every run ("firing" the first time, then
 * "reminder"), ignoring `repeat`; it still sends one "resolved" mail when it clears.
 */
import type { AlertRule } from '../config/types.js';

export type AlertStateName = 'ok' | 'pending' | 'firing';
export type AlertTransition = 'none' | 'firing' | 'reminder' | 'resolved';

/** The stored state of one host+rule (a row of table `alerts`, with parsed dates). */
export interface AlertStateRow {
  state: AlertStateName;
  /** Last measured value, null if never measured. */
  value: number | null;
  limit: number;
  /** When the current state was entered. */
  since: Date;
  /** When the last firing/reminder/resolved mail was queued, null if none yet. */
  lastNotifiedAt: Date | null;
}

export interface AlertObservation {
  value: number | null;
  limit: number;
  now: Date;
  rule: Pick<AlertRule, 'forSeconds' | 'repeatSeconds' | 'notify' | 'clearLimit'>;
}

export interface AlertStep {
  /** The state to store. */
  state: AlertStateRow;
  /** The mail to send for this step, 'none' for no mail. */
  transition: AlertTransition;
  /** The state before this step ('ok' when there was no stored state). */
  previous: AlertStateName;
}

/** True when `value` breaches `limit`: strictly greater, compared as numbers. */
export function isAboveLimit(value: number, limit: number): boolean {
  return Number(value) > Number(limit);
}

/**
 * Computes the next state of one host+rule from its stored state (undefined the first time) and
 * this run's observation, and which mail, if any, that step sends.
 */
export function nextAlertState(prev: AlertStateRow | undefined, observation: AlertObservation): AlertStep {
  const { value, limit, now, rule } = observation;
  const current: AlertStateRow = prev ?? { state: 'ok', value: null, limit, since: now, lastNotifiedAt: null };
  const step = (state: AlertStateRow, transition: AlertTransition): AlertStep => ({
    state,
    transition,
    previous: current.state,
  });

  if (value === null || !Number.isFinite(value)) {
    // Unknown this run: keep everything (including the old value) as it was.
    return step({ ...current, limit }, 'none');
  }

  const measured = { ...current, value, limit };
  if (current.state === 'firing' && rule.clearLimit !== undefined && isAboveLimit(value, rule.clearLimit)) {
    // Between the clear level and the limit: still firing (hysteresis), reminders as usual.
    if (reminderDue(current, now, rule)) return step({ ...measured, lastNotifiedAt: now }, 'reminder');
    return step(measured, 'none');
  }
  if (!isAboveLimit(value, limit)) {
    if (current.state === 'firing') {
      return step({ ...measured, state: 'ok', since: now, lastNotifiedAt: now }, 'resolved');
    }
    if (current.state === 'pending') return step({ ...measured, state: 'ok', since: now }, 'none');
    return step(measured, 'none');
  }

  switch (current.state) {
    case 'ok':
      if (rule.forSeconds > 0) return step({ ...measured, state: 'pending', since: now }, 'none');
      return step({ ...measured, state: 'firing', since: now, lastNotifiedAt: now }, 'firing');
    case 'pending':
      if (secondsBetween(current.since, now) >= rule.forSeconds) {
        return step({ ...measured, state: 'firing', since: now, lastNotifiedAt: now }, 'firing');
      }
      return step(measured, 'none');
    case 'firing':
      if (reminderDue(current, now, rule)) return step({ ...measured, lastNotifiedAt: now }, 'reminder');
      return step(measured, 'none');
  }
}

function reminderDue(current: AlertStateRow, now: Date, rule: AlertObservation['rule']): boolean {
  if (rule.notify === 'every-run') return true;
  // repeat 0 means "no reminders": one firing mail, then only the resolved one.
  if (rule.repeatSeconds <= 0) return false;
  const last = current.lastNotifiedAt ?? current.since;
  return secondsBetween(last, now) >= rule.repeatSeconds;
}

function secondsBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}
