/**
 * Inhibition: when a large share of the fleet cannot be reached in one round, the collector's own
 * network or DNS is the likelier culprit. Then the hosts' own unreachable notices are held and
 * each recipient gets one "collector cannot reach N of M hosts" notice instead of N.
 */
import type { ClientConfig, Settings } from '../config/types.js';
import { oneLine } from '../text/untrusted-text.js';
import { sanitizeBody, sanitizeSubject } from '../notify/mail-text.js';

/** One host that could not be collected this round. */
export interface UnreachableHost {
  client: ClientConfig;
  hostId: number;
  error: { stage: string; message: string };
}

/** True when `failed` of `total` hosts reach both thresholds of `settings` (inhibit-share, inhibit-min-hosts). */
export function isFleetOutage(
  failed: number,
  total: number,
  settings: Pick<Settings, 'inhibitShare' | 'inhibitMinHosts'>,
): boolean {
  if (settings.inhibitShare <= 0 || total === 0) return false;
  return failed >= settings.inhibitMinHosts && failed * 100 >= settings.inhibitShare * total;
}

const MAX_LISTED_HOSTS = 200;

/** The one notice that replaces the hosts' unreachable notices: subject line, one-line summary, body. */
export function renderOutageNotice(
  hosts: readonly UnreachableHost[],
  total: number,
  at: Date,
): { subject: string; headline: string; body: string } {
  const headline = sanitizeSubject(`FIRING [critical]: collector cannot reach ${hosts.length} of ${total} hosts`);
  const lines = [
    `${headline}.`,
    '',
    `In the round at ${at.toISOString()} (UTC) fleetstat could not collect ${hosts.length} of its ${total} hosts.`,
    "So many at once usually means the collector's own network, DNS or SSH client is at fault, not the hosts:",
    'check the collector\'s connectivity first. The hosts\' own "unreachable" mails are held meanwhile; their',
    'alerts still show as firing on the dashboard.',
    '',
    'Hosts and why they failed:',
  ];
  for (const host of hosts.slice(0, MAX_LISTED_HOSTS)) {
    lines.push(
      `  ${oneLine(host.client.name, 100)} (${oneLine(host.client.ip, 64)}): stage ${host.error.stage}: ${oneLine(host.error.message, 200)}`,
    );
  }
  if (hosts.length > MAX_LISTED_HOSTS)
    lines.push(`  … and ${hosts.length - MAX_LISTED_HOSTS} more (see the rounds page).`);
  lines.push('', '-- ', 'fleetstat');
  return { subject: sanitizeSubject(`[fleetstat] ${headline}`), headline, body: sanitizeBody(lines.join('\n')) };
}
