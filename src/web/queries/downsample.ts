/**
 * Bounding a time series: points are averaged into equal-width time buckets so a chart never
 * receives more than a fixed number of points, whatever the range and the collection interval.
 * Rates are computed on the raw points before bucketing, so averaging keeps them meaningful.
 */

/** One raw point: unix seconds and named values (null = not measured). */
export interface SeriesPoint {
  time: number;
  values: (number | null)[];
}

/** Accumulates points into at most `maxPoints` buckets between `fromSeconds` and `toSeconds`. */
export class BucketAverager {
  readonly #width: number;
  readonly #maxIndex: number;
  readonly #buckets = new Map<number, { n: number; time: number; sums: number[]; counts: number[] }>();

  constructor(
    private readonly fromSeconds: number,
    toSeconds: number,
    maxPoints: number,
    private readonly seriesCount: number,
  ) {
    this.#width = Math.max((toSeconds - fromSeconds) / maxPoints, 1e-9);
    this.#maxIndex = Math.max(maxPoints - 1, 0);
  }

  /** Adds one point; points may arrive in any order. */
  add(point: SeriesPoint): void {
    // A point exactly at `to` (or just outside the range) joins the nearest edge bucket, so the count never exceeds maxPoints.
    const index = Math.min(Math.max(Math.floor((point.time - this.fromSeconds) / this.#width), 0), this.#maxIndex);
    let bucket = this.#buckets.get(index);
    if (!bucket) {
      bucket = {
        n: 0,
        time: 0,
        sums: new Array<number>(this.seriesCount).fill(0),
        counts: new Array<number>(this.seriesCount).fill(0),
      };
      this.#buckets.set(index, bucket);
    }
    bucket.n++;
    bucket.time += point.time;
    point.values.forEach((v, i) => {
      if (v !== null) {
        bucket.sums[i] = bucket.sums[i]! + v;
        bucket.counts[i] = bucket.counts[i]! + 1;
      }
    });
  }

  /** The averaged points in time order. */
  result(): SeriesPoint[] {
    return [...this.#buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, b]) => ({
        time: b.time / b.n,
        values: b.sums.map((sum, i) => (b.counts[i]! > 0 ? sum / b.counts[i]! : null)),
      }));
  }
}

/** Bytes per second between two counter readings; null across a counter reset (reboot, wrap) or without a previous reading. */
export function counterRate(
  previous: { time: number; value: number | null } | undefined,
  time: number,
  value: number | null,
): number | null {
  if (!previous || previous.value === null || value === null) return null;
  const dt = time - previous.time;
  const delta = value - previous.value;
  if (dt <= 0 || delta < 0) return null;
  return delta / dt;
}
