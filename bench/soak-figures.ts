/** The arithmetic of bench/soak.ts: a least-squares slope, a median, and the growth verdict. */

/** One figure of the soak, as printed and in SOAK-JSON. */
export interface FigureReport {
  label: string;
  start: number;
  end: number;
  min: number;
  max: number;
  slopePer1000Rounds: number;
  limitPer1000Rounds: number;
  verdict: Verdict;
}

export type Verdict = 'flat' | 'grows' | 'not judged';

/** Least-squares slope of `ys` over `xs` (0 when the xs do not vary). */
export function fitSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2 || n !== ys.length) return 0;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < n; i += 1) {
    covariance += (xs[i]! - meanX) * (ys[i]! - meanY);
    variance += (xs[i]! - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Whether a slope per 1,000 rounds exceeds its limit; short runs are not judged. */
export function judgeFigure(slopePer1000Rounds: number, limit: number, judged: boolean): Verdict {
  if (!judged) return 'not judged';
  return slopePer1000Rounds > limit ? 'grows' : 'flat';
}
