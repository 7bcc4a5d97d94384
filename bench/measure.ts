/**
 * Runs one command and measures it from outside: wall time, CPU (user + system) of the command
 * and every descendant it waited for, and the largest resident set among them, all from
 * GNU time (`/usr/bin/time -f`), which reads the kernel's resource usage of its child. The CPU
 * the fleet's sshd spent serving the command (the target side: sshd, shells, the probe) comes
 * from a TargetCpuMeter (bench/target-cpu.ts).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import type { TargetCpuMeter } from './target-cpu.js';

export const GNU_TIME = '/usr/bin/time';

export interface Measurement {
  wallSeconds: number;
  /** CPU seconds of the command's process tree (user + system). */
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** Largest resident set of any one process of the tree, KiB. */
  maxRssKiB: number;
  /** CPU seconds the fleet's sshd and everything they ran spent meanwhile (the targets). */
  targetCpuSeconds: number;
  exitCode: number;
  /** 1-minute load average just before the run. */
  loadBefore: number;
  /** Share of the whole machine's CPU time that was busy during the run (all processes, 0–1). */
  machineBusy: number;
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the command's stdout and stderr go. */
  stdoutPath: string;
  stderrPath: string;
  /** GNU time writes its figures here. */
  timePath: string;
  /** PIDs of the fleet's sshd listeners (the meter watches what they run). */
  sshdPids: readonly number[];
  targetCpu: TargetCpuMeter;
  /** Runs after the command, outside its timing but before the target CPU is read (cleanup). */
  afterExit?: () => void;
}

/** Resolves once no process is a child of the given listeners (or after `timeoutMs`). */
export async function waitForSessionsToEnd(listeners: readonly number[], timeoutMs: number): Promise<void> {
  const parents = new Set(listeners);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    if (Date.now() > deadline || !anyChildOf(parents)) return;
  }
}

function anyChildOf(parents: ReadonlySet<number>): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parents.has(ppid)) return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

/** Busy and total jiffies of the whole machine (the "cpu" line of /proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - fields[4]!, total }; // idle and iowait are not busy
}

/** 1-minute load average. */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Runs `argv` under GNU time and resolves with what it measured. */
export async function measure(argv: readonly string[], options: MeasureOptions): Promise<Measurement> {
  const loadBefore = loadAverage();
  const targetBefore = options.targetCpu.read();
  const machineBefore = machineJiffies();
  const stdout = openSync(options.stdoutPath, 'w');
  const stderr = openSync(options.stderrPath, 'w');
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', options.timePath, ...argv], {
      stdio: ['ignore', stdout, stderr],
      env: { ...process.env, ...options.env },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).finally(() => {
    closeSync(stdout);
    closeSync(stderr);
  });
  const machineAfter = machineJiffies();
  const machineBusy = (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total);
  options.afterExit?.();
  // A session's CPU reaches its listener's child times only once sshd has reaped it.
  await waitForSessionsToEnd(options.sshdPids, 15_000);
  const targetCpuSeconds = options.targetCpu.read() - targetBefore;
  // GNU time prints "Command exited with non-zero status N" before the figures when N != 0.
  const figures = readFileSync(options.timePath, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  const [wall, user, system, rss] = figures as [number, number, number, number];
  return {
    wallSeconds: wall,
    userSeconds: user,
    systemSeconds: system,
    cpuSeconds: user + system,
    maxRssKiB: rss,
    targetCpuSeconds,
    exitCode,
    loadBefore,
    machineBusy,
  };
}
