/**
 * The scaling curve as a Markdown table, from the JSON files of several benchmark runs
 * (`bench/round.ts --json FILE` at different --hosts):
 *
 *   npx tsx bench/scaling-table.ts scale-50.json scale-200.json scale-500.json scale-1000.json
 */
import { readFileSync } from 'node:fs';
import type { VariantMedian } from './summary.js';

interface BenchFile {
  hosts: number;
  runs: number;
  load1: { start: number; end: number };
  variants: VariantMedian[];
  ratios: Record<string, number>;
}

/** One Markdown table: a row per size and variant, then the ratios per size. */
export function scalingTable(files: BenchFile[]): string {
  const sorted = [...files].sort((a, b) => a.hosts - b.hosts);
  const lines = [
    '| hosts | runs | variant | wall s | ctl CPU s | ctl CPU ms/host | target CPU ms/host | peak RSS MiB | machine busy % | hosts ok | load1 start→end |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const f of sorted) {
    for (const v of f.variants) {
      lines.push(
        `| ${f.hosts} | ${f.runs} | ${v.name} | ${v.wallSeconds.toFixed(2)} | ${v.cpuSeconds.toFixed(2)} | ${v.cpuMsPerHost.toFixed(1)} | ${v.targetCpuMsPerHost.toFixed(1)} | ${v.maxRssMiB.toFixed(0)} | ${v.machineBusyPercent ?? '–'} | ${v.hostsOk} | ${f.load1.start}→${f.load1.end} |`,
      );
    }
  }
  lines.push(
    '',
    '| hosts | fleetstat / ansible (wall) | fleetstat / floor (wall) | fleetstat / floor+sleep 1 (wall) | fleetstat-cpu10 / floor (wall) | fleetstat / floor (ctl CPU) |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  const r = (f: BenchFile, key: string) => (f.ratios[key] === undefined ? '–' : f.ratios[key].toFixed(2));
  for (const f of sorted) {
    lines.push(
      `| ${f.hosts} | ${r(f, 'fleetstat_over_ansible_wall')} | ${r(f, 'fleetstat_over_floor_wall')} | ${r(f, 'fleetstat_over_floor_sleep1_wall')} | ${r(f, 'fleetstat_cpu10_over_floor_wall')} | ${r(f, 'fleetstat_over_floor_cpu')} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const paths = process.argv.slice(2);
  if (paths.length === 0) {
    console.error('usage: scaling-table.ts FILE.json …');
    process.exit(2);
  }
  console.log(scalingTable(paths.map((p) => JSON.parse(readFileSync(p, 'utf8')) as BenchFile)));
}
