/**
 * Valid probe reports (schema v1, src/probe/report.ts) for tests. Every object made here is
 * checked against the real schema, so a test cannot pass on a report the server would reject.
 */
import {
  reportSchema,
  type DiskReport,
  type EventReport,
  type NicReport,
  type Report,
  type UserReport,
} from '../../src/probe/report.js';

/** A disk; sizes above 2^32 by default so 32-bit truncation shows. */
export function makeDisk(overrides: Partial<DiskReport> = {}): DiskReport {
  return {
    mount: '/',
    fs: 'ext4',
    device: '/dev/sda1',
    size_bytes: 500_000_000_000,
    used_bytes: 123_456_789_012,
    avail_bytes: 376_543_210_988,
    used_percent: 24.69,
    ...overrides,
  };
}

/** A network interface with counters above 2^32. */
export function makeNic(overrides: Partial<NicReport> = {}): NicReport {
  return {
    name: 'eth0',
    rx_bytes: 9_876_543_210_123,
    tx_bytes: 1_234_567_890_123,
    rx_packets: 5_000_000_001,
    tx_packets: 4_000_000_002,
    rx_errors: 3,
    tx_errors: 0,
    ...overrides,
  };
}

/** A logged-in user. */
export function makeUser(overrides: Partial<UserReport> = {}): UserReport {
  return { name: 'alice', tty: 'pts/0', from: '10.0.0.5', login_at: '2024-05-01T07:30:00Z', ...overrides };
}

/** A Windows Security log event with the given RecordId. */
export function makeEvent(recordId: number, overrides: Partial<EventReport> = {}): EventReport {
  return {
    record_id: recordId,
    event_id: 4625,
    level: 'Information',
    provider: 'Microsoft-Windows-Security-Auditing',
    logged_at: '2024-05-01T08:00:00.123Z',
    message: `An account failed to log on (record ${recordId}).`,
    raw: `<Event><System><EventRecordID>${recordId}</EventRecordID></System></Event>`,
    ...overrides,
  };
}

/** A complete valid report; `overrides` replaces whole top-level sections. */
export function makeReport(overrides: Partial<Report> = {}): Report {
  const report: Report = {
    schema: 1,
    probe: 'sh',
    collected_at: '2024-05-01T08:00:00Z',
    host: {
      hostname: 'web-1',
      os: 'linux',
      os_name: 'Debian GNU/Linux 12 (bookworm)',
      kernel: '6.1.0-18-amd64',
      arch: 'x86_64',
    },
    cpu: { percent: 37.5, cores: 4, interval_ms: 1000, load1: 0.52, load5: 0.61, load15: 0.7 },
    memory: { total_bytes: 17_179_869_184, used_bytes: 8_589_934_592, available_bytes: 8_589_934_592, percent: 50 },
    swap: { total_bytes: 4_294_967_296, used_bytes: 1_073_741_824, percent: 25 },
    uptime_seconds: 5_000_000_000,
    boot_time: '2024-04-01T00:00:00Z',
    process_count: 213,
    disks: [
      makeDisk(),
      makeDisk({
        mount: '/var',
        device: '/dev/sdb1',
        size_bytes: 8_000_000_000_000,
        used_bytes: 1,
        avail_bytes: 7_999_999_999_999,
        used_percent: 0.01,
      }),
    ],
    nics: [
      makeNic(),
      makeNic({ name: 'lo', rx_bytes: 100, tx_bytes: 100, rx_packets: 1, tx_packets: 1, rx_errors: 0 }),
    ],
    users: [makeUser(), makeUser({ name: 'bob', tty: 'pts/1', login_at: 'yesterday' })],
    events: { readable: true, truncated: false, note: '', items: [makeEvent(101), makeEvent(102)] },
    warnings: [],
    ...overrides,
  };
  return reportSchema.parse(report);
}
