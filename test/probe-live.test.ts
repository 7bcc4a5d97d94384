/**
 * The real probe.sh on this machine, under dash, busybox ash (with only busybox applets), mawk
 * and every other shell of the target matrix (docs/targets.md): its report must match what Node
 * reads from the same /proc.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, hostname, release, uptime } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import type { Report } from '../src/probe/report.js';
import { busyboxOnlyPath, makeShims, runProbe, which, type ShimDir } from './probe-runner.js';
import { requireTool } from './support/requirements.js';
import { countWithin, processCount } from './support/report-checks.js';
import { matrixShells } from './targets-matrix.js';

const cleanup: ShimDir[] = [];
afterAll(() => {
  for (const d of cleanup) d.remove();
});

interface Variant {
  name: string;
  shell: string[];
  path?: string;
}
const variants: Variant[] = [{ name: 'dash', shell: ['dash'] }];
const bb = busyboxOnlyPath();
if (bb) {
  cleanup.push(bb);
  variants.push({ name: 'busybox ash + applets', shell: [which('busybox')!, 'ash'], path: bb.dir });
}
for (const sh of matrixShells()) {
  if (!['dash', 'busybox ash'].includes(sh.name)) variants.push({ name: sh.name, shell: sh.argv });
}
const mawk = which('mawk');
if (mawk) {
  const m = makeShims({ links: { awk: mawk } });
  cleanup.push(m);
  variants.push({ name: 'dash + mawk', shell: ['dash'], path: `${m.dir}:${process.env.PATH}` });
}

async function probeHere(v: Variant, cpuMs: number): Promise<{ report: Report; ms: number }> {
  const secrets = newRunSecrets();
  const run = await runProbe(probeInputLine(secrets, { cpuMs, eventCap: 50, lastRecordId: 0 }), {
    shell: v.shell,
    env: v.path ? { PATH: v.path } : {},
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return { report: openEnvelope(run.stdout, secrets), ms: run.ms };
}

const meminfo = () =>
  Object.fromEntries(
    readFileSync('/proc/meminfo', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(/:\s+/))
      .map(([k, v]) => [k, Number.parseInt(v!, 10) * 1024]),
  );

describe.each(variants)('probe.sh on this machine under $name', (v) => {
  it("matches this machine's own /proc", async () => {
    const pidsBefore = processCount();
    const { report: r } = await probeHere(v, 200);
    const mem = meminfo();
    expect(r.probe).toBe('sh');
    expect(r.memory.total_bytes).toBe(mem.MemTotal);
    expect(Math.abs(r.memory.available_bytes - mem.MemAvailable!)).toBeLessThan(0.05 * mem.MemTotal!);
    expect(r.memory.used_bytes).toBe(r.memory.total_bytes - r.memory.available_bytes);
    expect(r.swap.total_bytes).toBe(mem.SwapTotal);
    expect(Math.abs(r.uptime_seconds - uptime())).toBeLessThan(5);
    const bootFromProc = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    expect(Date.parse(r.boot_time) / 1000).toBe(bootFromProc);
    expect(r.cpu.cores).toBe(cpus().length);
    expect(r.cpu.cores).toBe(Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' })));
    expect(r.cpu.interval_ms).toBe(200);
    expect(r.host.hostname).toBe(hostname());
    expect(r.host.kernel).toBe(release());
    expect(r.host.arch).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    expect(r.host.os).toBe('linux');
    const pretty = /^PRETTY_NAME="?(.*?)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))![1];
    expect(r.host.os_name).toBe(pretty);
    // Between the counts before and after the run, with a margin: other tests start processes meanwhile.
    expect(
      countWithin(r.process_count, pidsBefore),
      `process_count ${r.process_count}, /proc had ${pidsBefore} before`,
    ).toBe(true);
    const nicNames = readFileSync('/proc/net/dev', 'utf8')
      .split('\n')
      .slice(2)
      .filter((l) => l.includes(':'))
      .map((l) => l.split(':')[0]!.trim());
    expect(r.nics.map((n) => n.name)).toEqual(nicNames);
    const root = r.disks.find((d) => d.mount === '/');
    const fs = statfsSync('/');
    expect(root?.size_bytes).toBe(fs.blocks * fs.bsize);
    expect(r.disks.every((d) => !['tmpfs', 'proc', 'devtmpfs', 'cgroup', 'nfs', 'nfs4', 'cifs'].includes(d.fs))).toBe(
      true,
    );
    expect(r.warnings).toEqual([]);
    if (v.path === bb?.dir) {
      // No journalctl and no auth.log on this PATH/host: events are reported as unreadable, and
      // "needs root" only where the probe is not root already.
      expect(r.events).toMatchObject({ readable: false, items: [] });
      expect(r.events.note.includes('needs root')).toBe(process.getuid?.() !== 0);
    }
  });

  // Its cost (wall and CPU time per run) is measured by bench/probe-cost.ts, not asserted here:
  // a wall-clock bound fails on a busy machine. The process count below is what a test can hold.
});

describe('CPU percent on this machine', () => {
  it('shows a busy core as a delta over cpu-ms, not the since-boot average', async () => {
    const busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 4000; while (Date.now() < end) {}']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const { report } = await probeHere(variants[0]!, 1500);
      // One of the cores spins the whole interval: at least ~1/cores busy.
      expect(report.cpu.percent).toBeGreaterThan(100 / report.cpu.cores - 15);
    } finally {
      busy.kill();
    }
  });

  it('with cpu-ms=0 reports the since-boot ratio and the cumulative counters, without a sleep', async () => {
    const counters = () => {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
      return { total: f.reduce((a, b) => a + b, 0), idle: f[3]! + f[4]! };
    };
    const before = counters();
    const { report } = await probeHere(variants[0]!, 0);
    const after = counters();
    expect(Math.abs(report.cpu.percent - (100 * (after.total - after.idle)) / after.total)).toBeLessThan(2);
    expect(report.cpu.interval_ms).toBe(0);
    // The probe read /proc/stat between our two reads.
    expect(report.cpu.counters!.total).toBeGreaterThanOrEqual(before.total);
    expect(report.cpu.counters!.total).toBeLessThanOrEqual(after.total);
    expect(report.cpu.counters!.idle).toBeGreaterThanOrEqual(before.idle);
    expect(report.cpu.counters!.idle).toBeLessThanOrEqual(after.idle);
    expect(report.warnings).not.toContain('cpu.percent is the average since boot (cpu-ms=0)');
  });
});

describe.skipIf(!requireTool('strace', 'it counts process starts'))('process starts', () => {
  it('starts at most 12 processes per run besides the cpu-ms sleep (docs/performance.md, "Probe cost")', async () => {
    const work = makeShims({});
    cleanup.push(work);
    const trace = join(work.dir, 'trace');
    const secrets = newRunSecrets();
    const run = await runProbe(probeInputLine(secrets, { cpuMs: 100, eventCap: 50, lastRecordId: 0 }), {
      shell: [which('strace')!, '-f', '-qq', '-e', 'trace=execve', '-o', trace, 'dash'],
    });
    expect(run.status).toBe(0);
    expect(openEnvelope(run.stdout, secrets).schema).toBe(1);
    // Successful execs only (a PATH search shows failed tries), less the shell itself and sleep.
    const programs = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.includes('execve(') && !/ = -1 /.test(l))
      .map((l) => /execve\("([^"]+)"/.exec(l)![1]!)
      .slice(1)
      .filter((prog) => basename(prog) !== 'sleep');
    expect(programs.filter((prog) => basename(prog) === 'awk')).toHaveLength(2);
    expect(programs.length).toBeLessThanOrEqual(12);
  });
});

describe('probe size', () => {
  // What a host receives is the gzip -9 upload (unixProbePayload): readable names cost little there.
  it('stays under 10 KiB compressed', () => {
    expect(gzipSync(readFileSync(new URL('../src/probe/probe.sh', import.meta.url)), { level: 9 }).length).toBeLessThan(
      10 * 1024,
    );
  });
});
