/**
 * The probe's report, schema version 1: the contract between probe.sh / probe.ps1 and the server.
 * Everything in it came from a monitored host, so it is validated with strict bounds before use,
 * and every text is made printable (src/text/untrusted-text.ts) as it is parsed: what leaves
 * here for the database, mails, logs and pages holds no control or bidi characters.
 */
import { z } from 'zod';
import { fieldText, textBlock } from '../text/untrusted-text.js';

const MAX_TEXT = 256;
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const percent = z.number().min(0).max(100);
const text = (max = MAX_TEXT) =>
  z
    .string()
    .max(max)
    .transform((value) => fieldText(value, max));
// Event messages keep their line breaks and tabs.
const multiline = (max: number) =>
  z
    .string()
    .max(max)
    .transform((value) => textBlock(value, { maxLineChars: max, maxChars: max }));

export const diskSchema = z
  .object({
    mount: text(512),
    fs: text(64),
    device: text(512),
    size_bytes: count,
    used_bytes: count,
    avail_bytes: count,
    used_percent: percent,
  })
  .strict();

export const nicSchema = z
  .object({
    name: text(64),
    rx_bytes: count,
    tx_bytes: count,
    rx_packets: count,
    tx_packets: count,
    rx_errors: count,
    tx_errors: count,
  })
  .strict();

export const userSchema = z
  .object({
    name: text(64),
    tty: text(64),
    from: text(256),
    login_at: text(40), // ISO 8601 as the host reports it; parsed by the store
  })
  .strict();

/** A security-relevant event: Windows Security log records, or auth failures on Unix. */
export const eventSchema = z
  .object({
    record_id: count,
    event_id: z.number().int().min(0).max(0xffffffff),
    level: text(32),
    provider: text(256),
    logged_at: text(40),
    message: multiline(8192),
    raw: multiline(32768).optional(),
  })
  .strict();

export const reportSchema = z
  .object({
    schema: z.literal(1),
    probe: z.enum(['sh', 'ps1']),
    collected_at: text(40),
    host: z
      .object({
        hostname: text(255),
        os: text(64), // "linux", "windows", "freebsd", "darwin", …
        os_name: text(256), // "Debian GNU/Linux 12 (bookworm)", "Microsoft Windows Server 2022 …"
        kernel: text(256),
        arch: text(32),
      })
      .strict(),
    cpu: z
      .object({
        percent: percent,
        cores: z.number().int().min(1).max(65536),
        interval_ms: z.number().int().min(0).max(600_000),
        /**
         * Cumulative CPU time since boot in the probe's own unit (USER_HZ ticks from /proc/stat or
         * kern.cp_time, milliseconds on Windows): only differences between two rounds count
         * (src/collect/cpu-rate.ts). Plain JSON numbers up to 2^53: 2^53 ticks of 1/100 s is 2.8
         * million core-years, and Windows sends milliseconds, so no real host comes near; a larger
         * value is rejected like any other out-of-range field. null when unreadable; absent from
         * probes older than the counters.
         */
        counters: z
          .object({ total: count, idle: count })
          .strict()
          .refine((c) => c.idle <= c.total, { message: 'cpu.counters.idle exceeds cpu.counters.total' })
          .nullable()
          .optional(),
        load1: z.number().min(0).max(1e6).nullable(),
        load5: z.number().min(0).max(1e6).nullable(),
        load15: z.number().min(0).max(1e6).nullable(),
      })
      .strict(),
    memory: z.object({ total_bytes: count, used_bytes: count, available_bytes: count, percent }).strict(),
    swap: z.object({ total_bytes: count, used_bytes: count, percent }).strict(),
    uptime_seconds: count,
    boot_time: text(40),
    process_count: count,
    disks: z.array(diskSchema).max(512),
    nics: z.array(nicSchema).max(512),
    users: z.array(userSchema).max(1024),
    events: z
      .object({
        readable: z.boolean(),
        truncated: z.boolean(),
        note: text(512),
        items: z.array(eventSchema).max(5000),
      })
      .strict(),
    warnings: z.array(text(512)).max(64),
  })
  .strict()
  .refine((r) => r.memory.used_bytes <= r.memory.total_bytes, {
    message: 'memory.used_bytes exceeds memory.total_bytes',
  })
  .refine((r) => r.swap.used_bytes <= r.swap.total_bytes, { message: 'swap.used_bytes exceeds swap.total_bytes' });

export type Report = z.infer<typeof reportSchema>;
export type DiskReport = z.infer<typeof diskSchema>;
export type NicReport = z.infer<typeof nicSchema>;
export type UserReport = z.infer<typeof userSchema>;
export type EventReport = z.infer<typeof eventSchema>;
