/**
 * One collection round, timed against Ansible fact gathering and plain OpenSSH on the same
 * loopback fleet (docs/performance.md):
 *
 *   npx tsx bench/round.ts --hosts 200 --runs 3
 *
 * Starts N real sshd (or uses the first N of a running fleet: --dir D from scripts/fleet.ts), runs each
 * variant (bench/variants.ts) once per run, alternating, under GNU time, and prints the median
 * wall time, controller CPU, target CPU and peak memory as a table, the ratios, the bytes
 * uploaded per host, and everything as one JSON line after "BENCH-JSON ". Stops the sshd it
 * started, also on Ctrl-C. Build first (npm run build): it runs dist/cli/main.js.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startFleet, type SshdFleet } from '../test/support/sshd.js';
import {
  manifestOf,
  readManifest,
  writeAnsibleInventory,
  writeFleetstatConfig,
  writeSshClientConfig,
  type FleetManifest,
} from './fleet-files.js';
import { GNU_TIME, loadAverage, measure } from './measure.js';
import { targetCpuMeter, type TargetCpuMeter } from './target-cpu.js';
import { CLI, ansibleInstalled, buildVariants, readText, type Variant } from './variants.js';
import { formatTable, medians, ratios, type VariantRuns } from './summary.js';
import { measureUploadSize } from './upload-size.js';

const DEFAULT_VARIANTS = ['fleetstat', 'fleetstat-cpu10', 'ansible', 'floor', 'floor-sleep1'];

interface BenchOptions {
  /** Hosts to start (default 200), or the first N of the fleet in --dir (default: all). */
  hosts?: number;
  runs: number;
  concurrency: number;
  cpuSampleMs: number;
  variants: string[];
  fleetDir?: string;
  jsonPath?: string;
  cpuProfDir?: string;
  baselineCli?: string;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string' },
      runs: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '50' },
      'cpu-sample': { type: 'string', default: '1000' },
      variants: { type: 'string', default: DEFAULT_VARIANTS.join(',') },
      'no-ansible': { type: 'boolean', default: false },
      dir: { type: 'string' },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'baseline-cli': { type: 'string' },
    },
  });
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${text}`);
    return n;
  };
  let variants = values.variants
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (values['no-ansible']) variants = variants.filter((v) => v !== 'ansible');
  if (values['baseline-cli'] && !variants.includes('fleetstat-baseline')) variants.push('fleetstat-baseline');
  return {
    hosts: values.hosts === undefined ? undefined : int('hosts', values.hosts, 1),
    runs: int('runs', values.runs, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    cpuSampleMs: int('cpu-sample', values['cpu-sample'], 10),
    variants,
    fleetDir: values.dir ? resolve(values.dir) : undefined,
    jsonPath: values.json,
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined,
    baselineCli: values['baseline-cli'] ? resolve(values['baseline-cli']) : undefined,
  };
}

function machine() {
  const memTotalMiB = Math.round(totalmem() / 2 ** 20);
  return { nproc: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', memTotalMiB, node: process.version };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Runs every variant once per run, in an order rotated each run; returns the runs per variant. */
async function runAlternating(
  variants: Variant[],
  ctx: { runs: number; hosts: number; workDir: string; sshdPids: number[]; targetCpu: TargetCpuMeter },
): Promise<VariantRuns[]> {
  const results: VariantRuns[] = variants.map((v) => ({ name: v.name, describe: v.describe, runs: [] }));
  for (let run = 0; run < ctx.runs; run++) {
    // Rotated, so no variant always runs first (or right after the heaviest one).
    for (let k = 0; k < variants.length; k++) {
      const i = (k + run) % variants.length;
      const variant = variants[i]!;
      const base = join(ctx.workDir, `${variant.name}-${run + 1}`);
      const m = await measure(variant.argv, {
        env: variant.env,
        stdoutPath: `${base}.out`,
        stderrPath: `${base}.err`,
        timePath: `${base}.time`,
        sshdPids: ctx.sshdPids,
        targetCpu: ctx.targetCpu,
        afterExit: variant.after,
      });
      const hostsOk = variant.countOk(readText(`${base}.out`), m.exitCode);
      results[i]!.runs.push({ ...m, hostsOk });
      const problem =
        hostsOk === ctx.hosts
          ? ''
          : `  (exit ${m.exitCode}; stderr: ${readText(`${base}.err`).trim().split('\n').slice(-2).join(' | ').slice(0, 300)})`;
      log(
        `run ${run + 1}/${ctx.runs} ${variant.name.padEnd(16)} ${m.wallSeconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU, ${hostsOk}/${ctx.hosts} ok, load ${m.loadBefore}${problem}`,
      );
    }
  }
  return results;
}

async function runBench(options: BenchOptions, fleet: FleetManifest, workDir: string): Promise<void> {
  const hosts = fleet.hosts.length;
  const configs = new Map<number, string>();
  for (const cpuMs of new Set([options.cpuSampleMs, 10])) {
    configs.set(
      cpuMs,
      writeFleetstatConfig(fleet, {
        dir: workDir,
        fileName: `fleetstat-cpu${cpuMs}.xml`,
        auth: 'key',
        cpuSampleMs: cpuMs,
        concurrency: options.concurrency,
      }),
    );
  }
  // In the scratch dir: a fleet from --dir keeps its own files (the run may use only part of it).
  const { configPath: sshConfigPath, hostsPath } = writeSshClientConfig(fleet, workDir);
  const inventoryPath = writeAnsibleInventory(fleet, workDir);

  const skipped: Record<string, string> = {};
  let names = options.variants;
  if (names.includes('ansible') && !ansibleInstalled()) {
    skipped.ansible = 'the ansible command is not installed (Debian: apt-get install ansible-core)';
    names = names.filter((n) => n !== 'ansible');
    log(`ansible: skipped, ${skipped.ansible}`);
  }
  if (options.cpuProfDir) mkdirSync(options.cpuProfDir, { recursive: true });
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : [];
  const variants: Variant[] = buildVariants(
    {
      fleet,
      concurrency: options.concurrency,
      fleetstatConfigs: configs,
      inventoryPath,
      sshConfigPath,
      hostsPath,
      workDir,
    },
    { names, cpuSampleMs: options.cpuSampleMs, nodeArgs, baselineCli: options.baselineCli },
  );

  const upload = await measureUploadSize(configs.get(options.cpuSampleMs)!);
  const loadStart = loadAverage();
  const sshdPids = fleet.hosts.map((h) => h.pid);
  const targetCpu = targetCpuMeter(sshdPids);
  let results: VariantRuns[];
  try {
    results = await runAlternating(variants, { runs: options.runs, hosts, workDir, sshdPids, targetCpu });
  } finally {
    targetCpu.release();
  }
  const loadEnd = loadAverage();

  const rows = results.map((r) => medians(r, hosts));
  const byName = new Map(rows.map((r) => [r.name, r]));
  const ratioValues = ratios(byName);
  const fleetstatRow = byName.get('fleetstat');
  const report = {
    machine: machine(),
    hosts,
    runs: options.runs,
    concurrency: options.concurrency,
    cpuSampleMs: options.cpuSampleMs,
    load1: { start: loadStart, end: loadEnd },
    targetCpuMethod: targetCpu.method,
    uploadBytesPerHost: upload.uploadedBytes,
    probeScriptBytes: upload.probeScriptBytes,
    collectorPeakRssMiB: fleetstatRow?.maxRssMiB ?? null,
    variants: rows,
    ratios: ratioValues,
    skipped,
    raw: Object.fromEntries(results.map((r) => [r.name, r.runs])),
  };

  const m = report.machine;
  console.log(
    `\nfleetstat round benchmark: ${hosts} hosts, ${options.runs} run(s), concurrency ${options.concurrency}, medians`,
  );
  console.log(
    `machine: ${m.nproc} cores (${m.cpuModel}), ${m.memTotalMiB} MiB, node ${m.node}; load1 ${loadStart} → ${loadEnd}`,
  );
  console.log(formatTable(rows, hosts));
  for (const r of rows) console.log(`  ${r.name}: ${r.describe}`);
  for (const [name, reason] of Object.entries(skipped)) console.log(`  ${name}: SKIPPED, ${reason}`);
  console.log(
    `ratios: ${
      Object.entries(ratioValues)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  );
  console.log(
    `uploaded per host per round: ${upload.uploadedBytes} bytes (probe.sh is ${upload.probeScriptBytes} bytes)`,
  );
  console.log(`collector peak RSS: ${fleetstatRow ? `${fleetstatRow.maxRssMiB} MiB` : 'n/a'}`);
  console.log(
    `ctl = the controller process tree (GNU time); target = the fleet sshd and all they ran, same machine (${targetCpu.method})`,
  );
  const { raw: _raw, ...compact } = report;
  console.log(`BENCH-JSON ${JSON.stringify(compact)}`);
  if (options.jsonPath) writeFileSync(options.jsonPath, JSON.stringify(report, null, 2) + '\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} not found (Debian: apt-get install time)`);
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: run npm run build first`);
  const workDir = mkdtempSync(join(tmpdir(), 'fleetstat-bench-'));
  let started: SshdFleet | undefined;
  const cleanup = async () => {
    await started?.stop();
    started = undefined;
    rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let fleet: FleetManifest;
    if (options.fleetDir) {
      fleet = readManifest(options.fleetDir);
      const count = options.hosts ?? fleet.hosts.length;
      if (count > fleet.hosts.length)
        throw new Error(`--hosts ${count}: the fleet in ${options.fleetDir} has only ${fleet.hosts.length}`);
      fleet = { ...fleet, hosts: fleet.hosts.slice(0, count) };
    } else {
      const began = Date.now();
      const count = options.hosts ?? 200;
      log(`starting ${count} sshd on loopback …`);
      started = await startFleet(count, { batchSize: 64 });
      fleet = manifestOf(started);
      log(`started in ${((Date.now() - began) / 1000).toFixed(1)} s; fleet dir: ${started.dir}`);
    }
    await runBench(options, fleet, workDir);
  } finally {
    await cleanup();
  }
}

main().catch((error: Error) => {
  console.error(`bench: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
