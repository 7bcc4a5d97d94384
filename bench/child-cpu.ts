/**
 * CPU time of processes' waited-for children, from /proc: what a listener's finished sessions
 * cost. A leaf module, so measure.ts and target-cpu.ts both use it without importing each other.
 */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** Sum of cutime + cstime (fields 16, 17 of /proc/PID/stat) of the given processes, seconds. */
export function waitedChildrenCpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[13]) + Number(fields[14]);
    } catch {
      // A listener that is gone contributes nothing.
    }
  }
  return ticks / CLOCK_TICKS;
}
