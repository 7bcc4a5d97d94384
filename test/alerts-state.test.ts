import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  isAboveLimit,
  nextAlertState,
  type AlertObservation,
  type AlertStateRow,
  type AlertStep,
} from '../src/alerts/alert-state.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const onChange = { forSeconds: 0, repeatSeconds: 4 * 3600, notify: 'on-change' as const };

/** Runs a sequence of (seconds, value) observations, returning every step. */
function run(rule: AlertObservation['rule'], limit: number, series: Array<[number, number | null]>): AlertStep[] {
  let state: AlertStateRow | undefined;
  return series.map(([seconds, value]) => {
    const step = nextAlertState(state, { value, limit, now: at(seconds), rule });
    state = step.state;
    return step;
  });
}

describe('limit comparison', () => {
  it('fires only strictly above the limit, compared as numbers', () => {
    expect(isAboveLimit(90, 90)).toBe(false);
    expect(isAboveLimit(90.0001, 90)).toBe(true);
    expect(isAboveLimit(0.1, 0)).toBe(true);
    expect(isAboveLimit(0, 0)).toBe(false);
    expect(isAboveLimit(100, 100)).toBe(false);
    // String comparison would say "9" > "10"; numbers must not.
    expect(isAboveLimit(9, 10)).toBe(false);
    expect(isAboveLimit(10, 9)).toBe(true);
  });

  it('limit 0% fires on any usage; limit 100% never fires on a percentage', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), (percent) => {
        const zero = nextAlertState(undefined, { value: percent, limit: 0, now: T0, rule: onChange });
        const hundred = nextAlertState(undefined, { value: percent, limit: 100, now: T0, rule: onChange });
        expect(zero.transition).toBe(percent > 0 ? 'firing' : 'none');
        expect(hundred.transition).toBe('none');
        expect(hundred.state.state).toBe('ok');
      }),
    );
  });
});

