/** The arithmetic behind bench/soak.ts's verdicts: least-squares slope, median, growth limit. */
import { describe, expect, it } from 'vitest';
import { fitSlope, judgeFigure, median } from '../bench/soak-figures.js';

describe('soak figures', () => {
  it('fits the least-squares slope, also through noise', () => {
    expect(fitSlope([0, 1, 2, 3], [5, 7, 9, 11])).toBeCloseTo(2);
    expect(fitSlope([0, 1, 2, 3], [1, 3, 1, 3])).toBeCloseTo(0.4);
    expect(fitSlope([0, 1000, 2000], [100, 100, 100])).toBe(0);
    expect(fitSlope([5, 5, 5], [1, 2, 3])).toBe(0); // no spread in x: no slope
    expect(fitSlope([1], [1])).toBe(0);
  });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('judges growth only past the limit and only when asked', () => {
    expect(judgeFigure(5, 4, true)).toBe('grows');
    expect(judgeFigure(4, 4, true)).toBe('flat');
    expect(judgeFigure(-3, 4, true)).toBe('flat');
    expect(judgeFigure(500, 4, false)).toBe('not judged');
  });
});
