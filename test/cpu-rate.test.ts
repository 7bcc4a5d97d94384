/**
 * CPU usage from cumulative counters (src/collect/cpu-rate.ts): when the probe must sample, how
 * the figure between two rounds is computed, and every fallback.
 */
import { describe, expect, it } from 'vitest';
import {
  BOOT_TIME_TOLERANCE_MS,
  COUNTER_MAX_AGE_FLOOR_MS,
  counterMaxAgeMs,
  cpuFigure,
  planCpu,
  withCpuFigure,
  type CounterReading,
} from '../src/collect/cpu-rate.js';
import { observe } from '../src/alerts/measure.js';
import type { Report } from '../src/probe/report.js';
import { makeReport } from './support/report-factory.js';

const BOOT = '2026-11-20T06:00:00.000Z';
const T0 = new Date('2026-11-28T08:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const previous: CounterReading = {
  collectedAt: T0,
  bootTime: new Date(BOOT),
  cores: 4,
  total: 1_000_000,
  idle: 800_000,
};
const options = { sampleMs: 1000, maxAgeMs: counterMaxAgeMs(60) };

/** A report as the probe sends it with cpu-ms=0: percent since boot, current counters. */
function report(
  counters: { total: number; idle: number } | null,
  extra: { boot?: string; cores?: number; uptime?: number } = {},
): Report {
  return makeReport({
    cpu: { percent: 12.3, cores: extra.cores ?? 4, interval_ms: 0, counters, load1: 0.5, load5: 0.5, load15: 0.5 },
    boot_time: extra.boot ?? BOOT,
    uptime_seconds: extra.uptime ?? 700_000,
  });
}

describe('planCpu: sample or counters, decided before the run', () => {
  it('first round (no previous counters): the probe samples for cpu-sample ms', () => {
    expect(planCpu(null, T0, options)).toEqual({ kind: 'sample', cpuMs: 1000, reason: 'first-round' });
  });

  it('fresh previous counters: no sleep (cpu-ms 0)', () => {
    expect(planCpu(previous, at(60_000), options)).toEqual({ kind: 'counters', cpuMs: 0, previous });
  });

  it('previous counters older than the limit: the probe samples', () => {
    expect(planCpu(previous, at(options.maxAgeMs), options).kind).toBe('counters');
    expect(planCpu(previous, at(options.maxAgeMs + 1), options)).toMatchObject({ kind: 'sample', reason: 'too-old' });
  });

  it('a server clock that went back: the probe samples', () => {
    expect(planCpu(previous, at(-1000), options)).toMatchObject({ kind: 'sample', reason: 'clock-went-back' });
  });

  it('too old means twice the interval, never under 15 minutes', () => {
    expect(counterMaxAgeMs(60)).toBe(COUNTER_MAX_AGE_FLOOR_MS);
    expect(counterMaxAgeMs(3600)).toBe(2 * 3600_000);
  });
});

describe('cpuFigure: the stored figure', () => {
  const plan = planCpu(previous, at(60_000), options);

  it('normal: busy share of the ticks between the rounds, covering the whole interval', () => {
    // 24,000 ticks passed, 6,000 of them idle: 75 % busy.
    const figure = cpuFigure(plan, report({ total: 1_024_000, idle: 806_000 }), at(60_500));
    expect(figure).toEqual({ percent: 75, method: 'counters', intervalMs: 60_500 });
  });

  it('rounds to one decimal like the probe, and 0 % / 100 % at the ends', () => {
    expect(cpuFigure(plan, report({ total: 1_000_003, idle: 800_002 }), at(60_000)).percent).toBe(33.3);
    expect(cpuFigure(plan, report({ total: 1_000_500, idle: 800_500 }), at(60_000)).percent).toBe(0);
    expect(cpuFigure(plan, report({ total: 1_000_500, idle: 800_000 }), at(60_000)).percent).toBe(100);
  });

  it('a boot time within the tolerance is the same boot (NTP steps btime)', () => {
    const moved = new Date(Date.parse(BOOT) + BOOT_TIME_TOLERANCE_MS).toISOString();
    expect(cpuFigure(plan, report({ total: 1_024_000, idle: 806_000 }, { boot: moved }), at(60_000)).method).toBe(
      'counters',
    );
  });

  it("reboot (boot time changed): the probe's since-boot figure, covering the uptime", () => {
    const figure = cpuFigure(
      plan,
      report({ total: 3_000, idle: 2_000 }, { boot: '2026-11-28T07:59:30.000Z', uptime: 30 }),
      at(60_000),
    );
    expect(figure).toEqual({ percent: 12.3, method: 'since-boot', intervalMs: 30_000, reason: 'reboot' });
  });

  it('a reboot is seen even when the new counters happen to be higher', () => {
    const figure = cpuFigure(
      plan,
      report({ total: 2_000_000, idle: 900_000 }, { boot: '2026-11-28T07:59:30.000Z', uptime: 30 }),
      at(60_000),
    );
    expect(figure).toMatchObject({ method: 'since-boot', reason: 'reboot' });
  });

  it('counters went backwards without a reboot: since-boot, never a negative or wild figure', () => {
    expect(cpuFigure(plan, report({ total: 999_000, idle: 799_000 }), at(60_000))).toMatchObject({
      method: 'since-boot',
      reason: 'counters-backwards',
      percent: 12.3,
    });
    // Total grew but idle shrank (or grew more than the total): no honest figure from them.
    expect(cpuFigure(plan, report({ total: 1_010_000, idle: 799_999 }), at(60_000))).toMatchObject({
      reason: 'counters-backwards',
    });
    expect(cpuFigure(plan, report({ total: 1_010_000, idle: 811_000 }), at(60_000))).toMatchObject({
      reason: 'counters-backwards',
    });
  });

  it('cores changed, no tick elapsed, or no counters in the report: since-boot', () => {
    expect(cpuFigure(plan, report({ total: 1_024_000, idle: 806_000 }, { cores: 8 }), at(60_000)).reason).toBe(
      'cores-changed',
    );
    expect(cpuFigure(plan, report({ total: 1_000_000, idle: 800_000 }), at(60_000)).reason).toBe('no-ticks-elapsed');
    expect(cpuFigure(plan, report(null), at(60_000)).reason).toBe('no-counters');
  });

  it("a sampled round keeps the probe's figure and its sampling interval", () => {
    const sampled = makeReport({
      cpu: { percent: 42, cores: 4, interval_ms: 1000, counters: { total: 5, idle: 1 }, load1: 1, load5: 1, load15: 1 },
    });
    expect(cpuFigure(planCpu(null, T0, options), sampled, T0)).toEqual({
      percent: 42,
      method: 'sample',
      intervalMs: 1000,
    });
  });
});

describe('alerts see the counter-derived figure', () => {
  it("a cpu rule measures the figure computed from counters, not the probe's since-boot average", () => {
    const plan = planCpu(previous, at(60_000), options);
    const raw = report({ total: 1_024_000, idle: 801_200 }); // 95 % busy between the rounds
    const figure = cpuFigure(plan, raw, at(60_000));
    expect(observe({ type: 'cpu' }, raw).value).toBe(12.3);
    expect(observe({ type: 'cpu' }, withCpuFigure(raw, figure)).value).toBe(95);
  });
});
