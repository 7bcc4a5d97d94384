/**
 * CPU usage from cumulative counters, the way Prometheus' rate() treats counters: the busy share
 * of the CPU time that passed between a host's previous round and this one. The probe then needs
 * no sampling sleep, and the figure covers the whole interval instead of one second of it.
 *
 * Before the run, planCpu decides from the host's previous counters whether the probe must take
 * its own short sample (cpu-ms = the `cpu-sample` setting) or may skip it (cpu-ms = 0). After the
 * run, cpuFigure turns the report into the stored figure:
 *
 *   no previous counters / too old / clock went back ──► plan "sample" ──► method "sample"
 *   previous counters fresh ──► plan "counters" ──┬─ same boot, counters grew ──► "counters"
 *                                                  └─ reboot, counters backwards, cores changed,
 *                                                     no tick elapsed, no counters ──► "since-boot"
 *
 * "since-boot" is the probe's cpu-ms=0 figure: busy share of all CPU time since boot. After a
 * reboot that is exact for the time since the reboot (counters start at zero at boot, as a
 * Prometheus counter reset does), which is shorter than the interval; in the rarer other cases
 * (a CPU taken offline lowers the summed counters) it is a long average for one round, and the
 * next round is back on counters.
 */
import type { Report } from '../probe/report.js';
import { reportCpuUsage, type CpuUsage, type StoredCpuCounters } from '../store/cpu-counters.js';

/** A host's counters as stored with its previous sample. */
export type CounterReading = StoredCpuCounters;

/** Why the probe samples, or why a counter plan fell back: for logs and tests. */
export type CpuReason =
  | 'first-round'
  | 'too-old'
  | 'clock-went-back'
  | 'no-counters'
  | 'reboot'
  | 'counters-backwards'
  | 'cores-changed'
  | 'no-ticks-elapsed';

/** What the probe is asked to do before the run. */
export type CpuPlan =
  { kind: 'counters'; cpuMs: 0; previous: CounterReading } | { kind: 'sample'; cpuMs: number; reason: CpuReason };

/** The figure stored and compared with cpu alert limits, with its method and span (ms). */
export interface CpuFigure extends CpuUsage {
  percent: number;
  /** Set when a counter plan fell back. */
  reason?: CpuReason;
}

/** Counters older than this are never used, whatever the interval: the figure would hide spikes. */
export const COUNTER_MAX_AGE_FLOOR_MS = 15 * 60_000;

/**
 * How old a host's previous counters may be: twice the `interval` setting (one missed round of
 * `serve` still counts), and at least COUNTER_MAX_AGE_FLOOR_MS (15 min, so that `collect` from
 * cron every few minutes uses counters too).
 */
export function counterMaxAgeMs(intervalSeconds: number): number {
  return Math.max(COUNTER_MAX_AGE_FLOOR_MS, 2 * intervalSeconds * 1000);
}

/**
 * A boot time that moved by at most this much is the same boot: Linux derives btime from the
 * wall clock, which NTP steps, and hosts without btime report now − uptime (±1 s).
 */
export const BOOT_TIME_TOLERANCE_MS = 5_000;

/** Decides before the run whether the probe must sample (cpu-ms = `sampleMs`) or may skip it. */
export function planCpu(
  previous: CounterReading | null,
  now: Date,
  options: { sampleMs: number; maxAgeMs: number },
): CpuPlan {
  const sample = (reason: CpuReason): CpuPlan => ({ kind: 'sample', cpuMs: options.sampleMs, reason });
  if (previous === null) return sample('first-round');
  const age = now.getTime() - previous.collectedAt.getTime();
  if (age <= 0) return sample('clock-went-back');
  if (age > options.maxAgeMs) return sample('too-old');
  return { kind: 'counters', cpuMs: 0, previous };
}

/** The CPU figure of `report`, collected under `plan` and received at `collectedAt`. */
export function cpuFigure(plan: CpuPlan, report: Report, collectedAt: Date): CpuFigure {
  // With cpu-ms > 0 the probe sampled; with cpu-ms = 0 its percent is the average since boot.
  if (plan.kind === 'sample') return { percent: report.cpu.percent, ...reportCpuUsage(report) };
  const fallback = (reason: CpuReason): CpuFigure => ({
    percent: report.cpu.percent,
    ...reportCpuUsage(report),
    reason,
  });
  const { previous } = plan;
  const counters = report.cpu.counters;
  if (!counters) return fallback('no-counters');
  const boot = Date.parse(report.boot_time);
  if (
    previous.bootTime === null ||
    Number.isNaN(boot) ||
    Math.abs(boot - previous.bootTime.getTime()) > BOOT_TIME_TOLERANCE_MS
  ) {
    return fallback('reboot');
  }
  if (previous.cores !== null && previous.cores !== report.cpu.cores) return fallback('cores-changed');
  const total = counters.total - previous.total;
  const idle = counters.idle - previous.idle;
  if (total < 0 || idle < 0 || idle > total) return fallback('counters-backwards');
  if (total === 0) return fallback('no-ticks-elapsed');
  const percent = Math.round((1000 * (total - idle)) / total) / 10;
  return { percent, method: 'counters', intervalMs: collectedAt.getTime() - previous.collectedAt.getTime() };
}

/** A report whose cpu.percent is `figure`'s, so alerts, mails and the spool see the stored figure. */
export function withCpuFigure(report: Report, figure: CpuFigure): Report {
  return figure.percent === report.cpu.percent
    ? report
    : { ...report, cpu: { ...report.cpu, percent: figure.percent } };
}
