/**
 * What one host's collection costs the target, past sshd: the one-shot command (detect, upload,
 * run; src/probe/unix-commands.ts) run by /bin/sh with the probe on stdin, as sshd's login shell
 * runs it. Counts the processes it starts (strace -ff: every fork, and the programs exec'd) and
 * times it (GNU time: user + sys of everything, per run), cpu-ms = 0 (no sampling sleep, as in
 * steady state once CPU comes from counters between rounds). Compares with the OpenSSH floor's
 * remote command (`cat /proc/stat /proc/meminfo /proc/uptime`) and, with `--baseline-src DIR`
 * (e.g. `mkdir /tmp/old && git archive REV src | tar -x -C /tmp/old`), another version's
 * one-shot command and probe, alternating so both see the same load.
 *
 *   npx tsx bench/one-shot-cost.ts [--runs 30] [--rounds 3] [--baseline-src /tmp/old/src]
 *
 * As root it runs everything as the test account (scripts/test-user.sh), like the fleet's
 * sessions. Each version's reply is opened with the collector's openEnvelope first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import { splitOneShotReply } from '../src/probe/unix-commands.js';
import { testAccountIds } from '../test/support/hostile-fleet.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    'baseline-src': { type: 'string' },
  },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const work = mkdtempSync(join(tmpdir(), 'fleetstat-one-shot-cost-'));
chmodSync(work, 0o755);
// As root: run as the test account, with a clean environment (what an sshd session has).
const asUser =
  process.getuid?.() === 0
    ? (() => {
        const { uid, gid } = testAccountIds();
        return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups'];
      })()
    : [];
const sessionEnv = ['env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin', 'LC_ALL=C'];

interface Version {
  name: string;
  command: string;
  stdin: string;
}

/** Writes a version's command and stdin (input line + gzip probe) for the shell loops. */
async function version(name: string, srcDir: string): Promise<Version> {
  const commands = (await import(
    resolve(srcDir, 'probe/unix-commands.ts')
  )) as typeof import('../src/probe/unix-commands.js');
  const script = readFileSync(resolve(srcDir, 'probe/probe.sh'), 'utf8');
  const secrets = newRunSecrets();
  const input = probeInputLine(secrets, { cpuMs: 0, eventCap: 50, lastRecordId: 0 });
  const command = commands.unixOneShotCommand({ sudo: 'none', encoding: 'gzip' });
  const stdin = join(work, `${name}.stdin`);
  // Benchmark-only secrets on this machine; a target never sees its input line in a file.
  writeFileSync(stdin, Buffer.concat([Buffer.from(input), commands.unixProbePayload(script, 'gzip')]), { mode: 0o644 });
  const first = spawnSync(asUser[0] ?? '/bin/sh', [...asUser.slice(1), ...sessionEnv, '/bin/sh', '-c', command], {
    input: readFileSync(stdin),
  });
  openEnvelope(splitOneShotReply(first.stdout)!.envelope, secrets); // throws on a broken version
  return { name, command, stdin };
}

/** Processes (forks) and programs (successful execs, by name) of one run, from strace -ff. */
function processes(v: Version): { forks: number; programs: string[] } {
  const dir = mkdtempSync(join(work, 'trace-'));
  const argv = [
    '-ff',
    '-qq',
    '-o',
    join(dir, 't'),
    '-e',
    'trace=execve',
    ...(asUser.length ? asUser : []),
    ...sessionEnv,
    '/bin/sh',
    '-c',
    v.command,
  ];
  spawnSync('strace', argv, { input: readFileSync(v.stdin) });
  const traces = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
  const programs = traces
    .flatMap((t) => [...t.matchAll(/^execve\("([^"]+)".*= 0$/gm)].map((m) => m[1]!.split('/').at(-1)!))
    .filter((p) => !['setpriv', 'env'].includes(p)); // the harness, not the session
  return { forks: traces.length - 1, programs };
}

/** CPU (user + sys) and wall ms per run over `runs` runs, under GNU time. */
function cost(command: string, stdin: string): { wallMs: number; cpuMs: number } {
  const loop = `i=0; while [ $i -lt ${runs} ]; do /bin/sh -c "$C" < '${stdin}' > /dev/null || exit 1; i=$((i + 1)); done`;
  const timed = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %U %S', ...asUser, ...sessionEnv, `C=${command}`, '/bin/sh', '-c', loop],
    { encoding: 'utf8' },
  );
  if (timed.status !== 0) throw new Error(`the loop failed: ${timed.stderr}`);
  const [e, u, s] = timed.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wallMs: (1000 * e!) / runs, cpuMs: (1000 * (u! + s!)) / runs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const versions = [await version('current', resolve(import.meta.dirname, '../src'))];
  if (values['baseline-src']) versions.push(await version('baseline', values['baseline-src']));
  const floorStdin = join(work, 'empty');
  writeFileSync(floorStdin, '', { mode: 0o644 });
  const all = [
    ...versions,
    { name: 'floor (cat)', command: 'cat /proc/stat /proc/meminfo /proc/uptime', stdin: floorStdin },
  ];
  console.log(
    `one-shot command per host, cpu-ms = 0, ${runs} runs per series, medians of ${rounds} series; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  console.log('| version | processes (forks) | programs | wall ms/run | CPU ms/run (user + sys) |');
  console.log('|---|---:|---|---:|---:|');
  const series = new Map(all.map((v) => [v.name, { wall: [] as number[], cpu: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    for (const v of all) {
      const c = cost(v.command, v.stdin);
      series.get(v.name)!.wall.push(c.wallMs);
      series.get(v.name)!.cpu.push(c.cpuMs);
    }
  }
  for (const v of all) {
    const { forks, programs } = processes(v);
    const s = series.get(v.name)!;
    console.log(
      `| ${v.name} | ${forks} | ${programs.length}: ${programs.join(' ')} | ${median(s.wall).toFixed(1)} | ${median(s.cpu).toFixed(1)} |`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
