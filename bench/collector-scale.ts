/**
 * The collector alone at scale (docs/performance.md, "The collector alone"): one real
 * `fleetstat collect` round (dist/cli/main.js, SQLite) over a simulated fleet (bench/sim-fleet.ts,
 * a separate process) of each size given, measured from outside with GNU time:
 *
 *   npm run bench:collector -- [--hosts 1000,5000,10000] [--concurrency 200] [--cpu-prof DIR]
 *                              [--connect-timeout 30] [--host-timeout 60] [--cli OTHER-BUILD/dist/cli/main.js]
 *
 * Prints per size: wall time, the collector's CPU (user + sys) in total and per host, its peak
 * RSS, its database CPU per host (the share of self time in kysely, better-sqlite3 and src/store
 * of a `node --cpu-prof` profile, which every run takes, times its CPU), the simulator's own CPU per host, hosts
 * stored and failed, and whether every simulated fault was recorded with its stage; then
 * everything as one JSON line after "BENCH-JSON ". Build first (npm run build).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { writeFleetConfig } from '../test/support/fleet-config.js';
import { GNU_TIME, loadAverage } from './measure.js';
import { summarize } from './profile-summary.js';
import type { SimManifest, SimMode } from './sim-fleet.js';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const CLI = join(ROOT, 'dist/cli/main.js');
const SIM = join(ROOT, 'bench/sim-fleet.ts');
const EXPECTED_STAGE: Record<SimMode, string | undefined> = {
  ok: undefined,
  slow: undefined,
  exit: 'run',
  garbage: 'decrypt',
  auth: 'auth',
  closed: 'connect',
};
const DATABASE_AREAS = ['kysely', 'better-sqlite3', 'fleetstat store/'];

interface Options {
  sizes: number[];
  concurrency: number;
  port: number;
  octet: number;
  faultShare: number;
  slowMs: number;
  connectTimeout: number;
  hostTimeout: number;
  /** Another build's dist/cli/main.js, e.g. of the commit before a change (default: this one). */
  cli: string;
  cpuProfDir?: string;
  jsonPath?: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string', default: '1000,5000,10000' },
      concurrency: { type: 'string', default: '200' },
      port: { type: 'string', default: '2222' },
      octet: { type: 'string', default: '200' },
      'fault-share': { type: 'string', default: '0.005' },
      'slow-ms': { type: 'string', default: '3000' },
      'connect-timeout': { type: 'string', default: '30' },
      'host-timeout': { type: 'string', default: '60' },
      cli: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
    },
  });
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${text}`);
    return n;
  };
  return {
    sizes: values.hosts.split(',').map((s) => int('hosts', s.trim(), 1)),
    concurrency: int('concurrency', values.concurrency, 1),
    port: int('port', values.port, 1),
    octet: int('octet', values.octet, 1),
    faultShare: Number(values['fault-share']),
    slowMs: int('slow-ms', values['slow-ms'], 0),
    connectTimeout: int('connect-timeout', values['connect-timeout'], 1),
    hostTimeout: int('host-timeout', values['host-timeout'], 1),
    cli: values.cli ? resolve(values.cli) : CLI,
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined,
    jsonPath: values.json,
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The simulator as a child process, with its line protocol (READY, CPU on request). */
interface Simulator {
  manifest: SimManifest;
  cpuMs(): Promise<{ cpuMs: number; probeRuns: number; rssMiB: number }>;
  stop(): Promise<void>;
}

async function startSimulator(dir: string, hosts: number, options: Options): Promise<Simulator> {
  // One listening socket per host: the simulator's descriptor limit is raised to its hard limit.
  const child: ChildProcess = spawn(
    'sh',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" && exec "$@"',
      'sh',
      process.execPath,
      '--import',
      'tsx',
      SIM,
      '--hosts',
      String(hosts),
      '--dir',
      dir,
      '--port',
      String(options.port),
      '--octet',
      String(options.octet),
      '--fault-share',
      String(options.faultShare),
      '--slow-ms',
      String(options.slowMs),
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const waiting: ((line: string) => void)[] = [];
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.(line));
  const nextLine = (prefix: string) =>
    new Promise<string>((done, fail) => {
      waiting.push((line) =>
        line.startsWith(prefix)
          ? done(line.slice(prefix.length))
          : fail(new Error(`simulator said ${JSON.stringify(line)}`)),
      );
      void exited.then(() => fail(new Error('the simulator ended')));
    });
  const manifestPath = await nextLine('SIMFLEET-READY ');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as SimManifest;
  const parseCpu = (text: string) => {
    const cpu = JSON.parse(text) as { userMs: number; systemMs: number; probeRuns: number; rssMiB: number };
    return { cpuMs: cpu.userMs + cpu.systemMs, probeRuns: cpu.probeRuns, rssMiB: cpu.rssMiB };
  };
  return {
    manifest,
    async cpuMs() {
      const line = nextLine('SIMFLEET-CPU ');
      child.stdin!.write('cpu\n');
      return parseCpu(await line);
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin!.end(); // the simulator prints its CPU once more and exits
      await exited;
    },
  };
}

interface RoundFigures {
  hosts: number;
  wallSeconds: number;
  roundSeconds: number;
  cpuSeconds: number;
  cpuMsPerHost: number;
  peakRssMiB: number;
  dbCpuMsPerHost: number | null;
  simCpuMsPerHost: number;
  hostsOk: number;
  hostsFailed: number;
  samplesStored: number;
  /** The first 20 hosts whose outcome was not the one their mode calls for, and how many there were. */
  faultsMisrecorded: string[];
  faultsMisrecordedCount: number;
  load1: number;
  exitCode: number;
}

/** Runs the collector under GNU time, the fd limit raised to its hard limit first. */
function runCollector(
  argv: string[],
  dir: string,
): Promise<{ exitCode: number; wall: number; cpu: number; rssKiB: number; stdout: string }> {
  const timePath = join(dir, 'time.txt');
  const outPath = join(dir, 'collect.json');
  return new Promise((done, fail) => {
    const child = spawn(
      'sh',
      [
        '-c',
        'ulimit -n "$(ulimit -Hn)" && exec "$@" >"$OUT"',
        'sh',
        GNU_TIME,
        '-f',
        '%e %U %S %M',
        '-o',
        timePath,
        ...argv,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, OUT: outPath },
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.once('error', fail);
    child.once('exit', (code) => {
      try {
        const [wall, user, system, rss] = readFileSync(timePath, 'utf8')
          .trim()
          .split('\n')
          .at(-1)!
          .split(' ')
          .map(Number) as [number, number, number, number];
        done({ exitCode: code ?? 1, wall, cpu: user + system, rssKiB: rss, stdout: readFileSync(outPath, 'utf8') });
      } catch (error) {
        fail(new Error(`the collector left no figures (${(error as Error).message}); stderr: ${stderr}`));
      }
    });
  });
}

async function measureSize(hosts: number, options: Options): Promise<RoundFigures> {
  const dir = mkdtempSync(join(tmpdir(), `fleetstat-collector-scale-${hosts}-`));
  let sim: Simulator | undefined;
  try {
    log(`${hosts} hosts: starting the simulated fleet in ${dir} …`);
    sim = await startSimulator(join(dir, 'sim'), hosts, options);
    const { manifest } = sim;
    const databasePath = join(dir, 'fleetstat.sqlite');
    const configPath = writeFleetConfig(
      {
        user: manifest.user,
        passwordFile: '',
        clientKeyPath: manifest.clientKeyPath,
        knownHostsPath: manifest.knownHostsPath,
      },
      {
        dir,
        databaseUrl: `sqlite:${databasePath}`,
        settings: {
          'cpu-sample': '10',
          concurrency: String(options.concurrency),
          'connect-timeout': String(options.connectTimeout),
        },
        clients: manifest.hosts.map((h) => ({
          host: h,
          auth: 'key',
          name: h.name,
          attributes: { timeout: String(options.hostTimeout) },
        })),
      },
    );
    const profDir = options.cpuProfDir ? join(options.cpuProfDir, String(hosts)) : join(dir, 'prof');
    mkdirSync(profDir, { recursive: true });
    const simBefore = await sim.cpuMs();
    const load1 = loadAverage();
    log(`${hosts} hosts: collecting (concurrency ${options.concurrency}, load1 ${load1}) …`);
    const run = await runCollector(
      [
        process.execPath,
        '--cpu-prof',
        '--cpu-prof-dir',
        profDir,
        options.cli,
        'collect',
        '--config',
        configPath,
        '--json',
      ],
      dir,
    );
    const simAfter = await sim.cpuMs();
    if (!run.stdout.trim()) throw new Error(`${hosts} hosts: the collector printed no summary (exit ${run.exitCode})`);
    const summary = JSON.parse(run.stdout) as {
      seconds: number;
      hosts_ok: number;
      hosts_failed: number;
      failures: { host: string; stage: string }[];
    };

    const failedStage = new Map(summary.failures.map((f) => [f.host, f.stage]));
    const faultsMisrecorded = manifest.hosts
      .filter((h) => failedStage.get(h.name) !== EXPECTED_STAGE[h.mode])
      .map((h) => `${h.name} (${h.mode}): ${failedStage.get(h.name) ?? 'stored'}`);
    const db = new Database(databasePath, { readonly: true });
    const samplesStored = (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
    db.close();

    const profile = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    let dbCpuMsPerHost: number | null = null;
    if (profile) {
      // Profile times are wall intervals between samples (inflated on a loaded machine): their
      // database share of the busy samples, applied to the CPU time GNU time measured.
      const { areas } = summarize(
        JSON.parse(readFileSync(join(profDir, profile), 'utf8')) as Parameters<typeof summarize>[0],
      );
      const busy = areas.filter(([a]) => !a.startsWith('(idle')).reduce((sum, [, ms]) => sum + ms, 0);
      const database = areas.filter(([a]) => DATABASE_AREAS.includes(a)).reduce((sum, [, ms]) => sum + ms, 0);
      dbCpuMsPerHost = busy > 0 ? round(((database / busy) * 1000 * run.cpu) / hosts, 3) : null;
    }
    return {
      hosts,
      wallSeconds: run.wall,
      roundSeconds: summary.seconds,
      cpuSeconds: round(run.cpu, 2),
      cpuMsPerHost: round((1000 * run.cpu) / hosts, 3),
      peakRssMiB: round(run.rssKiB / 1024, 1),
      dbCpuMsPerHost,
      simCpuMsPerHost: round((simAfter.cpuMs - simBefore.cpuMs) / hosts, 3),
      hostsOk: summary.hosts_ok,
      hostsFailed: summary.hosts_failed,
      samplesStored,
      faultsMisrecorded: faultsMisrecorded.slice(0, 20),
      faultsMisrecordedCount: faultsMisrecorded.length,
      load1,
      exitCode: run.exitCode,
    };
  } finally {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function table(rows: RoundFigures[]): string {
  const head = [
    'hosts',
    'wall s',
    'round s',
    'CPU s',
    'CPU ms/host',
    'peak RSS MiB',
    'DB CPU ms/host',
    'sim CPU ms/host',
    'ok',
    'failed',
    'stored',
    'load1',
  ];
  const lines = rows.map((r) =>
    [
      r.hosts,
      r.wallSeconds.toFixed(1),
      r.roundSeconds.toFixed(1),
      r.cpuSeconds.toFixed(1),
      r.cpuMsPerHost.toFixed(2),
      r.peakRssMiB.toFixed(0),
      r.dbCpuMsPerHost?.toFixed(2) ?? 'n/a',
      r.simCpuMsPerHost.toFixed(2),
      r.hostsOk,
      r.hostsFailed,
      r.samplesStored,
      r.load1.toFixed(1),
    ].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} not found (Debian: apt-get install time)`);
  if (!existsSync(options.cli)) throw new Error(`${options.cli} not found: run npm run build first`);
  const rows: RoundFigures[] = [];
  for (const hosts of options.sizes) {
    const figures = await measureSize(hosts, options);
    rows.push(figures);
    log(
      `${hosts} hosts: ${figures.wallSeconds} s wall, ${figures.cpuMsPerHost} ms CPU/host, ${figures.peakRssMiB} MiB peak, ${figures.hostsOk} ok, ${figures.faultsMisrecordedCount} outcomes not as simulated`,
    );
    for (const line of figures.faultsMisrecorded.slice(0, 10)) log(`  misrecorded: ${line}`);
  }
  const machine = {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotalMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
  };
  console.log(
    `\ncollector alone: one fleetstat collect round (SQLite) over a simulated fleet, concurrency ${options.concurrency}, cpu-sample 10 ms, connect-timeout ${options.connectTimeout} s; ${options.cli}`,
  );
  console.log(
    `machine: ${machine.nproc} cores (${machine.cpuModel}), ${machine.memTotalMiB} MiB, node ${machine.node}; ${new Date().toISOString()}`,
  );
  console.log(table(rows));
  const report = {
    date: new Date().toISOString(),
    machine,
    concurrency: options.concurrency,
    faultShare: options.faultShare,
    rows,
  };
  console.log(`BENCH-JSON ${JSON.stringify(report)}`);
  if (options.jsonPath) writeFileSync(options.jsonPath, JSON.stringify(report, null, 2) + '\n');
  if (rows.some((r) => r.faultsMisrecordedCount > 0 || r.samplesStored !== r.hostsOk)) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(`bench: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
