/**
 * What one run of probe.sh costs a target, apart from its cpu-ms sleep (cpu-ms = 0): wall time
 * and CPU (user + sys of the shell and every process it starts, from GNU time) per run, under
 * dash and under busybox ash with only busybox applets and openssl on PATH. `--baseline FILE`
 * also measures another probe.sh (e.g. `git show REV:src/probe/probe.sh > /tmp/old.sh`),
 * alternating with the current one, so both see the same machine load.
 *
 *   npx tsx bench/probe-cost.ts [--runs 50] [--rounds 3] [--baseline /tmp/old.sh]
 *
 * The first run of each probe is opened with the collector's openEnvelope, so a broken probe
 * cannot be timed as a fast one. Everything runs on this machine; nothing touches a network.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import { busyboxOnlyPath, which } from '../test/probe-runner.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const current = resolve(import.meta.dirname, '../src/probe/probe.sh');

const work = mkdtempSync(join(tmpdir(), 'fleetstat-probe-cost-'));
const bb = busyboxOnlyPath();
const shells: { name: string; argv: string[]; path: string }[] = [
  { name: 'dash', argv: [which('dash')!], path: process.env.PATH! },
];
if (bb) shells.push({ name: 'busybox ash + applets', argv: [which('busybox')!, 'ash'], path: bb.dir });

/** Median of numbers. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One series of `runs` probe runs in a loop under GNU time: per-run wall and CPU in ms. */
function series(shell: string[], path: string, probe: string): { wallMs: number; cpuMs: number } {
  const secrets = newRunSecrets();
  const input = join(work, 'input');
  // Benchmark-only secrets on this machine; a target never sees its input line in a file.
  writeFileSync(input, probeInputLine(secrets, { cpuMs: 0, eventCap: 50, lastRecordId: 0 }), { mode: 0o600 });
  const env = { ...process.env, PATH: path, TZ: 'UTC' };
  const first = spawnSync(shell[0]!, [...shell.slice(1), probe], {
    input: probeInputLine(secrets, { cpuMs: 0, eventCap: 50, lastRecordId: 0 }),
    env,
  });
  openEnvelope(first.stdout, secrets); // throws on a broken probe
  const loop = `i=0; while [ $i -lt ${runs} ]; do "$@" '${probe}' < '${input}' > /dev/null || exit 1; i=$((i + 1)); done`;
  const timed = spawnSync('/usr/bin/time', ['-f', '%e %U %S', '/bin/sh', '-c', loop, 'sh', ...shell], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (timed.status !== 0) throw new Error(`the probe loop failed: ${timed.stderr}`);
  return parse(timed.stderr);
}

function parse(stderr: string): { wallMs: number; cpuMs: number } {
  const [e, u, s] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wallMs: (1000 * e!) / runs, cpuMs: (1000 * (u! + s!)) / runs };
}

const probes: [string, string][] = [['current', current]];
if (values.baseline) probes.push(['baseline', resolve(values.baseline)]);
try {
  console.log(`probe.sh cost per run, cpu-ms = 0, ${runs} runs per series, medians of ${rounds} series`);
  console.log('| shell | probe | wall ms/run | CPU ms/run (user + sys) |');
  console.log('|---|---|---:|---:|');
  for (const sh of shells) {
    const results = new Map<string, { wall: number[]; cpu: number[] }>(probes.map(([n]) => [n, { wall: [], cpu: [] }]));
    for (let r = 0; r < rounds; r += 1) {
      for (const [name, file] of probes) {
        const { wallMs, cpuMs } = series(sh.argv, sh.path, file);
        results.get(name)!.wall.push(wallMs);
        results.get(name)!.cpu.push(cpuMs);
      }
    }
    for (const [name, { wall, cpu }] of results) {
      console.log(`| ${sh.name} | ${name} | ${median(wall).toFixed(1)} | ${median(cpu).toFixed(1)} |`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  bb?.remove();
}
