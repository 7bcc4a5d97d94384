/**
 * Soak: `fleetstat serve` at a short interval over a loopback fleet of real sshd, a few hosts
 * failing (a closed port, a wrong password, an unknown host key), for many rounds. Throughout
 * it samples the serve process's resident memory and open descriptors (from /proc) and its V8
 * heap and event-loop delay p99 (from its /metrics), and the database's size (the data). It
 * prints each figure's start and end values and its least-squares slope per 1,000 rounds, and
 * judges whether anything grows beyond the data itself.
 *
 *   npm run bench:soak -- [--rounds 1000] [--hosts 50] [--failing 3] [--interval 1]
 *                         [--sample-every 2] [--json FILE] [--cli dist/cli/main.js]   (root: real sshd hosts)
 *
 * Prints a table and one `SOAK-JSON {…}` line. Exits 1 when the serve process dies, or when
 * (at 100 rounds or more) a figure grows faster than its limit. SIGINT once stops early and
 * reports the rounds so far.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closedPort, type FaultEndpoint } from '../test/support/fault-servers.js';
import { writeFleetConfig, type FleetClient } from '../test/support/fleet-config.js';
import { fleetAddress, startFleet } from '../test/support/sshd.js';
import { fitSlope, judgeFigure, median, type FigureReport } from './soak-figures.js';

const DEFAULT_CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
/** Loopback addresses 127.0.9.x: apart from the round benchmark's fleets. */
const FIRST_INDEX = 2000;
/** The rounds left out of every figure at the start: JIT, caches and pools warming up. */
const WARM_UP_SHARE = 0.05;
const JUDGED_FROM_ROUNDS = 100;

/** What one failing host does, and how. */
type FailureKind = 'closed-port' | 'wrong-password' | 'unknown-host-key';
const FAILURE_KINDS: FailureKind[] = ['closed-port', 'wrong-password', 'unknown-host-key'];

/** One sample of the serve process. */
interface Sample {
  atSeconds: number;
  rounds: number;
  rssMiB: number;
  /** Anonymous resident memory (RssAnon): RSS without the file pages (node's own code) it maps. */
  anonMiB: number;
  heapMiB: number;
  /** Memory of C++ objects bound to JavaScript, buffers included. */
  externalMiB: number;
  openFds: number;
  loopP99Ms: number;
  dbMiB: number;
}

/** Figures sampled, their unit and their growth limit per 1,000 rounds. */
/** `baseline`: judged on the minimum of each tenth of the run (descriptors: sockets in flight are not growth). */
const FIGURES: {
  key: Exclude<keyof Sample, 'atSeconds' | 'rounds'>;
  label: string;
  limit: number;
  baseline?: boolean;
}[] = [
  { key: 'rssMiB', label: 'resident memory MiB', limit: 16 },
  { key: 'anonMiB', label: 'anonymous memory MiB', limit: 16 },
  { key: 'heapMiB', label: 'V8 heap used MiB', limit: 4 },
  { key: 'externalMiB', label: 'external memory MiB', limit: 8 },
  { key: 'openFds', label: 'open file descriptors', limit: 1, baseline: true },
  { key: 'loopP99Ms', label: 'event-loop delay p99 ms', limit: 20 },
  { key: 'dbMiB', label: 'database MiB (the data)', limit: Infinity },
];

function options() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '1000' },
      hosts: { type: 'string', default: '50' },
      failing: { type: 'string', default: '3' },
      interval: { type: 'string', default: '1' },
      'sample-every': { type: 'string', default: '2' },
      json: { type: 'string' },
      'cpu-sample': { type: 'string', default: '200' },
      'max-hours': { type: 'string', default: '6' },
      cli: { type: 'string', default: DEFAULT_CLI },
    },
  });
  const rounds = Number(values.rounds);
  const hosts = Number(values.hosts);
  const failing = Number(values.failing);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a whole number ≥ 1');
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 250) throw new Error('--hosts: 1 to 250');
  if (!Number.isInteger(failing) || failing < 0 || failing > hosts) throw new Error('--failing: 0 to --hosts');
  return {
    rounds,
    hosts,
    failing,
    intervalSeconds: Number(values.interval),
    sampleMs: Number(values['sample-every']) * 1000,
    json: values.json,
    cpuSampleMs: Number(values['cpu-sample']),
    maxMs: Number(values['max-hours']) * 3600_000,
    cli: values.cli,
  };
}

/** Resident set of `pid` in MiB: all of it (VmRSS) and its anonymous part (RssAnon). */
function residentMiB(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024 };
}

/** The value of an unlabelled metric in a Prometheus text exposition. */
function metric(text: string, name: string): number {
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  if (value === undefined) throw new Error(`/metrics has no ${name}`);
  return Number(value);
}

/** Size of the SQLite database with its WAL, MiB. */
function dbMiB(path: string): number {
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      bytes += statSync(file).size;
    } catch {
      /* no WAL yet */
    }
  }
  return bytes / 2 ** 20;
}

