/**
 * The load monitor's states (src/serve/load-monitor.ts): behind once a host waited a whole
 * interval past its due time, one log line per change (never one per tick), caught up only
 * after two intervals with no host waiting half an interval (the saw-tooth of an overloaded
 * rotation must not read as recoveries).
 */
import { describe, expect, it } from 'vitest';
import { LoadMonitor } from '../src/serve/load-monitor.js';

const INTERVAL = 10;
const context = { intervalSeconds: INTERVAL, concurrency: 4 };
const t = (seconds: number) => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);
const backlog = (mostOverdueSeconds: number, overdue = mostOverdueSeconds > 0 ? 5 : 0) => ({
  hosts: 30,
  overdue,
  mostOverdueSeconds,
});

describe('LoadMonitor', () => {
  it('is unknown before the first tick and starts keeping up without a log line', () => {
    const monitor = new LoadMonitor();
    expect(monitor.status().state).toBe('unknown');
    expect(monitor.observe(backlog(2), t(0), context)).toBeUndefined();
    expect(monitor.status()).toMatchObject({
      state: 'keeping-up',
      since: t(0),
      hosts: 30,
      overdue: 5,
      mostOverdueSeconds: 2,
      intervalSeconds: INTERVAL,
    });
  });

  it('logs falling behind once, with how far and what to change, then recovery once', () => {
    const monitor = new LoadMonitor();
    const lines: string[] = [];
    const observe = (second: number, waited: number) => {
      const line = monitor.observe(backlog(waited), t(second), context);
      if (line) lines.push(line);
    };
    observe(0, 0);
    observe(3, 9.9); // under an interval: still keeping up
    expect(lines).toEqual([]);
    observe(6, 12.5);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'collection behind: 5 of 30 hosts overdue, the most overdue by 12.5 s (interval 10 s); to collect every host once per interval raise concurrency (now 4), lengthen the interval (to 23 s or more) or add a collector on the same database',
    );
    expect(monitor.status()).toMatchObject({ state: 'behind', since: t(6) });
    // The saw-tooth of an overloaded rotation: low readings between high ones change nothing.
    for (let s = 9; s < 60; s += 3) observe(s, s % 2 === 0 ? 20 : 2);
    expect(lines).toHaveLength(1);
    // Quiet (under half an interval) for two intervals: caught up, once.
    for (let s = 60; s <= 100; s += 3) observe(s, 4);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^collection caught up: 5 of 30 hosts overdue, none by more than 4\.0 s \(interval 10 s\); was behind for \d+\.\d s, at worst 20\.0 s$/,
    );
    expect(monitor.status().state).toBe('keeping-up');
  });

  it('falls behind on the first reading when that is already a whole interval late', () => {
    const monitor = new LoadMonitor();
    expect(monitor.observe(backlog(30), t(0), context)).toMatch(
      /^collection behind: 5 of 30 hosts overdue, the most overdue by 30\.0 s/,
    );
  });
});