describe('on-change notification (Alertmanager semantics)', () => {
  it('fires once, stays quiet while firing, resolves once, then is ok', () => {
    const steps = run(onChange, 90, [
      [0, 50],
      [60, 95],
      [120, 96],
      [180, 99],
      [240, 40],
      [300, 30],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['none', 'firing', 'none', 'none', 'resolved', 'none']);
    expect(steps.map((s) => s.state.state)).toEqual(['ok', 'firing', 'firing', 'firing', 'ok', 'ok']);
    expect(steps[1]!.state.lastNotifiedAt).toEqual(at(60));
    expect(steps[3]!.state.value).toBe(99);
    expect(steps[4]!.state.since).toEqual(at(240));
  });

  it('sends a reminder exactly when repeat has elapsed since the last mail, and not before', () => {
    const repeat = 3600;
    const rule = { ...onChange, repeatSeconds: repeat };
    const steps = run(rule, 80, [
      [0, 90],
      [repeat - 1, 90],
      [repeat, 90],
      [repeat + 60, 90],
      [2 * repeat - 1, 90],
      [2 * repeat, 90],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'none', 'reminder', 'none', 'none', 'reminder']);
    expect(steps[2]!.state.lastNotifiedAt).toEqual(at(repeat));
  });

  it('repeat 0 means no reminders', () => {
    const steps = run({ ...onChange, repeatSeconds: 0 }, 80, [
      [0, 90],
      [10_000, 90],
      [99_999, 90],
      [100_000, 10],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'none', 'none', 'resolved']);
  });

  it('a value equal to the limit resolves a firing alert', () => {
    const steps = run(onChange, 90, [
      [0, 91],
      [60, 90],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'resolved']);
  });

  it('a missing value changes nothing: no resolve, no fire, previous value kept', () => {
    const steps = run(onChange, 90, [
      [0, 95],
      [60, null],
      [120, null],
      [180, 95],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'none', 'none', 'none']);
    expect(steps[1]!.state.state).toBe('firing');
    expect(steps[1]!.state.value).toBe(95);
    const fresh = nextAlertState(undefined, { value: null, limit: 90, now: T0, rule: onChange });
    expect(fresh).toMatchObject({ transition: 'none', state: { state: 'ok', value: null } });
  });

  it('fires again after resolving when the value climbs back', () => {
    const steps = run(onChange, 90, [
      [0, 95],
      [60, 10],
      [120, 95],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('never sends two firing mails without a resolved in between (random series)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constant(null)), { maxLength: 60 }),
        (values) => {
          const steps = run(
            onChange,
            50,
            values.map((v, i) => [i * 600, v]),
          );
          let firing = false;
          for (const step of steps) {
            if (step.transition === 'firing') expect(firing).toBe(false);
            if (step.transition === 'resolved') expect(firing).toBe(true);
            if (step.transition === 'reminder') expect(firing).toBe(true);
            if (step.transition === 'firing') firing = true;
            if (step.transition === 'resolved') firing = false;
            expect(step.state.state === 'firing').toBe(firing);
          }
        },
      ),
    );
  });
});

describe('for: pending before firing', () => {
  const rule = { ...onChange, forSeconds: 300 };

  it('goes pending, then fires once the condition has held for `for` seconds', () => {
    const steps = run(rule, 90, [
      [0, 95],
      [120, 95],
      [299, 95],
      [300, 95],
      [360, 95],
    ]);
    expect(steps.map((s) => s.state.state)).toEqual(['pending', 'pending', 'pending', 'firing', 'firing']);
    expect(steps.map((s) => s.transition)).toEqual(['none', 'none', 'none', 'firing', 'none']);
  });

  it('a dip below the limit while pending resets the clock without any mail', () => {
    const steps = run(rule, 90, [
      [0, 95],
      [200, 50],
      [250, 95],
      [500, 95],
      [550, 95],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['none', 'none', 'none', 'none', 'firing']);
    expect(steps[1]!.state.state).toBe('ok');
  });
});

describe('every-run notification', () => {
  const rule = { ...onChange, notify: 'every-run' as const };

  it('mails on every run above the limit and once when it clears', () => {
    const steps = run(rule, 90, [
      [0, 10],
      [60, 95],
      [120, 95],
      [180, 96],
      [240, 10],
      [300, 10],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['none', 'firing', 'reminder', 'reminder', 'resolved', 'none']);
  });
});

describe('unreachable (value 1 = failed, limit 0)', () => {
  it('fires when the host fails and resolves when it answers again', () => {
    const steps = run(onChange, 0, [
      [0, 0],
      [60, 1],
      [120, 1],
      [180, 0],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['none', 'firing', 'none', 'resolved']);
  });
});

describe('hysteresis: a clear level below the limit', () => {
  const rule = { ...onChange, clearLimit: 80 };

  it('fires above the limit, stays firing between clear and limit, resolves at or below clear', () => {
    const steps = run(rule, 90, [
      [0, 91],
      [60, 89],
      [120, 90],
      [180, 85],
      [240, 80],
      [300, 89],
      [360, 91],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'none', 'none', 'none', 'resolved', 'none', 'firing']);
    expect(steps.map((s) => s.state.state)).toEqual(['firing', 'firing', 'firing', 'firing', 'ok', 'ok', 'firing']);
  });

  it('a value hovering at the limit does not flap (random series between clear and just over the limit)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 80.001, max: 95, noNaN: true }), { minLength: 1, maxLength: 60 }),
        (values) => {
          const steps = run(rule, 90, [[0, 91], ...values.map((v, i): [number, number] => [(i + 1) * 60, v])]);
          expect(steps.filter((s) => s.transition === 'firing')).toHaveLength(1);
          expect(steps.filter((s) => s.transition === 'resolved')).toHaveLength(0);
        },
      ),
    );
  });

  it('still sends reminders while between clear and limit', () => {
    const steps = run(rule, 90, [
      [0, 95],
      [4 * 3600, 85],
    ]);
    expect(steps.map((s) => s.transition)).toEqual(['firing', 'reminder']);
  });
});
