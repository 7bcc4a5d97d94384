/**
 * Kysely table types: the database is a public contract (docs/schema.md), read by other
 * applications. Change only through a new migration.
 *
 * Conventions, the same on SQLite, PostgreSQL and MySQL/MariaDB:
 * - timestamps are written as JS Date objects and are UTC (timestamptz on PostgreSQL, DATETIME(3)
 *   stored in UTC on MySQL, ISO-8601 text "YYYY-MM-DDTHH:MM:SS.sssZ" on SQLite); read them
 *   back with `new Date(value)`, which accepts what each driver returns;
 * - byte and packet counters are 64-bit integers, read back as JS numbers;
 * - ids are auto-increment integers.
 */
import type { ColumnType, Generated } from 'kysely';
import type { Stage } from '../errors/stage-error.js';

/** A timestamp column: Date on write; Date or ISO string on read depending on the driver. */
export type Timestamp = ColumnType<Date | string, Date, Date>;
export type NullableTimestamp = ColumnType<Date | string | null, Date | null, Date | null>;

export interface HostsTable {
  id: Generated<number>;
  ip: string;
  port: number;
  name: string;
  os: string | null;
  os_name: string | null;
  kernel: string | null;
  arch: string | null;
  hostname: string | null;
  first_seen: Timestamp;
  last_seen: NullableTimestamp;
}

export interface SamplesTable {
  id: Generated<number>;
  host_id: number;
  round_id: number | null;
  collected_at: Timestamp;
  cpu_percent: number;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  mem_total: number;
  mem_used: number;
  mem_available: number;
  mem_percent: number;
  swap_total: number;
  swap_used: number;
  swap_percent: number;
  uptime_seconds: number;
  boot_time: NullableTimestamp;
  process_count: number;
  users_count: number;
  /** How cpu_percent was obtained: counters | sample | since-boot (migration 0006; NULL before). */
  cpu_method: string | null;
  /** The span cpu_percent covers, in ms. */
  cpu_interval_ms: number | null;
  cpu_cores: number | null;
  /** The host's cumulative CPU time (probe units); the next round's figure is the difference. */
  cpu_counter_total: number | null;
  cpu_counter_idle: number | null;
}

export interface DiskUsageTable {
  id: Generated<number>;
  sample_id: number;
  mount: string;
  fs: string;
  device: string;
  size_bytes: number;
  used_bytes: number;
  avail_bytes: number;
  used_percent: number;
}

export interface NetIoTable {
  id: Generated<number>;
  sample_id: number;
  name: string;
  rx_bytes: number;
  tx_bytes: number;
  rx_packets: number;
  tx_packets: number;
  rx_errors: number;
  tx_errors: number;
}

export interface LoggedInUsersTable {
  id: Generated<number>;
  sample_id: number;
  name: string;
  tty: string;
  from_host: string;
  login_at: NullableTimestamp;
}

export interface SecurityEventsTable {
  id: Generated<number>;
  host_id: number;
  record_id: number;
  event_id: number;
  level: string;
  provider: string;
  logged_at: NullableTimestamp;
  message: string;
  raw: string | null;
  round_id: number | null;
}

export interface RoundsTable {
  id: Generated<number>;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  hosts_ok: number;
  hosts_failed: number;
}

export interface HostErrorsTable {
  id: Generated<number>;
  round_id: number;
  host_id: number;
  occurred_at: Timestamp;
  /** One of STAGES (src/errors/stage-error.ts). */
  stage: Stage;
  message: string;
}

export interface AlertsTable {
  id: Generated<number>;
  host_id: number;
  /** rule type: memory | cpu | disk | swap | load | unreachable */
  rule: string;
  /** ok | pending | firing */
  state: string;
  value: number | null;
  /** `limit` is reserved in MySQL; the column is named limit_value. */
  limit_value: number;
  since: Timestamp;
  last_notified_at: NullableTimestamp;
  /** info | warning | critical (migration 0003; default warning). */
  severity: ColumnType<string, string | undefined, string>;
  /** Disk rules watching one mount: that mount; NULL otherwise (migration 0003). */
  mount: ColumnType<string | null, string | null | undefined, string | null>;
  /** 1 while the alert's firing went unmailed (silence, maintenance, inhibition); migration 0004. */
  muted: ColumnType<number, number | undefined, number>;
}

