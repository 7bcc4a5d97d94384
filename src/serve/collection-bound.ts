/**
 * The longest a host can wait between two collections when the collectors cannot keep up
 * (docs/scale-out.md, "Under overload"). Claims take the most overdue hosts first, so a host
 * whose collection has started moves behind every other host: once it is due again and its
 * own round is over, every claim either takes it or takes `perClaim` hosts that have waited
 * longer, and at most N − 1 hosts can be ahead of it. Hence, with
 *
 *   k = hosts per claim (⌈N/3⌉ with leases, N for a single collector without them)
 *   m = ⌊(N − 1) / k⌋ + 1   claims until it is taken
 *   R = ⌈k / concurrency⌉ × per-host time   (the longest round)
 *   P = the tick period (at most 1.1 × min(interval / 4, 15 s))
 *
 *   gap ≤ max(interval, R) + ⌈m / collectors⌉ × (R + P)
 *
 * since each live collector claims at least once per R + P. The bound holds for each
 * collector's own claims taking their full share; claims racing for the same rows skip each
 * other's and try again (up to three times), which does not change it in practice.
 */

export interface BoundInputs {
  /** Hosts in the config (N). */
  hosts: number;
  /** Hosts collected at once by each collector. */
  concurrency: number;
  /** Live collectors sharing the database (1 for SQLite). */
  collectors: number;
  /** The longest one host's collection takes: at most its timeout. */
  hostSeconds: number;
  intervalSeconds: number;
  /** The scheduler's tick period (default: its longest, 1.1 × min(interval / 4, 15 s)). */
  tickSeconds?: number;
  /** Hosts one claim takes at most (default ⌈N/3⌉, the lease claimer's share). */
  perClaim?: number;
  /** The longest round, when measured rather than derived from hostSeconds. */
  roundSeconds?: number;
}

/** The longest tick period of the scheduler for `intervalSeconds` (its jitter is ±10 %). */
export function longestTickSeconds(intervalSeconds: number): number {
  return 1.1 * Math.min(intervalSeconds / 4, 15);
}

/** The longest round of one claim: its hosts in waves of `concurrency`. */
export function longestRoundSeconds(inputs: BoundInputs): number {
  if (inputs.roundSeconds !== undefined) return inputs.roundSeconds;
  const perClaim = inputs.perClaim ?? Math.ceil(inputs.hosts / 3);
  return Math.ceil(Math.min(perClaim, inputs.hosts) / Math.max(1, inputs.concurrency)) * inputs.hostSeconds;
}

/** The longest time between two starts of one host's collection, in seconds. */
export function collectionGapBound(inputs: BoundInputs): number {
  const perClaim = Math.min(inputs.perClaim ?? Math.ceil(inputs.hosts / 3), inputs.hosts);
  const claims = Math.floor((inputs.hosts - 1) / perClaim) + 1;
  const round = longestRoundSeconds(inputs);
  const tick = inputs.tickSeconds ?? longestTickSeconds(inputs.intervalSeconds);
  return Math.max(inputs.intervalSeconds, round) + Math.ceil(claims / Math.max(1, inputs.collectors)) * (round + tick);
}
