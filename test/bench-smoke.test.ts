/**
 * Smoke run of the round benchmark (bench/round.ts) on 10 real sshd hosts, one run: it must
 * finish, stop its sshd and print the table and the JSON line. No timing is asserted (figures
 * on a shared 2-core machine are noise); only that fleetstat and the OpenSSH floor reached every
 * host. Ansible runs when installed, but nothing here depends on it. Then a few rounds of the
 * soak benchmark (bench/soak.ts): it must produce every figure, not judge them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TSX = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
const BENCH = new URL('../bench/round.ts', import.meta.url).pathname;
const SOAK = new URL('../bench/soak.ts', import.meta.url).pathname;

interface BenchRow {
  name: string;
  hostsOk: number;
  completeRuns: number;
  wallSeconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
}
interface BenchJson {
  hosts: number;
  uploadBytesPerHost: number;
  collectorPeakRssMiB: number;
  variants: BenchRow[];
  ratios: Record<string, number>;
  skipped: Record<string, string>;
}

/** Processes whose command line names `dir` (the bench's own sshd, while they run). */
async function processesUsing(dir: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((l) => l.includes(`${dir}/`));
}

describe('bench/round.ts smoke run', () => {
  it('collects 10 hosts with fleetstat and the OpenSSH floor and prints the table and JSON', async () => {
    const { stdout, stderr } = await run(TSX, [BENCH, '--hosts', '10', '--runs', '1'], {
      maxBuffer: 16 << 20,
      timeout: 240_000,
    });
    console.log(stdout);
    if (/ansible: skipped/.test(stderr))
      console.log(
        'ansible part skipped:',
        stderr.split('\n').find((l) => l.startsWith('ansible: skipped')),
      );

    expect(stdout).toMatch(/^variant\s+wall s\s+ctl CPU s/m);
    expect(stdout).toMatch(/^fleetstat\s+\d+\.\d+/m);
    expect(stdout).toMatch(/^floor\s+\d+\.\d+/m);
    expect(stdout).toMatch(/uploaded per host per round: \d+ bytes/);
    const line = stdout.split('\n').find((l) => l.startsWith('BENCH-JSON '));
    expect(line).toBeDefined();
    const report = JSON.parse(line!.slice('BENCH-JSON '.length)) as BenchJson;
    expect(report.hosts).toBe(10);
    const byName = new Map(report.variants.map((v) => [v.name, v]));
    for (const name of ['fleetstat', 'fleetstat-cpu10', 'floor', 'floor-sleep1']) {
      const row = byName.get(name);
      expect(row, name).toBeDefined();
      expect(row!.hostsOk, name).toBe(10);
      expect(row!.completeRuns, name).toBe(1);
      expect(row!.wallSeconds, name).toBeGreaterThan(0);
    }
    expect(report.uploadBytesPerHost).toBeGreaterThan(0);
    expect(report.uploadBytesPerHost).toBeLessThanOrEqual(20 * 1024);
    expect(report.collectorPeakRssMiB).toBeGreaterThan(0);
    expect(report.ratios.fleetstat_over_floor_wall).toBeGreaterThan(0);
    // The benchmark stopped every sshd it started.
    const fleetDir = /fleet dir: (\S+)/.exec(stderr)?.[1];
    expect(fleetDir).toBeDefined();
    expect(await processesUsing(fleetDir!)).toEqual([]);
  }, 300_000);
});

interface SoakFigure {
  start: number;
  end: number;
  min: number;
  max: number;
  slopePer1000Rounds: number;
  verdict: string;
}
interface SoakJson {
  rounds: number;
  hosts: number;
  failing: number;
  hostsOk: number;
  hostsFailed: number;
  serveExitCode: number;
  samples: number;
  figures: Record<string, SoakFigure>;
  judged: boolean;
}

describe('bench/soak.ts smoke run', () => {
  it('runs fleetstat serve for a few rounds over 5 hosts (2 failing) and reports every figure with its slope', async () => {
    const { stdout, stderr } = await run(
      TSX,
      [SOAK, '--rounds', '4', '--hosts', '5', '--failing', '2', '--sample-every', '0.5'],
      { maxBuffer: 16 << 20, timeout: 400_000 },
    );
    console.log(stdout);
    expect(stdout).toMatch(/^figure\s+start\s+end/m);
    const line = stdout.split('\n').find((l) => l.startsWith('SOAK-JSON '));
    expect(line).toBeDefined();
    const report = JSON.parse(line!.slice('SOAK-JSON '.length)) as SoakJson;
    expect(report.rounds).toBeGreaterThanOrEqual(4);
    expect(report.hosts).toBe(5);
    expect(report.serveExitCode).toBe(0);
    // Every round reached the 3 healthy hosts and met the 2 failing ones.
    expect(report.hostsOk).toBeGreaterThanOrEqual(3 * 4);
    expect(report.hostsFailed).toBeGreaterThanOrEqual(2 * 4);
    expect(report.samples).toBeGreaterThan(0);
    expect(Object.keys(report.figures).sort()).toEqual([
      'anonMiB',
      'dbMiB',
      'externalMiB',
      'heapMiB',
      'loopP99Ms',
      'openFds',
      'rssMiB',
    ]);
    for (const [name, figure] of Object.entries(report.figures)) {
      for (const value of [figure.start, figure.end, figure.min, figure.max, figure.slopePer1000Rounds])
        expect(Number.isFinite(value), name).toBe(true);
    }
    expect(report.figures.rssMiB!.start).toBeGreaterThan(10);
    expect(report.figures.heapMiB!.start).toBeGreaterThan(1);
    expect(report.figures.openFds!.start).toBeGreaterThan(3);
    // Too few rounds to judge growth: the smoke run only proves the figures are produced.
    expect(report.judged).toBe(false);
    const soakDir = /soak dir: (\S+)/.exec(stderr)?.[1];
    expect(soakDir).toBeDefined();
    expect(await processesUsing(soakDir!)).toEqual([]);
  }, 420_000);
});