/** A silence: no alert mail for matching hosts (and rule) between starts_at and ends_at (migration 0004). */
export interface SilencesTable {
  id: Generated<number>;
  /** Host name or address, `*` and `?` as wildcards. */
  host_pattern: string;
  /** A rule type (`memory`) or rule key (`memory:critical`); NULL silences every rule. */
  rule: string | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
  author: string;
  comment: string;
  created_at: Timestamp;
}

/** One alert change for one recipient, waiting to be folded into a grouped mail (migration 0003). */
export interface NotificationsTable {
  id: Generated<number>;
  host_id: number;
  recipient: string;
  /** The rule key, as in alerts.rule. */
  rule: string;
  severity: string;
  /** firing | reminder | resolved | events */
  transition: string;
  /** One line for the summary at the top of the mail. */
  summary: string;
  /** The full text of this change, a section of the mail. */
  details: string;
  /** The alert episode (host, rule, start of firing) it belongs to, for threading; see mail-threading.ts. */
  thread_id: string;
  created_at: Timestamp;
  /** The grouped mail it went into; NULL while waiting. */
  outbox_id: number | null;
}

export interface OutboxTable {
  id: Generated<number>;
  /** `to` is a reserved word in SQL; the column is named recipient. */
  recipient: string;
  subject: string;
  body: string;
  created_at: Timestamp;
  attempts: number;
  next_attempt_at: Timestamp;
  sent_at: NullableTimestamp;
  last_error: string | null;
  /** Message-ID header value without brackets, fixed when queued (migration 0003). */
  message_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Message-IDs this mail answers, space-separated (a resolution threads under its firing mail). */
  in_reply_to: ColumnType<string | null, string | null | undefined, string | null>;
  /** When delivery was given up for good; NULL while delivered or still being tried. */
  failed_at: ColumnType<Date | string | null, Date | null | undefined, Date | null>;
  /** Every delivery attempt, connection failures included (migration 0003; default 0). */
  tries: ColumnType<number, number | undefined, number>;
  /** `mail` (default) or `webhook` (recipient is the URL, body the JSON payload); migration 0005. */
  channel: ColumnType<string, string | undefined, string>;
}

/** One row lease per configured host, shared by the collectors of one database (migration 0002; src/store/leases.ts). */
export interface HostLeasesTable {
  /** "ip:port" of the host. */
  host_key: string;
  /** Collector holding the lease (hostname:pid:random), NULL when free. */
  owner: string | null;
  lease_until: NullableTimestamp;
  last_started_at: NullableTimestamp;
  last_finished_at: NullableTimestamp;
}

export interface Database {
  hosts: HostsTable;
  samples: SamplesTable;
  disk_usage: DiskUsageTable;
  net_io: NetIoTable;
  logged_in_users: LoggedInUsersTable;
  security_events: SecurityEventsTable;
  rounds: RoundsTable;
  host_errors: HostErrorsTable;
  alerts: AlertsTable;
  outbox: OutboxTable;
  notifications: NotificationsTable;
  silences: SilencesTable;
  host_leases: HostLeasesTable;
}

/**
 * Every table of Database by name, at run time: test/schema-docs.test.ts checks it against the
 * tables the migrations create, so a table cannot exist untyped.
 */
export const TABLE_NAMES = [
  'hosts',
  'samples',
  'disk_usage',
  'net_io',
  'logged_in_users',
  'security_events',
  'rounds',
  'host_errors',
  'alerts',
  'outbox',
  'notifications',
  'silences',
  'host_leases',
] as const satisfies readonly (keyof Database)[];

// Fails to compile when Database gains a table TABLE_NAMES lacks.
type Unlisted = Exclude<keyof Database, (typeof TABLE_NAMES)[number]>;
const everyTableListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyTableListed;
