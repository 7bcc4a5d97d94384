/**
 * Host claims through row leases in the shared database, for several `fleetstat serve`
 * processes on one PostgreSQL or MySQL/MariaDB: each host is collected once per interval by
 * whichever collector claims it first, and the hosts of a collector that dies are taken over
 * once its leases expire.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClientConfig } from '../config/types.js';
import type { Store } from '../store/open-store.js';
import { ensureLeaseRows, leaseBacklog, releaseLeases, takeDueLeases } from '../store/leases.js';
import { clientKey, DUE_SLACK, mostOverdueSeconds, type Backlog, type HostClaimer } from './host-claimer.js';

export interface LeaseClaimerOptions {
  /** Hosts collected at once by this process (settings.concurrency): bounds how long a round lasts. */
  concurrency: () => number;
  /** Added to the worst-case round time, for storing and mail after the last host (default 30 s). */
  marginSeconds?: number;
  /** Names this collector in `host_leases.owner` (default hostname:pid:random). */
  owner?: string;
}

const DEFAULT_MARGIN_SECONDS = 30;
/**
 * A claim takes at most this share of the hosts. Hosts that fall due together are then spread
 * over the collectors that tick next, instead of all going to the first one; a collector alone
 * still gets through every host, since it ticks about four times per interval.
 */
export const CLAIM_SHARE = 1 / 3;

/** A collector's lease owner id: unique across machines, processes and restarts. */
export function leaseOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * The longest a round over `clients` can take: the hosts run in waves of `concurrency`, and each
 * host's whole collection is bounded by its timeout.
 */
export function leaseSeconds(clients: readonly ClientConfig[], concurrency: number, marginSeconds: number): number {
  const longest = Math.max(0, ...clients.map((c) => c.timeoutSeconds));
  const waves = Math.ceil(clients.length / Math.max(1, concurrency));
  return waves * longest + marginSeconds;
}

/**
 * Claims through `host_leases` (migration 0002). Meant for PostgreSQL and MySQL/MariaDB; on
 * SQLite it is correct but pointless, since one file serves one collector.
 */
export class LeaseClaimer implements HostClaimer {
  readonly owner: string;
  /** Keys whose lease row exists, and when this process first saw each (ms). */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly options: LeaseClaimerOptions,
  ) {
    this.owner = options.owner ?? leaseOwnerId();
  }

  async claim(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<ClientConfig[]> {
    const byKey = new Map(clients.map((client) => [clientKey(client), client]));
    const keys = [...byKey.keys()];
    await this.ensureRows(keys, now);
    const margin = this.options.marginSeconds ?? DEFAULT_MARGIN_SECONDS;
    const taken = await this.withRetry(() =>
      takeDueLeases(this.store, {
        keys,
        owner: this.owner,
        now,
        limit: Math.ceil(keys.length * CLAIM_SHARE),
        dueBefore: new Date(now.getTime() - intervalSeconds * 1000 * DUE_SLACK),
        leaseUntil: (taken) => {
          const seconds = leaseSeconds(
            taken.map((key) => byKey.get(key)!),
            this.options.concurrency(),
            margin,
          );
          return new Date(now.getTime() + seconds * 1000);
        },
      }),
    );
    return taken.map((key) => byKey.get(key)!);
  }

  async finish(clients: readonly ClientConfig[], now: Date): Promise<void> {
    await this.withRetry(() => releaseLeases(this.store, clients.map(clientKey), this.owner, now));
  }

  async backlog(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<Backlog> {
    const keys = clients.map(clientKey);
    await this.ensureRows(keys, now);
    const found = await leaseBacklog(this.store, keys, now, new Date(now.getTime() - intervalSeconds * 1000));
    // A row never started has been due since this process first saw its key.
    const neverSince = found.neverStarted > 0 ? Math.min(...keys.map((key) => this.known.get(key)!)) : null;
    return {
      hosts: keys.length,
      overdue: found.waiting,
      mostOverdueSeconds: mostOverdueSeconds(
        now,
        intervalSeconds,
        found.oldestStartedAt?.getTime() ?? null,
        neverSince,
      ),
    };
  }

  /** Adds lease rows once per key and process; the table never loses rows, so the cache holds. */
  private async ensureRows(keys: readonly string[], now: Date): Promise<void> {
    const fresh = keys.filter((key) => !this.known.has(key));
    if (fresh.length === 0) return;
    await ensureLeaseRows(this.store, fresh);
    for (const key of fresh) this.known.set(key, now.getTime());
  }

  /** MySQL may pick a claim as a deadlock victim; once more is enough (the rows it saw are few). */
  private async withRetry<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (!isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      return await body();
    }
  }
}

/** Deadlock or lock-wait timeout (MySQL), deadlock or serialization failure (PostgreSQL). */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown; errno?: unknown }).code;
  const errno = (error as { errno?: unknown }).errno;
  return errno === 1213 || errno === 1205 || code === '40P01' || code === '40001';
}