/** The serve child: its PID, dashboard port once known, rounds finished, and the end. */
function startServe(cli: string, configPath: string) {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--config', configPath, '--listen', '127.0.0.1:0', '--log-format', 'json'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const state = { rounds: 0, hostsOk: 0, hostsFailed: 0, port: 0, tail: [] as string[] };
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      state.tail = [...state.tail.slice(-20), line];
      const port = /dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (port) state.port = Number(port[1]);
      const round = /"msg":"round \d+: (\d+) ok, (\d+) failed in/.exec(line);
      if (round) {
        state.rounds += 1;
        state.hostsOk += Number(round[1]);
        state.hostsFailed += Number(round[2]);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, state, exited };
}

/** The lowest value of `key` in each tenth of the samples (by position), at the tenth's middle round. */
function windowMinima(samples: readonly Sample[], key: keyof Sample): { x: number; y: number }[] {
  const size = Math.max(1, Math.ceil(samples.length / 10));
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < samples.length; i += size) {
    const part = samples.slice(i, i + size);
    out.push({ x: part[Math.floor(part.length / 2)]!.rounds, y: Math.min(...part.map((s) => s[key])) });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const opts = options();
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-soak-'));
  const kinds = Array.from({ length: opts.failing }, (_, i) => FAILURE_KINDS[i % FAILURE_KINDS.length]!);
  const closedCount = kinds.filter((k) => k === 'closed-port').length;
  process.stderr.write(`starting ${opts.hosts - closedCount} sshd and ${closedCount} closed ports…\n`);
  const fleet = await startFleet(opts.hosts - closedCount, { firstIndex: FIRST_INDEX });
  const endpoints: FaultEndpoint[] = [];
  let serve: ReturnType<typeof startServe> | undefined;
  const cleanUp = async () => {
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    await Promise.all([fleet.stop(), ...endpoints.map((e) => e.stop())]);
    rmSync(dir, { recursive: true, force: true });
  };
  // SIGINT or SIGTERM once: stop sampling and report the rounds so far; twice: just clean up.
  let stopEarly = false;
  const interrupted = () => {
    if (!stopEarly && serve) {
      stopEarly = true;
      process.stderr.write('stopping early: reporting the rounds so far\n');
      return;
    }
    void cleanUp().finally(() => process.exit(130));
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  try {
    const sshd = [...fleet.hosts];
    const clients: FleetClient[] = [];
    const unknownKeys = new Set<string>();
    for (const [i, kind] of kinds.entries()) {
      const name = `${kind}-${i}`;
      if (kind === 'closed-port') {
        const endpoint = await closedPort(fleetAddress(FIRST_INDEX + opts.hosts + i));
        endpoints.push(endpoint);
        clients.push({ host: endpoint, auth: 'key', name });
      } else if (kind === 'wrong-password') {
        clients.push({
          host: sshd.shift()!,
          auth: 'none',
          name,
          attributes: { 'password-env': 'FLEETSTAT_SOAK_WRONG_PASSWORD' },
        });
      } else {
        const host = sshd.shift()!;
        unknownKeys.add(host.knownHostsLine);
        clients.push({ host, auth: 'key', name });
      }
    }
    sshd.forEach((host, i) => clients.push({ host, auth: 'key', name: `host-${i + 1}` }));
    const knownHostsPath = join(dir, 'known_hosts');
    writeFileSync(
      knownHostsPath,
      fleet.hosts
        .map((h) => h.knownHostsLine)
        .filter((l) => !unknownKeys.has(l))
        .join('\n') + '\n',
    );
    const databasePath = join(dir, 'soak.sqlite');
    const configPath = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${databasePath}`,
      clients,
      knownHostsPath,
      settings: {
        interval: `${opts.intervalSeconds}s`,
        concurrency: String(opts.hosts),
        'cpu-sample': String(opts.cpuSampleMs),
        'connect-timeout': '5',
      },
    });
    process.env.FLEETSTAT_SOAK_WRONG_PASSWORD = 'not-the-password';

    serve = startServe(opts.cli, configPath);
    const pid = serve.child.pid!;
    const began = Date.now();
    while (serve.state.port === 0) {
      if (serve.child.exitCode !== null) throw new Error(`serve exited at start:\n${serve.state.tail.join('\n')}`);
      if (Date.now() - began > 120_000) throw new Error('serve did not start listening within 120 s');
      await sleep(100);
    }
    process.stderr.write(
      `serve PID ${pid} on 127.0.0.1:${serve.state.port}: ${opts.rounds} rounds of ${clients.length} hosts (${opts.failing} failing), interval ${opts.intervalSeconds} s\n`,
    );
    const samples: Sample[] = [];
    let lastProgress = 0;
    while (serve.state.rounds < opts.rounds && !stopEarly) {
      if (serve.child.exitCode !== null)
        throw new Error(`serve exited after ${serve.state.rounds} rounds:\n${serve.state.tail.join('\n')}`);
      if (Date.now() - began > opts.maxMs) throw new Error(`only ${serve.state.rounds} rounds in --max-hours`);
      const text = await (await fetch(`http://127.0.0.1:${serve.state.port}/metrics`)).text();
      const resident = residentMiB(pid);
      samples.push({
        atSeconds: (Date.now() - began) / 1000,
        rounds: serve.state.rounds,
        rssMiB: resident.rss,
        anonMiB: resident.anon,
        heapMiB: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        externalMiB: metric(text, 'nodejs_external_memory_bytes') / 2 ** 20,
        // Read after the scrape, so the socket of that request is closed and not counted.
        openFds: readdirSync(`/proc/${pid}/fd`).length,
        loopP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        dbMiB: dbMiB(databasePath),
      });
      if (serve.state.rounds >= lastProgress + Math.max(1, Math.floor(opts.rounds / 20))) {
        lastProgress = serve.state.rounds;
        const s = samples.at(-1)!;
        process.stderr.write(
          `  ${s.rounds} rounds, ${s.atSeconds.toFixed(0)} s: RSS ${s.rssMiB.toFixed(1)} MiB, heap ${s.heapMiB.toFixed(1)} MiB, fds ${s.openFds}, loop p99 ${s.loopP99Ms.toFixed(1)} ms, db ${s.dbMiB.toFixed(1)} MiB, load ${loadavg()[0]!.toFixed(1)}\n`,
        );
      }
      await sleep(opts.sampleMs);
    }
    const seconds = (Date.now() - began) / 1000;
    const { hostsOk, hostsFailed, rounds } = serve.state;
    serve.child.kill('SIGTERM');
    const exitCode = await serve.exited;

    const warmUp = Math.max(1, Math.floor(rounds * WARM_UP_SHARE));
    const kept = samples.filter((s) => s.rounds >= warmUp);
    const used = kept.length >= 2 ? kept : samples;
    const judged = rounds >= JUDGED_FROM_ROUNDS;
    const edge = Math.max(1, Math.min(10, Math.floor(used.length / 10)));
    const figures: Record<string, FigureReport> = {};
    for (const f of FIGURES) {
      const values = used.map((s) => s[f.key]);
      const points = f.baseline ? windowMinima(used, f.key) : used.map((s) => ({ x: s.rounds, y: s[f.key] }));
      const slope =
        fitSlope(
          points.map((p) => p.x),
          points.map((p) => p.y),
        ) * 1000;
      figures[f.key] = {
        label: f.label,
        start: median(values.slice(0, edge)),
        end: median(values.slice(-edge)),
        min: Math.min(...values),
        max: Math.max(...values),
        slopePer1000Rounds: slope,
        limitPer1000Rounds: f.limit,
        verdict: judgeFigure(slope, f.limit, judged),
      };
    }
    const grew = Object.values(figures).filter((f) => f.verdict === 'grows');
    const lines = [
      `soak: ${rounds} rounds${stopEarly ? ` (stopped early; ${opts.rounds} asked)` : ''} in ${seconds.toFixed(0)} s (${(seconds / rounds).toFixed(2)} s per round), ${clients.length} hosts (${opts.failing} failing), interval ${opts.intervalSeconds} s`,
      `host collections: ${hostsOk} ok, ${hostsFailed} failed; serve exit code ${exitCode}; ${samples.length} samples (${used.length} after a warm-up of ${warmUp} rounds); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
      '',
      `${'figure'.padEnd(26)}${'start'.padStart(10)}${'end'.padStart(10)}${'min'.padStart(10)}${'max'.padStart(10)}${'slope/1000 rounds'.padStart(19)}${'limit'.padStart(8)}  verdict`,
      ...Object.values(figures).map(
        (f) =>
          `${f.label.padEnd(26)}${f.start.toFixed(2).padStart(10)}${f.end.toFixed(2).padStart(10)}${f.min.toFixed(2).padStart(10)}${f.max.toFixed(2).padStart(10)}${f.slopePer1000Rounds.toFixed(3).padStart(19)}${(Number.isFinite(f.limitPer1000Rounds) ? String(f.limitPer1000Rounds) : '-').padStart(8)}  ${f.verdict}`,
      ),
      '',
      !judged
        ? `not judged: fewer than ${JUDGED_FROM_ROUNDS} rounds`
        : grew.length === 0
          ? 'no growth beyond the data itself'
          : `GROWS: ${grew.map((f) => f.label).join(', ')}`,
    ];
    const report = {
      date: new Date().toISOString(),
      rounds,
      roundsAsked: opts.rounds,
      stoppedEarly: stopEarly,
      seconds,
      hosts: clients.length,
      failing: opts.failing,
      intervalSeconds: opts.intervalSeconds,
      hostsOk,
      hostsFailed,
      serveExitCode: exitCode,
      loadAverage: loadavg(),
      samples: samples.length,
      warmUpRounds: warmUp,
      figures,
      judged,
      grows: grew.map((f) => f.label),
    };
    process.stdout.write(`${lines.join('\n')}\nSOAK-JSON ${JSON.stringify(report)}\n`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ ...report, samples }, null, 2) + '\n');
    process.exitCode = exitCode === 0 && grew.length === 0 ? 0 : 1;
  } finally {
    process.stderr.write(`soak dir: ${dir}\n`);
    await cleanUp();
  }
}

await main();
