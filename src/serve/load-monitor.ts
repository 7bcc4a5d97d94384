/**
 * Whether the collectors keep up with the interval, from the backlog the claimer reports each
 * tick. Two states, with hysteresis so a backlog hovering near the line does not flap:
 *
 *   keeping-up --(most overdue host waited >= 1 interval past its due time)--> behind
 *   behind     --(no host waited >= 1/2 interval for 2 intervals)-----------> keeping-up
 *
 * The wait of the most overdue host saw-tooths under overload (each claim takes the longest
 * waiting, the next ones have waited less), so one low reading is not a recovery.
 * A host collected on time waits at most a tick (interval/4, jittered) plus the rest of the
 * round running when it fell due; waiting a whole interval means it missed a collection.
 * observe() returns a log line only when the state changes; status() is what /metrics, the
 * API and the dashboard show.
 */
import type { Backlog } from './host-claimer.js';

/** Behind once the most overdue host has waited this many intervals past its due time. */
export const BEHIND_AT_INTERVALS = 1;
/** Caught up again once no host waited this many intervals … */
export const CAUGHT_UP_BELOW_INTERVALS = 0.5;
/** … for this many intervals in a row. */
export const CAUGHT_UP_QUIET_INTERVALS = 2;

export type LoadState = 'keeping-up' | 'behind';

/** The latest assessment (all zero and state 'unknown' before the first). */
export interface CollectionStatus {
  state: LoadState | 'unknown';
  /** When the current state began (null before the first assessment). */
  since: Date | null;
  assessedAt: Date | null;
  hosts: number;
  overdue: number;
  mostOverdueSeconds: number;
  intervalSeconds: number;
}

/** What the advice in the log line refers to. */
export interface LoadContext {
  intervalSeconds: number;
  concurrency: number;
}

const seconds = (value: number) => `${value.toFixed(1)} s`;

/** Tracks the load state and says when it changes. */
export class LoadMonitor {
  #status: CollectionStatus = {
    state: 'unknown',
    since: null,
    assessedAt: null,
    hosts: 0,
    overdue: 0,
    mostOverdueSeconds: 0,
    intervalSeconds: 0,
  };
  /** The longest wait seen while behind, for the recovery line. */
  #worstSeconds = 0;
  /** The last time (ms) a host had waited CAUGHT_UP_BELOW_INTERVALS or more. */
  #lastHighAt: number | null = null;

  /** The latest assessment. */
  status(): CollectionStatus {
    return { ...this.#status };
  }

  /** Takes a new backlog; returns the log line when the state changed, else undefined. */
  observe(backlog: Backlog, now: Date, context: LoadContext): string | undefined {
    const interval = context.intervalSeconds;
    const previous = this.#status;
    if (backlog.mostOverdueSeconds >= CAUGHT_UP_BELOW_INTERVALS * interval) this.#lastHighAt = now.getTime();
    const quiet = this.#lastHighAt === null ? Infinity : (now.getTime() - this.#lastHighAt) / 1000;
    const state = nextState(previous.state, backlog.mostOverdueSeconds, interval, quiet);
    const changed = state !== previous.state;
    this.#status = {
      state,
      since: changed ? now : previous.since,
      assessedAt: now,
      hosts: backlog.hosts,
      overdue: backlog.overdue,
      mostOverdueSeconds: backlog.mostOverdueSeconds,
      intervalSeconds: interval,
    };
    if (state === 'behind')
      this.#worstSeconds = changed
        ? backlog.mostOverdueSeconds
        : Math.max(this.#worstSeconds, backlog.mostOverdueSeconds);
    if (!changed) return undefined;
    if (state === 'behind') {
      // The most overdue host's last start was this long ago: an interval the fleet can be collected in.
      const cycle = Math.ceil(backlog.mostOverdueSeconds + interval);
      return (
        `collection behind: ${backlog.overdue} of ${backlog.hosts} hosts overdue, the most overdue by ${seconds(backlog.mostOverdueSeconds)} ` +
        `(interval ${interval} s); to collect every host once per interval raise concurrency (now ${context.concurrency}), ` +
        `lengthen the interval (to ${cycle} s or more) or add a collector on the same database`
      );
    }
    if (previous.state === 'unknown') return undefined; // starting on time is not news
    return (
      `collection caught up: ${backlog.overdue} of ${backlog.hosts} hosts overdue, none by more than ${seconds(backlog.mostOverdueSeconds)} ` +
      `(interval ${interval} s); was behind for ${seconds((now.getTime() - previous.since!.getTime()) / 1000)}, at worst ${seconds(this.#worstSeconds)}`
    );
  }
}

/**
 * The state after seeing the most overdue host wait `waited` seconds, when no host has waited
 * half an interval for the last `quietSeconds`.
 */
export function nextState(
  current: LoadState | 'unknown',
  waited: number,
  intervalSeconds: number,
  quietSeconds: number,
): LoadState {
  if (waited >= BEHIND_AT_INTERVALS * intervalSeconds) return 'behind';
  if (current === 'behind' && quietSeconds < CAUGHT_UP_QUIET_INTERVALS * intervalSeconds) return 'behind';
  return 'keeping-up';
}
