/** Rows as read back, with timestamps as Dates whatever the driver returned. */
import type { Selectable } from 'kysely';
import type { DiskUsageTable, HostsTable, LoggedInUsersTable, NetIoTable, SamplesTable } from './schema.js';
import { toDate, toDateOrNull } from './timestamps.js';

export type HostRow = Omit<Selectable<HostsTable>, 'first_seen' | 'last_seen'> & {
  first_seen: Date;
  last_seen: Date | null;
};
export type SampleRow = Omit<Selectable<SamplesTable>, 'collected_at' | 'boot_time'> & {
  collected_at: Date;
  boot_time: Date | null;
};
export type DiskRow = Selectable<DiskUsageTable>;
export type NicRow = Selectable<NetIoTable>;
export type UserRow = Omit<Selectable<LoggedInUsersTable>, 'login_at'> & { login_at: Date | null };

/** A hosts row with Date timestamps. */
export function toHostRow(row: Selectable<HostsTable>): HostRow {
  return { ...row, first_seen: toDate(row.first_seen), last_seen: toDateOrNull(row.last_seen) };
}

/** A samples row with Date timestamps. */
export function toSampleRow(row: Selectable<SamplesTable>): SampleRow {
  return { ...row, collected_at: toDate(row.collected_at), boot_time: toDateOrNull(row.boot_time) };
}

/** A logged_in_users row with a Date login time. */
export function toUserRow(row: Selectable<LoggedInUsersTable>): UserRow {
  return { ...row, login_at: toDateOrNull(row.login_at) };
}
