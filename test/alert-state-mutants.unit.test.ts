/**
 * Claims of the alert state machine that survived mutants of src/alerts/alert-state.ts
 * (docs/mutation.md): a value that is not a finite number changes nothing, the reminder of a
 * rule held between its clear level and its limit is stored, and an ok rule staying ok keeps the
 * moment it became ok.
 */
import { describe, expect, it } from 'vitest';
import { nextAlertState, type AlertStateRow } from '../src/alerts/alert-state.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const onChange = { forSeconds: 0, repeatSeconds: 3600, notify: 'on-change' as const };
const firing: AlertStateRow = { state: 'firing', value: 95, limit: 90, since: T0, lastNotifiedAt: T0 };

describe('alert state: what mutants showed untested', () => {
  it.each([NaN, Infinity, -Infinity])(
    'a firing rule given %s keeps firing, value and all, and sends nothing',
    (value) => {
      const step = nextAlertState(firing, { value, limit: 90, now: at(60), rule: onChange });
      expect(step.transition).toBe('none');
      expect(step.state).toEqual(firing);
    },
  );

  it('a reminder between the clear level and the limit is stored as sent, the rule still firing', () => {
    const rule = { ...onChange, clearLimit: 80 };
    const step = nextAlertState(firing, { value: 85, limit: 90, now: at(3600), rule });
    expect(step.transition).toBe('reminder');
    expect(step.state).toEqual({ state: 'firing', value: 85, limit: 90, since: T0, lastNotifiedAt: at(3600) });
  });

  it('an ok rule that stays below its limit keeps the moment it became ok', () => {
    const ok: AlertStateRow = { state: 'ok', value: 10, limit: 90, since: T0, lastNotifiedAt: null };
    const step = nextAlertState(ok, { value: 20, limit: 90, now: at(600), rule: onChange });
    expect(step.transition).toBe('none');
    expect(step.state).toEqual({ ...ok, value: 20 });
  });

  it('a pending rule that drops below its limit is ok from that moment', () => {
    const pending: AlertStateRow = { state: 'pending', value: 95, limit: 90, since: T0, lastNotifiedAt: null };
    const step = nextAlertState(pending, { value: 20, limit: 90, now: at(30), rule: { ...onChange, forSeconds: 300 } });
    expect(step.state).toEqual({ state: 'ok', value: 20, limit: 90, since: at(30), lastNotifiedAt: null });
  });
});
