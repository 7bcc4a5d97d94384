/**
 * Which hosts a collector should collect now. One process alone collects every host once per
 * interval (LocalClaimer); several processes sharing one database split the hosts with row
 * leases (see lease-claimer.ts), so each host is collected once per interval across them all.
 */
import type { ClientConfig } from '../config/types.js';

export interface HostClaimer {
  /** The clients that are due and now reserved for this process. */
  claim(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<ClientConfig[]>;
  /** Marks claimed clients as done for this interval (collected or failed) and frees them. */
  finish(clients: readonly ClientConfig[], now: Date): Promise<void>;
}

/** The key of a client in claims and leases: its address and port. */
export function clientKey(client: Pick<ClientConfig, 'ip' | 'port'>): string {
  return `${client.ip}:${client.port}`;
}

/** In-memory claims for a single collector. */
export class LocalClaimer implements HostClaimer {
  private readonly lastStarted = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  async claim(clients: readonly ClientConfig[], now: Date, intervalSeconds: number): Promise<ClientConfig[]> {
    const due = clients.filter((client) => {
      const key = clientKey(client);
      const last = this.lastStarted.get(key);
      return !this.inFlight.has(key) && (last === undefined || now.getTime() - last >= intervalSeconds * 1000 * 0.98);
    });
    for (const client of due) {
      this.inFlight.add(clientKey(client));
      this.lastStarted.set(clientKey(client), now.getTime());
    }
    return due;
  }

  async finish(clients: readonly ClientConfig[]): Promise<void> {
    for (const client of clients) this.inFlight.delete(clientKey(client));
  }
}
