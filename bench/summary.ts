/** Medians, ratios and the printed table of a benchmark run. */
import type { Measurement } from './measure.js';

export interface VariantRuns {
  name: string;
  describe: string;
  runs: (Measurement & { hostsOk: number })[];
}

export interface VariantMedian {
  name: string;
  describe: string;
  runs: number;
  /** Runs in which every host answered. */
  completeRuns: number;
  wallSeconds: number;
  cpuSeconds: number;
  cpuMsPerHost: number;
  targetCpuMsPerHost: number;
  maxRssMiB: number;
  hostsOk: number;
  /** Whole-machine CPU busy during the run, percent (everything on it, not only this variant). */
  machineBusyPercent: number;
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Per-variant medians over its runs. */
export function medians(variant: VariantRuns, hosts: number): VariantMedian {
  const of = (pick: (m: VariantRuns['runs'][number]) => number) => median(variant.runs.map(pick));
  return {
    name: variant.name,
    describe: variant.describe,
    runs: variant.runs.length,
    completeRuns: variant.runs.filter((r) => r.hostsOk === hosts).length,
    wallSeconds: round(
      of((r) => r.wallSeconds),
      2,
    ),
    cpuSeconds: round(
      of((r) => r.cpuSeconds),
      2,
    ),
    cpuMsPerHost: round((of((r) => r.cpuSeconds) * 1000) / hosts, 2),
    targetCpuMsPerHost: round((of((r) => r.targetCpuSeconds) * 1000) / hosts, 2),
    maxRssMiB: round(of((r) => r.maxRssKiB) / 1024, 1),
    hostsOk: of((r) => r.hostsOk),
    machineBusyPercent: round(of((r) => r.machineBusy ?? 0) * 100, 0),
  };
}

/** Ratios of fleetstat's medians to the others' (present variants only). */
export function ratios(byName: Map<string, VariantMedian>): Record<string, number> {
  const out: Record<string, number> = {};
  const pairs: [string, string, string][] = [
    ['fleetstat_over_ansible_wall', 'fleetstat', 'ansible'],
    ['fleetstat_over_floor_wall', 'fleetstat', 'floor'],
    ['fleetstat_over_floor_sleep1_wall', 'fleetstat', 'floor-sleep1'],
    ['fleetstat_cpu10_over_floor_wall', 'fleetstat-cpu10', 'floor'],
    ['fleetstat_over_floor_cpu', 'fleetstat', 'floor'],
    ['fleetstat_over_ansible_cpu', 'fleetstat', 'ansible'],
    ['fleetstat_over_baseline_wall', 'fleetstat', 'fleetstat-baseline'],
    ['fleetstat_over_baseline_cpu', 'fleetstat', 'fleetstat-baseline'],
  ];
  for (const [key, a, b] of pairs) {
    const x = byName.get(a);
    const y = byName.get(b);
    if (!x || !y) continue;
    const wall = key.endsWith('_wall');
    const num = wall ? x.wallSeconds : x.cpuSeconds;
    const den = wall ? y.wallSeconds : y.cpuSeconds;
    if (den > 0) out[key] = round(num / den, 3);
  }
  return out;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** The result table as aligned text. */
export function formatTable(rows: readonly VariantMedian[], hosts: number): string {
  const head = [
    'variant',
    'wall s',
    'ctl CPU s',
    'ctl CPU ms/host',
    'target CPU ms/host',
    'peak RSS MiB',
    'machine busy %',
    'hosts ok',
    'complete runs',
  ];
  const body = rows.map((r) => [
    r.name,
    r.wallSeconds.toFixed(2),
    r.cpuSeconds.toFixed(2),
    r.cpuMsPerHost.toFixed(1),
    r.targetCpuMsPerHost.toFixed(1),
    r.maxRssMiB.toFixed(1),
    String(r.machineBusyPercent),
    `${r.hostsOk}/${hosts}`,
    `${r.completeRuns}/${r.runs}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [pad(head, widths), ...body.map((b) => pad(b, widths))].join('\n');
}
