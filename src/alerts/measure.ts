/**
 * What an alert rule looks at in a report: the one number compared with the rule's limit.
 */
import type { AlertRule } from '../config/types.js';
import type { Report } from '../probe/report.js';

/** One measurement for one rule, with a line of context for the mail (which disk, which load). */
export interface Measurement {
  /** null when the report does not have the figure (host unreachable, no disks, no load average). */
  value: number | null;
  /** Human context, e.g. `/var (ext4 on /dev/sda2)`; untrusted text, sanitised when rendered. */
  detail?: string;
}

/**
 * The limit a rule is compared against. `unreachable` ignores the configured limit: its value is
 * 1 when the host failed and 0 otherwise, so it fires whenever the host could not be collected.
 */
export function effectiveLimit(rule: Pick<AlertRule, 'type' | 'limit'>): number {
  return rule.type === 'unreachable' ? 0 : rule.limit;
}

/**
 * The value `rule` compares with its limit, taken from `report` (null when the host failed):
 * memory/cpu/swap → percent used; disk → the highest used_percent over all disks, or that of the
 * rule's `mount` (null when the host does not report it);
 * load → 1-minute load average divided by the number of cores; unreachable → 1 if the host
 * failed, else 0. Returns null when the figure is not available.
 */
export function measure(rule: Pick<AlertRule, 'type' | 'mount'>, report: Report | null): number | null {
  return observe(rule, report).value;
}

/** Like `measure`, plus a line of context for the mail (the fullest disk's mount). */
export function observe(rule: Pick<AlertRule, 'type' | 'mount'>, report: Report | null): Measurement {
  if (rule.type === 'unreachable') return { value: report === null ? 1 : 0 };
  if (report === null) return { value: null };
  switch (rule.type) {
    case 'memory':
      return { value: report.memory.percent };
    case 'cpu':
      return { value: report.cpu.percent };
    case 'swap':
      // A host without swap reports total 0; 0 % is the honest figure, not "unknown".
      return { value: report.swap.percent };
    case 'disk':
      return rule.mount === undefined ? fullestDisk(report) : oneMount(report, rule.mount);
    case 'load':
      return loadPerCore(report);
  }
}

function fullestDisk(report: Report): Measurement {
  let fullest: Report['disks'][number] | undefined;
  for (const disk of report.disks) {
    if (fullest === undefined || disk.used_percent > fullest.used_percent) fullest = disk;
  }
  if (fullest === undefined) return { value: null };
  const where = fullest.device ? `${fullest.fs} on ${fullest.device}` : fullest.fs;
  return { value: fullest.used_percent, detail: `fullest disk: ${fullest.mount} (${where})` };
}

/** The disk mounted at `mount`; unknown (null) when the host does not report that mount this run. */
function oneMount(report: Report, mount: string): Measurement {
  const disk = report.disks.find((d) => d.mount === mount);
  if (disk === undefined) return { value: null, detail: `mount ${mount} not reported` };
  const where = disk.device ? `${disk.fs} on ${disk.device}` : disk.fs;
  return { value: disk.used_percent, detail: `disk: ${disk.mount} (${where})` };
}

function loadPerCore(report: Report): Measurement {
  const { load1, cores } = report.cpu;
  if (load1 === null) return { value: null };
  return { value: load1 / cores, detail: `load average ${load1} over ${cores} cores` };
}
