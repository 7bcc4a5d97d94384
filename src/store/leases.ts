/**
 * Row leases on hosts (table `host_leases`, migration 0002): how several collectors sharing one
 * database split the hosts so each is collected once per interval. A claim is one transaction
 * that locks the due, unleased rows with FOR UPDATE SKIP LOCKED (PostgreSQL, MySQL 8,
 * MariaDB 10.6+): rows another collector is claiming at that instant are skipped, never waited
 * for, and never handed out twice. SQLite has no row locks; its BEGIN IMMEDIATE write lock
 * serialises claims instead.
 */
import type { Kysely } from 'kysely';
import type { Store } from './open-store.js';
import type { NullableTimestamp } from './schema.js';
import { toDateOrNull } from './timestamps.js';

/** One row of `host_leases` (docs/schema.md). */
export interface HostLeasesTable {
  /** "ip:port" of the host. */
  host_key: string;
  /** Collector holding the lease (hostname:pid:random), NULL when free. */
  owner: string | null;
  lease_until: NullableTimestamp;
  last_started_at: NullableTimestamp;
  last_finished_at: NullableTimestamp;
}

// A type alias, not an interface: withTables() wants a Record.
type LeaseTables = { host_leases: HostLeasesTable };

function leaseDb(store: Store): Kysely<LeaseTables> {
  return store.db.withTables<LeaseTables>() as unknown as Kysely<LeaseTables>;
}

/** Stay well under every driver's bound-parameter limit. */
const KEYS_PER_STATEMENT = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += KEYS_PER_STATEMENT) out.push(items.slice(i, i + KEYS_PER_STATEMENT));
  return out;
}

/** Adds a free, never-started lease row for each key that has none yet. */
export async function ensureLeaseRows(store: Store, keys: readonly string[]): Promise<void> {
  const db = leaseDb(store);
  for (const part of chunks(keys)) {
    const existing = new Set((await db.selectFrom('host_leases').select('host_key').where('host_key', 'in', part).execute()).map((r) => r.host_key));
    const missing = part.filter((key) => !existing.has(key));
    if (missing.length === 0) continue;
    const rows = missing.map((host_key) => ({ host_key, owner: null, lease_until: null, last_started_at: null, last_finished_at: null }));
    // Another collector may insert the same keys at the same moment: a duplicate is not an error.
    const insert = db.insertInto('host_leases').values(rows);
    await (store.dialect === 'mysql'
      ? insert.onDuplicateKeyUpdate((eb) => ({ host_key: eb.ref('host_leases.host_key') }))
      : insert.onConflict((oc) => oc.column('host_key').doNothing())
    ).execute();
  }
}

export interface LeaseRequest {
  keys: readonly string[];
  owner: string;
  now: Date;
  /** Take at most this many hosts, the longest-waiting first. */
  limit: number;
  /** Hosts started at or before this instant are due again. */
  dueBefore: Date;
  /** When the lease on the taken hosts ends (their worst-case round time, computed by the caller). */
  leaseUntil: (takenKeys: readonly string[]) => Date;
}

/**
 * Atomically takes up to `limit` of the hosts among `keys` that are due (never started, or last started at or
 * before `dueBefore`) and free (no owner, an expired lease, or already ours), skipping rows
 * locked by a concurrent claim. Sets owner, lease_until and last_started_at; returns the keys.
 */
export async function takeDueLeases(store: Store, request: LeaseRequest): Promise<string[]> {
  const { owner, now, dueBefore } = request;
  const transaction = leaseDb(store).transaction();
  // READ COMMITTED (PostgreSQL's default): InnoDB then keeps no locks on rows it read but did
  // not take, and no gap locks, so concurrent claims only ever skip rows actually taken.
  return await (store.dialect === 'sqlite' ? transaction : transaction.setIsolationLevel('read committed')).execute(async (trx) => {
    const taken: string[] = [];
    for (const part of chunks(request.keys)) {
      const room = request.limit - taken.length;
      if (room <= 0) break;
      let select = trx.selectFrom('host_leases')
        .select('host_key')
        .where('host_key', 'in', part)
        .where((eb) => eb.or([eb('last_started_at', 'is', null), eb('last_started_at', '<=', dueBefore)]))
        .where((eb) => eb.or([eb('owner', 'is', null), eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('owner', '=', owner)]))
        // Key order is index order: InnoDB can stop at the limit instead of sorting (and so
        // locking) every due row, which would leave nothing for a claim racing this one.
        .orderBy('host_key')
        .limit(room);
      if (store.dialect !== 'sqlite') select = select.forUpdate().skipLocked();
      taken.push(...(await select.execute()).map((r) => r.host_key));
    }
    if (taken.length === 0) return taken;
    const leaseUntil = request.leaseUntil(taken);
    for (const part of chunks(taken)) {
      await trx.updateTable('host_leases')
        .set({ owner, lease_until: leaseUntil, last_started_at: now })
        .where('host_key', 'in', part)
        .execute();
    }
    return taken;
  });
}

/**
 * Records that `owner` is done with these hosts for this interval and frees their leases.
 * A lease that expired and was taken by another collector meanwhile is left alone.
 */
export async function releaseLeases(store: Store, keys: readonly string[], owner: string, now: Date): Promise<void> {
  const db = leaseDb(store);
  for (const part of chunks(keys)) {
    await db.updateTable('host_leases')
      .set({ owner: null, lease_until: null, last_finished_at: now })
      .where('host_key', 'in', part)
      .where('owner', '=', owner)
      .execute();
  }
}

/** A lease row as read back, timestamps as Dates. */
export interface LeaseRow {
  hostKey: string;
  owner: string | null;
  leaseUntil: Date | null;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
}

/** Every lease row, by host key (tests, diagnostics). */
export async function readLeases(store: Store): Promise<LeaseRow[]> {
  const rows = await leaseDb(store).selectFrom('host_leases').selectAll().orderBy('host_key').execute();
  return rows.map((r) => ({
    hostKey: r.host_key,
    owner: r.owner,
    leaseUntil: toDateOrNull(r.lease_until),
    lastStartedAt: toDateOrNull(r.last_started_at),
    lastFinishedAt: toDateOrNull(r.last_finished_at),
  }));
}
