/**
 * Row leases on hosts (table `host_leases`, migration 0002): how several collectors sharing one
 * database split the hosts so each is collected once per interval. A claim is one transaction
 * that locks the due, unleased rows with FOR UPDATE SKIP LOCKED (PostgreSQL, MySQL 8,
 * MariaDB 10.6+): rows another collector is claiming at that instant are skipped, never waited
 * for, and never handed out twice. SQLite has no row locks; its BEGIN IMMEDIATE write lock
 * serialises claims instead.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { KEYS_PER_STATEMENT, keyChunks } from './batches.js';
import { adapterFor } from './dialect-adapter.js';
import type { Store } from './open-store.js';
import type { Database } from './schema.js';
import { toDateOrNull } from './timestamps.js';

/** Adds a free, never-started lease row for each key that has none yet. */
export async function ensureLeaseRows(store: Store, keys: readonly string[]): Promise<void> {
  const db = store.db;
  for (const part of keyChunks(keys)) {
    const existing = new Set(
      (await db.selectFrom('host_leases').select('host_key').where('host_key', 'in', part).execute()).map(
        (r) => r.host_key,
      ),
    );
    const missing = part.filter((key) => !existing.has(key));
    if (missing.length === 0) continue;
    const rows = missing.map((host_key) => ({
      host_key,
      owner: null,
      lease_until: null,
      last_started_at: null,
      last_finished_at: null,
    }));
    // Another collector may insert the same keys at the same moment: a duplicate is not an error.
    await adapterFor(store.dialect).ignoreDuplicates(db.insertInto('host_leases').values(rows), ['host_key']).execute();
  }
}

export interface LeaseRequest {
  keys: readonly string[];
  owner: string;
  now: Date;
  /** Take at most this many hosts, the most overdue first (overdueOrder). */
  limit: number;
  /** Hosts started at or before this instant are due again. */
  dueBefore: Date;
  /** When the lease on the taken hosts ends (their worst-case round time, computed by the caller). */
  leaseUntil: (takenKeys: readonly string[]) => Date;
}

type LeaseSelect<O> = SelectQueryBuilder<Database, 'host_leases', O>;

/** Due: never started, or last started at or before `dueBefore`. */
function whereDue<O>(select: LeaseSelect<O>, dueBefore: Date): LeaseSelect<O> {
  return select.where((eb) => eb.or([eb('last_started_at', 'is', null), eb('last_started_at', '<=', dueBefore)]));
}

/** Free: no owner, an expired lease, or already ours. */
function whereFree<O>(select: LeaseSelect<O>, owner: string, now: Date): LeaseSelect<O> {
  return select.where((eb) =>
    eb.or([
      eb('owner', 'is', null),
      eb('lease_until', 'is', null),
      eb('lease_until', '<', now),
      eb('owner', '=', owner),
    ]),
  );
}

/**
 * Most overdue first, the same on every dialect: never-started hosts (NULL sorts first in
 * SQLite and MySQL but last in PostgreSQL, hence the explicit CASE), then the oldest start.
 * The key only breaks ties among hosts started together; since a claim moves the hosts it
 * takes to the back, no fixed subset can win twice in a row while others wait.
 */
function overdueFirst<O>(select: LeaseSelect<O>): LeaseSelect<O> {
  return select
    .orderBy(sql`case when last_started_at is null then 0 else 1 end`)
    .orderBy('last_started_at')
    .orderBy('host_key');
}

/** The same order as overdueFirst, in JavaScript (merging the candidates of several key chunks). */
export function compareOverdue(a: LeaseCandidate, b: LeaseCandidate): number {
  if ((a.lastStartedAt === null) !== (b.lastStartedAt === null)) return a.lastStartedAt === null ? -1 : 1;
  const byStart = (a.lastStartedAt?.getTime() ?? 0) - (b.lastStartedAt?.getTime() ?? 0);
  if (byStart !== 0) return byStart;
  return a.hostKey < b.hostKey ? -1 : a.hostKey > b.hostKey ? 1 : 0;
}

/** A due, free host as the claim first sees it (without locking it). */
export interface LeaseCandidate {
  hostKey: string;
  lastStartedAt: Date | null;
}

/** At most this many rounds of "pick candidates, lock what is still free" per claim. */
const CLAIM_PASSES = 3;

/**
 * The `room` most overdue hosts among `keys` that are due and free, read without locks.
 * Exported for the ordering tests; takeDueLeases is the way to claim.
 */
export async function dueCandidates(
  db: Kysely<Database>,
  keys: readonly string[],
  room: number,
  request: Pick<LeaseRequest, 'owner' | 'now' | 'dueBefore'>,
): Promise<LeaseCandidate[]> {
  const found: LeaseCandidate[] = [];
  for (const part of keyChunks(keys)) {
    const select = db.selectFrom('host_leases').select(['host_key', 'last_started_at']).where('host_key', 'in', part);
    const rows = await overdueFirst(whereFree(whereDue(select, request.dueBefore), request.owner, request.now))
      .limit(room)
      .execute();
    found.push(...rows.map((r) => ({ hostKey: r.host_key, lastStartedAt: toDateOrNull(r.last_started_at) })));
  }
  // Each chunk gave its own most overdue; the overall ones are among them.
  return keys.length <= KEYS_PER_STATEMENT ? found : found.sort(compareOverdue).slice(0, room);
}

