/** Bucket averaging and counter rates of the samples API, on plain numbers. */
import { describe, expect, it } from 'vitest';
import { BucketAverager, counterRate } from '../src/web/queries/downsample.js';

describe('BucketAverager', () => {
  it('never returns more points than asked, even with points on the range edges', () => {
    for (const maxPoints of [1, 2, 7, 100]) {
      const averager = new BucketAverager(1000, 2000, maxPoints, 1);
      for (let t = 1000; t <= 2000; t += 0.5) averager.add({ time: t, values: [t] });
      const points = averager.result();
      expect(points.length).toBeLessThanOrEqual(maxPoints);
      expect(points.length).toBe(Math.min(maxPoints, 2001));
      // Averages of an increasing series increase, and each equals its mean time.
      for (let i = 1; i < points.length; i++) expect(points[i]!.time).toBeGreaterThan(points[i - 1]!.time);
      for (const p of points) expect(p.values[0]).toBeCloseTo(p.time, 6);
    }
  });

  it('averages only measured values and keeps a gap as null', () => {
    const averager = new BucketAverager(0, 10, 2, 2);
    averager.add({ time: 1, values: [10, null] });
    averager.add({ time: 2, values: [20, null] });
    averager.add({ time: 6, values: [null, 4] });
    expect(averager.result()).toEqual([
      { time: 1.5, values: [15, null] },
      { time: 6, values: [null, 4] },
    ]);
  });
});

describe('counterRate', () => {
  it('is bytes per second between readings, null without a previous one or across a reset', () => {
    expect(counterRate({ time: 10, value: 1000 }, 20, 6000)).toBe(500);
    expect(counterRate(undefined, 20, 6000)).toBeNull();
    expect(counterRate({ time: 10, value: 9000 }, 20, 100)).toBeNull();
    expect(counterRate({ time: 20, value: 1 }, 20, 2)).toBeNull();
    expect(counterRate({ time: 10, value: null }, 20, 2)).toBeNull();
  });
});
