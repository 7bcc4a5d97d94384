/** Read queries for one host's page: its latest sample's disks and users, events and alerts. */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { toIso } from './db-values.js';

export interface DiskView {
  mount: string;
  fs: string;
  device: string;
  size_bytes: number;
  used_bytes: number;
  avail_bytes: number;
  used_percent: number;
}
export interface UserView {
  name: string;
  tty: string;
  from_host: string;
  login_at: string | null;
}
export interface EventView {
  id: number;
  host_id: number;
  record_id: number;
  event_id: number;
  level: string;
  provider: string;
  logged_at: string | null;
  message: string;
}
export interface AlertView {
  host_id: number;
  host_name: string;
  ip: string;
  rule: string;
  state: string;
  value: number | null;
  limit_value: number;
  since: string | null;
  last_notified_at: string | null;
  /** info | warning | critical */
  severity: string;
  /** The mount a disk rule watches; null otherwise. */
  mount: string | null;
  /** Its firing was not mailed: held by a silence, a maintenance window or inhibition. */
  muted: boolean;
}

/** The file systems of one sample, by mount point. */
export async function sampleDisks(db: Kysely<Database>, sampleId: number): Promise<DiskView[]> {
  const rows = await db
    .selectFrom('disk_usage')
    .select(['mount', 'fs', 'device', 'size_bytes', 'used_bytes', 'avail_bytes', 'used_percent'])
    .where('sample_id', '=', sampleId)
    .orderBy('mount')
    .execute();
  return rows.map((r) => ({
    ...r,
    size_bytes: Number(r.size_bytes),
    used_bytes: Number(r.used_bytes),
    avail_bytes: Number(r.avail_bytes),
    used_percent: Number(r.used_percent),
  }));
}

/** The users logged in when one sample was taken. */
export async function sampleUsers(db: Kysely<Database>, sampleId: number): Promise<UserView[]> {
  const rows = await db
    .selectFrom('logged_in_users')
    .select(['name', 'tty', 'from_host', 'login_at'])
    .where('sample_id', '=', sampleId)
    .orderBy('name')
    .orderBy('tty')
    .execute();
  return rows.map((r) => ({ name: r.name, tty: r.tty, from_host: r.from_host, login_at: toIso(r.login_at) }));
}

export interface EventFilter {
  hostId?: number;
  since?: Date;
  limit: number;
}

/** Security events, newest first, optionally for one host and since an instant. */
export async function listEvents(db: Kysely<Database>, filter: EventFilter): Promise<EventView[]> {
  let query = db
    .selectFrom('security_events')
    .select(['id', 'host_id', 'record_id', 'event_id', 'level', 'provider', 'logged_at', 'message'])
    .orderBy('id', 'desc')
    .limit(filter.limit);
  if (filter.hostId !== undefined) query = query.where('host_id', '=', filter.hostId);
  if (filter.since !== undefined) query = query.where('logged_at', '>=', filter.since);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    host_id: Number(r.host_id),
    record_id: Number(r.record_id),
    event_id: Number(r.event_id),
    level: r.level,
    provider: r.provider,
    logged_at: toIso(r.logged_at),
    message: r.message,
  }));
}

/** Alert states, firing first, then pending, then the most recently changed; optionally for one host or one state. */
export async function listAlerts(
  db: Kysely<Database>,
  options: { hostId?: number; state?: string; limit: number },
): Promise<AlertView[]> {
  let query = db
    .selectFrom('alerts')
    .innerJoin('hosts', 'hosts.id', 'alerts.host_id')
    .select([
      'alerts.host_id',
      'hosts.name as host_name',
      'hosts.ip',
      'alerts.rule',
      'alerts.state',
      'alerts.value',
      'alerts.limit_value',
      'alerts.since',
      'alerts.last_notified_at',
      'alerts.severity',
      'alerts.mount',
      'alerts.muted',
    ])
    .orderBy((eb) =>
      eb.case().when('alerts.state', '=', 'firing').then(0).when('alerts.state', '=', 'pending').then(1).else(2).end(),
    )
    .orderBy('alerts.since', 'desc')
    .orderBy('alerts.id', 'desc')
    .limit(options.limit);
  if (options.hostId !== undefined) query = query.where('alerts.host_id', '=', options.hostId);
  if (options.state !== undefined) query = query.where('alerts.state', '=', options.state);
  const rows = await query.execute();
  return rows.map((r) => ({
    host_id: Number(r.host_id),
    host_name: r.host_name,
    ip: r.ip,
    rule: r.rule,
    state: r.state,
    value: r.value === null ? null : Number(r.value),
    limit_value: Number(r.limit_value),
    since: toIso(r.since),
    last_notified_at: toIso(r.last_notified_at),
    severity: r.severity,
    mount: r.mount,
    muted: Number(r.muted) === 1,
  }));
}