/**
 * Atomically takes up to `limit` of the hosts among `keys` that are due (never started, or last started at or
 * before `dueBefore`) and free (no owner, an expired lease, or already ours), the most overdue
 * first, skipping rows locked by a concurrent claim. Sets owner, lease_until and
 * last_started_at; returns the keys, the most overdue first.
 *
 * The order is chosen on an unlocked read, then the chosen rows are locked by primary key with
 * FOR UPDATE SKIP LOCKED and checked again. Locking in the ORDER BY query itself would make
 * InnoDB lock every due row it sorts (the order is not an index order), leaving nothing for a
 * claim racing this one; locking by key locks only the rows taken.
 */
export async function takeDueLeases(store: Store, request: LeaseRequest): Promise<string[]> {
  const { owner, now, dueBefore } = request;
  const transaction = store.db.transaction();
  // READ COMMITTED (PostgreSQL's default): InnoDB then keeps no locks on rows it read but did
  // not take, and no gap locks, so concurrent claims only ever skip rows actually taken.
  const { supportsRowLocks } = adapterFor(store.dialect);
  return await (supportsRowLocks ? transaction.setIsolationLevel('read committed') : transaction).execute(
    async (trx) => {
      const taken: string[] = [];
      const tried = new Set<string>();
      for (let pass = 0; pass < CLAIM_PASSES && taken.length < request.limit; pass++) {
        const untried = tried.size === 0 ? request.keys : request.keys.filter((key) => !tried.has(key));
        const candidates = await dueCandidates(trx, untried, request.limit - taken.length, request);
        if (candidates.length === 0) break;
        for (const candidate of candidates) tried.add(candidate.hostKey);
        const locked = new Set<string>();
        for (const part of keyChunks(candidates.map((c) => c.hostKey))) {
          // Checked again under the lock: a concurrent claim may have taken a candidate meanwhile.
          let lock = whereFree(
            whereDue(trx.selectFrom('host_leases').select('host_key').where('host_key', 'in', part), dueBefore),
            owner,
            now,
          );
          if (supportsRowLocks) lock = lock.forUpdate().skipLocked();
          for (const row of await lock.execute()) locked.add(row.host_key);
        }
        taken.push(...candidates.filter((c) => locked.has(c.hostKey)).map((c) => c.hostKey));
      }
      if (taken.length === 0) return taken;
      const leaseUntil = request.leaseUntil(taken);
      for (const part of keyChunks(taken)) {
        await trx
          .updateTable('host_leases')
          .set({ owner, lease_until: leaseUntil, last_started_at: now })
          .where('host_key', 'in', part)
          .execute();
      }
      return taken;
    },
  );
}

/** Hosts waiting to be collected: due, and not under a live lease. */
export interface LeaseBacklog {
  /** How many of the keys are due and not being collected. */
  waiting: number;
  /** How many of those were never started. */
  neverStarted: number;
  /** The oldest last start among the waiting hosts that were started, or null. */
  oldestStartedAt: Date | null;
}

/**
 * The backlog among `keys` (fleet-wide: every collector's claims count). A host held under a
 * live lease is being collected and does not count; one whose lease expired does.
 */
export async function leaseBacklog(
  store: Store,
  keys: readonly string[],
  now: Date,
  dueBefore: Date,
): Promise<LeaseBacklog> {
  const backlog: LeaseBacklog = { waiting: 0, neverStarted: 0, oldestStartedAt: null };
  for (const part of keyChunks(keys)) {
    const row = await whereDue(store.db.selectFrom('host_leases').where('host_key', 'in', part), dueBefore)
      .where((eb) => eb.or([eb('owner', 'is', null), eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .select((eb) => [
        eb.fn.countAll().as('waiting'),
        eb.fn.sum<number | string | null>(sql`case when last_started_at is null then 1 else 0 end`).as('never_started'),
        eb.fn.min('last_started_at').as('oldest'),
      ])
      .executeTakeFirst();
    backlog.waiting += Number(row?.waiting ?? 0);
    backlog.neverStarted += Number(row?.never_started ?? 0);
    const oldest = toDateOrNull(row?.oldest ?? null);
    if (oldest && (!backlog.oldestStartedAt || oldest < backlog.oldestStartedAt)) backlog.oldestStartedAt = oldest;
  }
  return backlog;
}

/**
 * Records that `owner` is done with these hosts for this interval and frees their leases.
 * A lease that expired and was taken by another collector meanwhile is left alone.
 */
export async function releaseLeases(store: Store, keys: readonly string[], owner: string, now: Date): Promise<void> {
  const db = store.db;
  for (const part of keyChunks(keys)) {
    await db
      .updateTable('host_leases')
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
  const rows = await store.db.selectFrom('host_leases').selectAll().orderBy('host_key').execute();
  return rows.map((r) => ({
    hostKey: r.host_key,
    owner: r.owner,
    leaseUntil: toDateOrNull(r.lease_until),
    lastStartedAt: toDateOrNull(r.last_started_at),
    lastFinishedAt: toDateOrNull(r.last_finished_at),
  }));
}
