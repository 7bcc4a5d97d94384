/**
 * Which hosts a collector should collect now. One process alone collects every host once per
 * interval (LocalClaimer); several processes sharing one database split the hosts with row
 * leases (see lease-claimer.ts), so each host is collected once per interval across them all.
 * Both hand out the most overdue hosts first: never-started ones, then the oldest start.
 */
import type { ClientConfig } from '../config/types.js';

export interface HostClaimer {
  /** The clients that are due and now reserved for this process, the most overdue first. */
  claim(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<ClientConfig[]>;
  /** Marks claimed clients as done for this interval (collected or failed) and frees them. */
  finish(clients: readonly ClientConfig[], now: Date): Promise<void>;
  /** The hosts that are due and not being collected, and how long the most overdue has waited. */
  backlog(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<Backlog>;
}

/** Hosts waiting for a collector (src/serve/load-monitor.ts turns it into "behind" or not). */
export interface Backlog {
  /** Hosts in the config. */
  hosts: number;
  /** Hosts due (an interval or more since their last start, or never started) and not in flight. */
  overdue: number;
  /** How long past its due time the most overdue host has waited (0 when none is). */
  mostOverdueSeconds: number;
}

/** The key of a client in claims and leases: its address and port. */
export function clientKey(client: Pick<ClientConfig, 'ip' | 'port'>): string {
  return `${client.ip}:${client.port}`;
}

/** Same slack as the lease claimer: ticks are jittered, so a host due a few ms from now counts as due. */
export const DUE_SLACK = 0.98;

/**
 * Seconds the most overdue host has waited past its due time. A never-started host has been
 * due since the collector first saw it (`firstSeen`, ms).
 */
export function mostOverdueSeconds(
  now: Date,
  intervalSeconds: number,
  oldestStart: number | null,
  neverStartedSince: number | null,
): number {
  const dueSince = [oldestStart === null ? null : oldestStart + intervalSeconds * 1000, neverStartedSince].filter(
    (t): t is number => t !== null,
  );
  if (dueSince.length === 0) return 0;
  return Math.max(0, (now.getTime() - Math.min(...dueSince)) / 1000);
}

/** In-memory claims for a single collector: every due host at once, the most overdue first. */
export class LocalClaimer implements HostClaimer {
  private readonly lastStarted = new Map<string, number>();
  private readonly firstSeen = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  async claim(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<ClientConfig[]> {
    const due = this.waiting(clients, now, intervalSeconds * DUE_SLACK);
    // Never started first (-Infinity), then the oldest start; sort() is stable, so config order breaks ties.
    const order = (client: ClientConfig) => this.lastStarted.get(clientKey(client)) ?? -Infinity;
    due.sort((a, b) => order(a) - order(b));
    for (const client of due) {
      this.inFlight.add(clientKey(client));
      this.lastStarted.set(clientKey(client), now.getTime());
    }
    return due;
  }

  async finish(clients: readonly ClientConfig[]): Promise<void> {
    for (const client of clients) this.inFlight.delete(clientKey(client));
  }

  async backlog(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<Backlog> {
    const waiting = this.waiting(clients, now, intervalSeconds);
    const starts = waiting.map((c) => this.lastStarted.get(clientKey(c))).filter((t): t is number => t !== undefined);
    const never = waiting
      .filter((c) => !this.lastStarted.has(clientKey(c)))
      .map((c) => this.firstSeen.get(clientKey(c))!);
    return {
      hosts: clients.length,
      overdue: waiting.length,
      mostOverdueSeconds: mostOverdueSeconds(
        now,
        intervalSeconds,
        starts.length ? Math.min(...starts) : null,
        never.length ? Math.min(...never) : null,
      ),
    };
  }

  /** Clients not in flight and started at least `seconds` ago (or never). */
  private waiting(clients: readonly ClientConfig[], now: Date, seconds: number): ClientConfig[] {
    return clients.filter((client) => {
      const key = clientKey(client);
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, now.getTime());
      const last = this.lastStarted.get(key);
      return !this.inFlight.has(key) && (last === undefined || now.getTime() - last >= seconds * 1000);
    });
  }
}
