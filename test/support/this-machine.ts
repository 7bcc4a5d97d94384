/** Facts about this machine that the loopback hosts report too: the reference for stored values. */
import { readFileSync } from 'node:fs';

/** A /proc/meminfo field in bytes (the file gives kB). */
export function meminfoBytes(field: string): number {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}
