/**
 * The overview's triage: hosts in trouble first (down, error, firing alerts, never collected),
 * then the healthy ones; a status filter and a name filter, both carried in the URL
 * (`/?status=trouble&q=web`) so a filtered view can be bookmarked and shared.
 */
import type { Config, AlertType } from '../../config/types.js';
import type { FleetHost } from '../queries/fleet-hosts.js';

/** The status filter's choices; `trouble` is everything but healthy `up` hosts. */
export const HOST_FILTERS = ['all', 'trouble', 'down', 'error', 'firing', 'unknown', 'up'] as const;
export type HostFilter = (typeof HOST_FILTERS)[number];

/** Where a host sorts: lower is more urgent. */
export function triageRank(host: Pick<FleetHost, 'status' | 'firing_alerts'>): number {
  if (host.status === 'down') return 0;
  if (host.status === 'error') return 1;
  if (host.firing_alerts > 0) return 2;
  if (host.status === 'unknown') return 3;
  return 4;
}

/** Hosts in triage order: by rank, then more firing alerts first, then by name. */
export function triageOrder<T extends Pick<FleetHost, 'status' | 'firing_alerts' | 'name'>>(hosts: readonly T[]): T[] {
  return [...hosts].sort(
    (a, b) => triageRank(a) - triageRank(b) || b.firing_alerts - a.firing_alerts || a.name.localeCompare(b.name),
  );
}

function matchesStatus(host: Pick<FleetHost, 'status' | 'firing_alerts'>, filter: HostFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'trouble':
      return triageRank(host) < 4;
    case 'firing':
      return host.firing_alerts > 0;
    default:
      return host.status === filter;
  }
}

/** The hosts matching the status filter and whose name or address contains `query` (any case). */
export function filterHosts<T extends Pick<FleetHost, 'status' | 'firing_alerts' | 'name' | 'ip'>>(
  hosts: readonly T[],
  filter: HostFilter,
  query: string,
): T[] {
  const needle = query.trim().toLowerCase();
  return hosts.filter(
    (h) =>
      matchesStatus(h, filter) &&
      (needle === '' || h.name.toLowerCase().includes(needle) || h.ip.toLowerCase().includes(needle)),
  );
}

/** A host's own percentage limits from the config, by rule type, for colouring its bars. */
export type HostLimits = Partial<Record<Extract<AlertType, 'cpu' | 'memory' | 'disk' | 'swap'>, number>>;

/** Limits per "ip:port", from each client's alert rules. */
export function limitsByEndpoint(config: Config): Map<string, HostLimits> {
  const map = new Map<string, HostLimits>();
  for (const client of config.clients) {
    const limits: HostLimits = {};
    for (const rule of client.alerts) {
      if (rule.type === 'cpu' || rule.type === 'memory' || rule.type === 'disk' || rule.type === 'swap')
        limits[rule.type] = rule.limit;
    }
    map.set(`${client.ip}:${client.port}`, limits);
  }
  return map;
}
