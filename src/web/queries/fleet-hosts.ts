/**
 * The fleet as the dashboard shows it: every host stored in the database, plus configured
 * clients that were never collected yet (no id, status unknown), each marked with whether the
 * current config still lists it.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config/types.js';
import type { Database } from '../../store/schema.js';
import { listHostSummaries, type HostSummary } from './host-summaries.js';

export interface FleetHost extends Omit<HostSummary, 'id'> {
  /** Null for a configured client not stored yet. */
  id: number | null;
  in_config: boolean;
}

const endpoint = (h: { ip: string; port: number }) => `${h.ip}:${h.port}`;

/** Stored hosts (by name) followed by configured clients not stored yet (in config order). */
export async function listFleetHosts(db: Kysely<Database>, config: Config): Promise<FleetHost[]> {
  const configured = new Set(config.clients.map(endpoint));
  const stored = await listHostSummaries(db);
  const storedEndpoints = new Set(stored.map(endpoint));
  const hosts: FleetHost[] = stored.map((h) => ({ ...h, in_config: configured.has(endpoint(h)) }));
  for (const client of config.clients) {
    if (storedEndpoints.has(endpoint(client))) continue;
    storedEndpoints.add(endpoint(client));
    hosts.push({
      id: null,
      name: client.name,
      ip: client.ip,
      port: client.port,
      os: null,
      os_name: null,
      kernel: null,
      arch: null,
      hostname: null,
      first_seen: null,
      last_seen: null,
      status: 'unknown',
      error: null,
      latest: null,
      firing_alerts: 0,
      in_config: true,
    });
  }
  return hosts;
}

/** One stored host, marked with whether the config lists it; undefined if there is no such id. */
export async function findFleetHost(
  db: Kysely<Database>,
  config: Config,
  hostId: number,
): Promise<FleetHost | undefined> {
  const [host] = await listHostSummaries(db, hostId);
  if (!host) return undefined;
  return { ...host, in_config: config.clients.some((c) => endpoint(c) === endpoint(host)) };
}
