/**
 * What a correct probe report from a userland on this machine holds: the machine-wide values
 * of this machine's /proc (shared by every chroot and sshd host here), and the awkward data a
 * test placed (awkward-data.ts). Each check returns the list of what is wrong, so a test shows
 * every defect of a cell at once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, hostname, release } from 'node:os';
import type { Report } from '../../src/probe/report.js';
import { DISK_IMAGE_BYTES, mismatch, type AwkwardData } from './awkward-data.js';
import { meminfoBytes } from './this-machine.js';

/** Processes on this machine now (the probe counts /proc's numeric entries too). */
export function processCount(): number {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
}

/**
 * Differences between the report's machine-wide values and this machine's /proc.
 * `pidsBefore`: processCount() taken before the run; the report's count must lie between it and
 * the count now, with a margin (other tests start and stop processes meanwhile).
 */
export function procMismatches(r: Report, pidsBefore: number): string[] {
  const wrong: string[] = [];
  const want = (what: string, ok: boolean, got: unknown) => {
    if (!ok) wrong.push(`${what}: ${JSON.stringify(got)}`);
  };
  want('memory.total_bytes = MemTotal', r.memory.total_bytes === meminfoBytes('MemTotal'), r.memory.total_bytes);
  want(
    'memory.used = total - available',
    r.memory.used_bytes === r.memory.total_bytes - r.memory.available_bytes,
    r.memory,
  );
  want(
    'memory.available ≈ MemAvailable',
    Math.abs(r.memory.available_bytes - meminfoBytes('MemAvailable')) < 0.05 * meminfoBytes('MemTotal'),
    r.memory.available_bytes,
  );
  want('swap.total_bytes = SwapTotal', r.swap.total_bytes === meminfoBytes('SwapTotal'), r.swap.total_bytes);
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  want('uptime ≈ /proc/uptime', Math.abs(r.uptime_seconds - uptime) < 60, r.uptime_seconds);
  const btime = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  want('boot_time = btime', Date.parse(r.boot_time) / 1000 === btime, r.boot_time);
  want('cpu.cores', r.cpu.cores === cpus().length, r.cpu.cores);
  want('cpu.percent in 0..100', r.cpu.percent >= 0 && r.cpu.percent <= 100, r.cpu.percent);
  want('load1 = /proc/loadavg', r.cpu.load1 !== null && r.cpu.load1 >= 0, r.cpu.load1);
  want('hostname', r.host.hostname === hostname(), r.host.hostname);
  want('kernel', r.host.kernel === release(), r.host.kernel);
  want('os', r.host.os === 'linux', r.host.os);
  const nics = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .filter((l) => l.includes(':'))
    .map((l) => l.split(':')[0]!.trim());
  want(
    'nics = /proc/net/dev',
    JSON.stringify(r.nics.map((n) => n.name)) === JSON.stringify(nics),
    r.nics.map((n) => n.name),
  );
  want('process_count ≈ /proc', countWithin(r.process_count, pidsBefore), r.process_count);
  return wrong;
}

/**
 * Whether a reported process count lies between `pidsBefore` and the count now, give or take
 * a quarter (at least 60, plus `extra`): tests running beside this one start and stop processes
 * meanwhile, yet a count from the wrong place (0, a chroot's empty /proc) is still caught.
 */
export function countWithin(count: number, pidsBefore: number, extra = 0): boolean {
  const now = processCount();
  const margin = Math.max(60, Math.max(pidsBefore, now) / 4) + extra;
  return count >= Math.min(pidsBefore, now) - margin && count <= Math.max(pidsBefore, now) + margin;
}

/** The parts of a report awkwardMismatches reads (a report, or one rebuilt from the database). */
export type AwkwardView = {
  host: Pick<Report['host'], 'os_name'>;
  users: Report['users'];
  events: Pick<Report['events'], 'readable' | 'note' | 'items'>;
  disks: Array<Pick<Report['disks'][number], 'mount' | 'fs' | 'size_bytes' | 'device'>>;
  /** undefined: not known (the database keeps no warnings). */
  warnings?: string[];
};

/** Character caps the store applies (STORAGE_LIMITS) when values are read back from the database. */
export interface StorageCaps {
  userName?: number;
  userFrom?: number;
  eventMessage?: number;
  diskMount?: number;
}

/**
 * Differences between a report and the awkward data placed on its host. A mount point holding
 * a newline may be left out only with a warning (df cannot print it on one line); where the
 * warnings are unknown (`warnings` undefined), its absence is not counted.
 */
export function awkwardMismatches(r: AwkwardView, data: AwkwardData, caps: StorageCaps = {}): string[] {
  const wrong: string[] = [];
  const note = (what: string, why: string | undefined) => {
    if (why) wrong.push(`${what}: ${why}`);
  };
  note('host.os_name', mismatch(r.host.os_name, data.osName));
  for (const u of data.users) {
    const got = r.users.find((x) => x.tty === u.tty);
    if (!got) {
      wrong.push(`user on ${u.tty} missing (users: ${JSON.stringify(r.users.map((x) => x.tty))})`);
      continue;
    }
    note(`user ${u.tty} name`, mismatch(got.name, u.name, caps.userName));
    note(`user ${u.tty} from`, mismatch(got.from, u.from, caps.userFrom));
    const at = Date.parse(got.login_at) / 1000;
    if (at !== u.loginEpoch)
      wrong.push(
        `user ${u.tty} login_at ${JSON.stringify(got.login_at)} is not ${new Date(u.loginEpoch * 1000).toISOString()}`,
      );
  }
  if (!r.events.readable) wrong.push(`events unreadable: ${r.events.note}`);
  for (const e of data.events) {
    const got = r.events.items.find((x) => x.record_id === e.recordId);
    if (!got) {
      wrong.push(`event ${e.recordId} missing (got ${JSON.stringify(r.events.items.map((x) => x.record_id))})`);
      continue;
    }
    if (got.event_id !== e.eventId) wrong.push(`event ${e.recordId} event_id ${got.event_id} is not ${e.eventId}`);
    if (Date.parse(got.logged_at ?? '') !== Date.parse(e.loggedAt))
      wrong.push(`event ${e.recordId} logged_at ${got.logged_at} is not ${e.loggedAt}`);
    note(`event ${e.recordId} message`, mismatch(got.message, e.message, caps.eventMessage));
  }
  if (r.events.items.length !== data.events.length)
    wrong.push(`${r.events.items.length} events, not ${data.events.length}`);
  for (const m of data.mounts) {
    const got = r.disks.find((d) => mismatch(d.mount, m.mount, caps.diskMount) === undefined);
    if (!got) {
      // A name df cannot print on one line may be left out, but never silently.
      const warned = m.containsNewline && (r.warnings === undefined || r.warnings.some((w) => /mount/i.test(w)));
      if (!warned)
        wrong.push(
          `disk ${JSON.stringify(m.mount.text.slice(0, 40))} missing (disks: ${JSON.stringify(r.disks.map((d) => d.mount.slice(0, 40)))})`,
        );
      continue;
    }
    if (got.fs !== 'ext2') wrong.push(`disk ${JSON.stringify(got.mount.slice(0, 40))} fs ${got.fs} is not ext2`);
    if (!(got.size_bytes > 0 && got.size_bytes <= DISK_IMAGE_BYTES))
      wrong.push(`disk ${JSON.stringify(got.mount.slice(0, 40))} size ${got.size_bytes}`);
    if (!/^\/dev\/loop\d+$/.test(got.device))
      wrong.push(`disk ${JSON.stringify(got.mount.slice(0, 40))} device ${got.device}`);
  }
  return wrong;
}
