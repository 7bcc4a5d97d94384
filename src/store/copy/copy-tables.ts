/**
 * The tables `fleetstat db copy` moves, in an order where every row's foreign keys point at
 * rows already copied. A test compares this list with the tables the migrations create.
 */
import type { Database } from '../schema.js';

/** How a table's rows are ordered and resumed: by the auto-increment `id`, or copied whole. */
export type CopyKey = 'id' | 'whole';

/** One table to copy. */
export interface CopyTable {
  name: keyof Database;
  key: CopyKey;
}

/** Every table of docs/schema.md, parents before children. */
export const COPY_TABLES: readonly CopyTable[] = [
  { name: 'hosts', key: 'id' },
  { name: 'rounds', key: 'id' },
  { name: 'samples', key: 'id' },
  { name: 'disk_usage', key: 'id' },
  { name: 'net_io', key: 'id' },
  { name: 'logged_in_users', key: 'id' },
  { name: 'security_events', key: 'id' },
  { name: 'host_errors', key: 'id' },
  { name: 'alerts', key: 'id' },
  { name: 'outbox', key: 'id' },
  // Grouped alert changes (migration 0003), pointing at hosts and, once mailed, at outbox rows.
  { name: 'notifications', key: 'id' },
  { name: 'silences', key: 'id' },
  // A handful of rows keyed by "ip:port"; copied in one transaction.
  { name: 'host_leases', key: 'whole' },
];
