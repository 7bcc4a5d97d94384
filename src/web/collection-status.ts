/**
 * Whether the collectors keep up (src/serve/load-monitor.ts), as the API, /metrics and the
 * dashboard banner show it. A web server without a serve loop (tests, embedding) reports
 * state "unknown".
 */
import type { CollectionStatus } from '../serve/load-monitor.js';
import { html, type SafeHtml } from './html.js';
import type { MetricFamily } from './metrics/exposition.js';

export type { CollectionStatus } from '../serve/load-monitor.js';

/** The status when nothing assesses the load. */
export const UNKNOWN_COLLECTION: CollectionStatus = {
  state: 'unknown',
  since: null,
  assessedAt: null,
  hosts: 0,
  overdue: 0,
  mostOverdueSeconds: 0,
  intervalSeconds: 0,
};

/** The JSON of GET /api/collection (docs/api.md). */
export function collectionJson(status: CollectionStatus): Record<string, unknown> {
  return {
    state: status.state,
    since: status.since?.toISOString() ?? null,
    assessed_at: status.assessedAt?.toISOString() ?? null,
    hosts: status.hosts,
    hosts_overdue: status.overdue,
    most_overdue_seconds: Math.round(status.mostOverdueSeconds * 10) / 10,
    interval_seconds: status.intervalSeconds,
  };
}

/** The /metrics families (none before the first assessment). */
export function collectionMetricFamilies(status: CollectionStatus): MetricFamily[] {
  if (status.state === 'unknown') return [];
  const gauge = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: 'gauge',
    samples: [{ value }],
  });
  return [
    gauge(
      'fleetstat_collection_behind',
      '1 while the collectors cannot collect every host once per interval (a host waited a whole interval past its due time), else 0.',
      status.state === 'behind' ? 1 : 0,
    ),
    gauge(
      'fleetstat_hosts_overdue',
      'Hosts due (an interval since their last start) and not being collected.',
      status.overdue,
    ),
    gauge(
      'fleetstat_most_overdue_seconds',
      'How long past its due time the most overdue host has waited.',
      status.mostOverdueSeconds,
    ),
  ];
}

/** The dashboard banner: empty unless behind. */
export function collectionBanner(status: CollectionStatus): SafeHtml {
  if (status.state !== 'behind') return html``;
  return html`<p class="banner-behind" role="alert"><strong>Collection is behind:</strong> ${status.overdue} of ${status.hosts} hosts overdue, the most overdue by ${status.mostOverdueSeconds.toFixed(0)} s (interval ${status.intervalSeconds} s). Raise <code>concurrency</code>, lengthen the <code>interval</code> or add a collector.</p>`;
}
