/**
 * CPU spent on the target side: the fleet's sshd and everything they start (shells, the probe,
 * Ansible's Python). Where the cgroup-v1 cpuacct controller is writable (root), the listeners
 * are moved into a cgroup of their own and every process they fork is counted there, exited or
 * not, reaped or not. Otherwise the listeners' cumulative child times are read from /proc,
 * which miss processes sshd never reaps (Ansible's multiplexed sessions), so they undercount.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitedChildrenCpuSeconds } from './child-cpu.js';

const CPUACCT = '/sys/fs/cgroup/cpuacct';

export interface TargetCpuMeter {
  method: 'cgroup cpuacct' | 'sshd child times';
  /** Cumulative target CPU seconds so far. */
  read(): number;
  /** Moves the listeners back and removes the cgroup. */
  release(): void;
}

function moveTo(cgroupDir: string, pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      writeFileSync(join(cgroupDir, 'cgroup.procs'), `${pid}\n`);
    } catch {
      // A listener that has gone needs no moving.
    }
  }
}

function cgroupMeter(pids: readonly number[]): TargetCpuMeter | null {
  if (!existsSync(join(CPUACCT, 'cgroup.procs'))) return null;
  const dir = join(CPUACCT, `fleetstat-bench-${process.pid}`);
  try {
    mkdirSync(dir);
    moveTo(dir, pids);
  } catch {
    return null;
  }
  return {
    method: 'cgroup cpuacct',
    read: () => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e9,
    release() {
      moveTo(CPUACCT, pids);
      try {
        rmdirSync(dir);
      } catch (error) {
        process.stderr.write(`bench: could not remove ${dir}: ${(error as Error).message}\n`);
      }
    },
  };
}

/** The best meter this machine allows for the given sshd listeners. */
export function targetCpuMeter(pids: readonly number[]): TargetCpuMeter {
  return (
    cgroupMeter(pids) ?? { method: 'sshd child times', read: () => waitedChildrenCpuSeconds(pids), release: () => {} }
  );
}
