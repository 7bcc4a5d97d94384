/**
 * How long loading, validating and checking a large config takes: 5,000 clients in 100 groups
 * over 20 included files (plus <defaults>, a password file and alert rules at every level).
 *
 *   npx tsx bench/config-scale.ts [--clients 5000] [--groups 100] [--files 20] [--runs 7] [--ranges]
 *
 * Prints the median and spread of `checkConfig` (in process, after one warm-up) and of the
 * whole `fleetstat config check` command (a fresh node process each run; needs `npm run build`).
 * `--ranges` writes each group's clients as one range instead of one <client> each.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { checkConfig } from '../src/config/index.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '5000' },
    groups: { type: 'string', default: '100' },
    files: { type: 'string', default: '20' },
    runs: { type: 'string', default: '7' },
    ranges: { type: 'boolean', default: false },
  },
});
const clients = Number(values.clients);
const groups = Number(values.groups);
const files = Number(values.files);
const runs = Number(values.runs);

/** Address i of the benchmark config (documentation-free private space; never contacted). */
const address = (i: number): string => `10.${Math.floor(i / 65536) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`;

function writeConfig(dir: string): { lines: number } {
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets/ssh.pw'), 'benchmark\n', { mode: 0o600 });
  const main = [
    '<clients>',
    '  <settings database="sqlite:fleet.sqlite" known-hosts="known_hosts"/>',
    '  <smtp host="127.0.0.1" port="2525" from="fleetstat@example.test"/>',
    '  <defaults username="fleetstat" password-file="secrets/ssh.pw" mail="ops@example.test" timeout="60">',
    '    <alert type="unreachable"/>',
    '    <alert type="disk" limit="90%"/>',
    '    <alert type="memory" limit="90%" for="10m"/>',
    '  </defaults>',
    '  <include path="conf.d/*.xml"/>',
    '</clients>',
  ];
  writeFileSync(join(dir, 'config.xml'), `${main.join('\n')}\n`, { mode: 0o600 });
  let lines = main.length;
  const perGroup = clients / groups;
  const groupsPerFile = groups / files;
  for (let f = 0; f < files; f++) {
    const out = ['<clients>'];
    for (let g = f * groupsPerFile; g < (f + 1) * groupsPerFile; g++) {
      out.push(
        `  <group name="g${g}" port="${2200 + (g % 10)}" mail="team${g}@example.test">`,
        `    <alert type="cpu" limit="${70 + (g % 20)}%" for="5m"/>`,
      );
      const first = g * perGroup;
      if (values.ranges)
        out.push(`    <client ip="${address(first)}-${address(first + perGroup - 1)}" name="g${g}-{ip}"/>`);
      else {
        for (let c = first; c < first + perGroup; c++) {
          out.push(
            c % 10 === 0
              ? `    <client ip="${address(c)}" name="h${c}"><alert type="disk" limit="95%"/></client>`
              : `    <client ip="${address(c)}" name="h${c}"/>`,
          );
        }
      }
      out.push('  </group>');
    }
    out.push('</clients>');
    writeFileSync(join(dir, `conf.d/${String(f).padStart(2, '0')}.xml`), `${out.join('\n')}\n`, { mode: 0o600 });
    lines += out.length;
  }
  return { lines };
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(0)} ms (min ${sorted[0]!.toFixed(0)}, max ${sorted[sorted.length - 1]!.toFixed(0)}, ${samples.length} runs)`;
}

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-config-bench-'));
try {
  const { lines } = writeConfig(dir);
  const path = join(dir, 'config.xml');
  const warm = await checkConfig(path);
  const errors = warm.issues.filter((i) => i.severity === 'error');
  if (!warm.config || errors.length > 0)
    throw new Error(
      `benchmark config is invalid: ${errors
        .slice(0, 3)
        .map((e) => e.message)
        .join('; ')}`,
    );
  if (warm.config.clients.length !== clients)
    throw new Error(`expected ${clients} clients, got ${warm.config.clients.length}`);

  const inProcess: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await checkConfig(path);
    const used = process.cpuUsage(cpuBefore);
    inProcess.push(performance.now() - started);
    cpu.push((used.user + used.system) / 1000);
  }
  const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
  const command: number[] = [];
  const empty: number[] = [];
  writeFileSync(join(dir, 'one.xml'), '<clients><client ip="10.9.9.9" username="u" agent="true"/></clients>\n', {
    mode: 0o600,
  });
  for (let i = 0; i < runs; i++) {
    let started = performance.now();
    execFileSync(process.execPath, [cli, 'config', 'check', path], { stdio: 'ignore' });
    command.push(performance.now() - started);
    started = performance.now();
    execFileSync(process.execPath, [cli, 'config', 'check', join(dir, 'one.xml')], { stdio: 'ignore' });
    empty.push(performance.now() - started);
  }
  console.log(
    `config: ${clients} clients in ${groups} groups over ${files} included files${values.ranges ? ' (one range per group)' : ' (one <client> each)'}, ${lines} lines`,
  );
  console.log(`checkConfig (load + validate + check), in process: ${summary(inProcess)}`);
  console.log(`  its CPU time (user + system; less skewed by a busy machine): ${summary(cpu)}`);
  console.log(
    `load average during the run: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${(await import('node:os')).cpus().length} cores`,
  );
  console.log(`fleetstat config check, whole command:              ${summary(command)}`);
  console.log(`fleetstat config check of a 1-client file (startup): ${summary(empty)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
