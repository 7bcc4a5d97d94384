import { describe, expect, it } from 'vitest';
import { effectiveLimit, measure, observe } from '../src/alerts/measure.js';
import { reportSchema, type Report } from '../src/probe/report.js';

/** A schema-valid report; fields overridden per test. */
function report(overrides: Partial<Report> = {}): Report {
  const base: Report = {
    schema: 1,
    probe: 'sh',
    collected_at: '2024-05-01T12:00:00Z',
    host: { hostname: 'web1', os: 'linux', os_name: 'Debian GNU/Linux 12', kernel: '6.1.0', arch: 'x86_64' },
    cpu: { percent: 37.5, cores: 4, interval_ms: 1000, load1: 6, load5: 2, load15: 1 },
    memory: { total_bytes: 8e9, used_bytes: 6e9, available_bytes: 2e9, percent: 75 },
    swap: { total_bytes: 2e9, used_bytes: 5e8, percent: 25 },
    uptime_seconds: 3600,
    boot_time: '2024-05-01T11:00:00Z',
    process_count: 120,
    disks: [
      {
        mount: '/',
        fs: 'ext4',
        device: '/dev/sda1',
        size_bytes: 100,
        used_bytes: 40,
        avail_bytes: 60,
        used_percent: 40,
      },
      {
        mount: '/var',
        fs: 'xfs',
        device: '/dev/sda2',
        size_bytes: 100,
        used_bytes: 93,
        avail_bytes: 7,
        used_percent: 93,
      },
      {
        mount: '/home',
        fs: 'ext4',
        device: '/dev/sda3',
        size_bytes: 100,
        used_bytes: 9,
        avail_bytes: 91,
        used_percent: 9,
      },
    ],
    nics: [],
    users: [],
    events: { readable: false, truncated: false, note: '', items: [] },
    warnings: [],
  };
  return reportSchema.parse({ ...base, ...overrides });
}

describe('measure', () => {
  it('takes percentages straight from the report', () => {
    const r = report();
    expect(measure({ type: 'memory' }, r)).toBe(75);
    expect(measure({ type: 'cpu' }, r)).toBe(37.5);
    expect(measure({ type: 'swap' }, r)).toBe(25);
  });

  it('disk is the fullest disk, and names its mount', () => {
    const seen = observe({ type: 'disk' }, report());
    expect(seen.value).toBe(93);
    expect(seen.detail).toContain('/var');
    expect(seen.detail).toContain('/dev/sda2');
    expect(measure({ type: 'disk' }, report({ disks: [] }))).toBeNull();
  });

  it('load is the 1-minute load per core, unknown without a load average', () => {
    expect(measure({ type: 'load' }, report())).toBe(1.5);
    const windows = report({
      cpu: { percent: 5, cores: 8, interval_ms: 1000, load1: null, load5: null, load15: null },
    });
    expect(measure({ type: 'load' }, windows)).toBeNull();
  });

  it('unreachable is 1 for a failed host, 0 otherwise, and ignores the configured limit', () => {
    expect(measure({ type: 'unreachable' }, null)).toBe(1);
    expect(measure({ type: 'unreachable' }, report())).toBe(0);
    expect(effectiveLimit({ type: 'unreachable', limit: 50 })).toBe(0);
    expect(effectiveLimit({ type: 'memory', limit: 50 })).toBe(50);
  });

  it('every other rule is unknown when the host failed', () => {
    for (const type of ['memory', 'cpu', 'swap', 'disk', 'load'] as const) expect(measure({ type }, null)).toBeNull();
  });
});
