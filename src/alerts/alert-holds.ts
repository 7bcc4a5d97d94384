/**
 * Everything that holds a host's alert notices this run, in one place: silences from the
 * database, the client's maintenance windows from the config, and fleet-wide inhibition.
 */
import type { AlertType, ClientConfig } from '../config/types.js';
import { inMaintenance } from '../config/maintenance-window.js';
import { silenceCovers, type SilenceRule } from './silence-match.js';

/** Returns why a rule of `client` is held at `now`, or undefined; the first reason found wins. */
export function alertHolds(
  client: Pick<ClientConfig, 'name' | 'ip' | 'maintenance'>,
  silences: readonly SilenceRule[],
  now: Date,
  inhibitedBy?: string,
): (rule: { key: string; type: AlertType }) => string | undefined {
  return (rule) => {
    if (inhibitedBy !== undefined) return inhibitedBy;
    const silence = silences.find((s) =>
      silenceCovers(s, { hostName: client.name, ip: client.ip, ruleKey: rule.key, ruleType: rule.type }, now),
    );
    if (silence !== undefined) return `silence ${silence.id}`;
    const window = client.maintenance?.find(
      (w) => (w.rule === undefined || w.rule === rule.key || w.rule === rule.type) && inMaintenance(w, now),
    );
    if (window !== undefined) return `maintenance window (config line ${window.line})`;
    return undefined;
  };
}
