/**
 * The metric families /metrics serves, read from the database: the latest value of each
 * statistic per host, and the collector's own state (last round, host errors, mail outbox).
 * Each host's series carry host, ip and port labels, so two hosts with one name stay apart.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config/types.js';
import type { Database } from '../../store/schema.js';
import { listHostSummaries, type HostSummary } from '../queries/host-summaries.js';
import { listFiringAlerts } from '../queries/firing-alerts.js';
import { outboxCounts } from '../queries/outbox-counts.js';
import { latestFinishedRound } from '../queries/rounds.js';
import type { MetricFamily, MetricSample } from './exposition.js';

type HostLabels = { host: string; ip: string; port: string };

const labelsOf = (h: { name: string; ip: string; port: number }): HostLabels => ({
  host: h.name,
  ip: h.ip,
  port: String(h.port),
});

function gauge(name: string, help: string, samples: MetricSample[]): MetricFamily {
  return { name, help, type: 'gauge', samples };
}

/** Per host, the value `pick` gives for its latest sample (hosts without one are left out). */
function perHost(hosts: HostSummary[], pick: (h: HostSummary) => number | null | undefined): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const h of hosts) {
    const value = pick(h);
    if (value !== null && value !== undefined) samples.push({ labels: labelsOf(h), value });
  }
  return samples;
}

/** Reads the database and returns every DB-derived metric family. */
export async function fleetMetricFamilies(db: Kysely<Database>, config: Config): Promise<MetricFamily[]> {
  const hosts = await listHostSummaries(db);
  const sampleIds = hosts.flatMap((h) => (h.latest ? [h.latest.sample_id] : []));
  const disks =
    sampleIds.length === 0
      ? []
      : await db
          .selectFrom('disk_usage')
          .select(['sample_id', 'mount', 'used_percent', 'size_bytes', 'used_bytes'])
          .where('sample_id', 'in', sampleIds)
          .orderBy('sample_id')
          .orderBy('mount')
          .execute();
  const hostBySample = new Map(hosts.flatMap((h) => (h.latest ? [[h.latest.sample_id, h] as const] : [])));
  const [round, outbox, firing] = await Promise.all([latestFinishedRound(db), outboxCounts(db), listFiringAlerts(db)]);

  // Configured hosts that were never stored are reported down, so an alert rule sees them.
  const stored = new Set(hosts.map((h) => `${h.ip}:${h.port}`));
  const neverCollected = config.clients.filter((c) => !stored.has(`${c.ip}:${c.port}`));

  const diskSamples = (value: (d: (typeof disks)[number]) => number): MetricSample[] => {
    const seen = new Set<string>();
    const out: MetricSample[] = [];
    for (const d of disks) {
      const host = hostBySample.get(Number(d.sample_id));
      const key = `${d.sample_id}\n${d.mount}`;
      if (!host || seen.has(key)) continue; // one series per mount, even if a host reports a mount twice
      seen.add(key);
      out.push({ labels: { ...labelsOf(host), mount: d.mount }, value: value(d) });
    }
    return out;
  };

  const families: MetricFamily[] = [
    gauge('fleetstat_host_up', '1 if the host was collected in the latest finished round, else 0.', [
      ...hosts.map((h) => ({ labels: labelsOf(h), value: h.status === 'up' ? 1 : 0 })),
      ...neverCollected.map((c) => ({ labels: labelsOf(c), value: 0 })),
    ]),
    gauge(
      'fleetstat_last_seen_timestamp_seconds',
      "Unix time of the host's latest successful collection.",
      perHost(hosts, (h) => (h.last_seen ? Date.parse(h.last_seen) / 1000 : null)),
    ),
    gauge(
      'fleetstat_cpu_percent',
      "CPU busy percent over the probe's sampling interval.",
      perHost(hosts, (h) => h.latest?.cpu_percent),
    ),
    gauge(
      'fleetstat_load1',
      'One-minute load average.',
      perHost(hosts, (h) => h.latest?.load1),
    ),
    gauge(
      'fleetstat_memory_used_bytes',
      'Memory in use, bytes.',
      perHost(hosts, (h) => h.latest?.mem_used),
    ),
    gauge(
      'fleetstat_memory_total_bytes',
      'Total memory, bytes.',
      perHost(hosts, (h) => h.latest?.mem_total),
    ),
    gauge(
      'fleetstat_memory_used_percent',
      'Memory in use, percent.',
      perHost(hosts, (h) => h.latest?.mem_percent),
    ),
    gauge(
      'fleetstat_swap_used_bytes',
      'Swap in use, bytes.',
      perHost(hosts, (h) => h.latest?.swap_used),
    ),
    gauge(
      'fleetstat_swap_total_bytes',
      'Total swap, bytes.',
      perHost(hosts, (h) => h.latest?.swap_total),
    ),
    gauge(
      'fleetstat_disk_used_percent',
      'File system space in use, percent, per mount point.',
      diskSamples((d) => Number(d.used_percent)),
    ),
    gauge(
      'fleetstat_disk_used_bytes',
      'File system space in use, bytes, per mount point.',
      diskSamples((d) => Number(d.used_bytes)),
    ),
    gauge(
      'fleetstat_disk_size_bytes',
      'File system size, bytes, per mount point.',
      diskSamples((d) => Number(d.size_bytes)),
    ),
    gauge(
      'fleetstat_uptime_seconds',
      'Seconds since the host booted.',
      perHost(hosts, (h) => h.latest?.uptime_seconds),
    ),
    gauge(
      'fleetstat_processes',
      'Number of processes.',
      perHost(hosts, (h) => h.latest?.process_count),
    ),
    gauge(
      'fleetstat_users_logged_in',
      'Number of logged-in user sessions.',
      perHost(hosts, (h) => h.latest?.users_count),
    ),
    gauge(
      'fleetstat_alerts_firing',
      'Alert rules firing for the host.',
      perHost(hosts, (h) => h.firing_alerts),
    ),
  ];

  if (round) {
    families.push(
      gauge(
        'fleetstat_last_round_duration_seconds',
        'Wall-clock duration of the latest finished round.',
        round.duration_seconds === null ? [] : [{ value: round.duration_seconds }],
      ),
      gauge(
        'fleetstat_last_round_timestamp_seconds',
        'Unix time the latest finished round ended.',
        round.finished_at ? [{ value: Date.parse(round.finished_at) / 1000 }] : [],
      ),
      gauge('fleetstat_last_round_hosts', 'Hosts of the latest finished round by outcome.', [
        { labels: { outcome: 'ok' }, value: round.hosts_ok },
        { labels: { outcome: 'failed' }, value: round.hosts_failed },
      ]),
      gauge(
        'fleetstat_last_round_host_errors',
        'Host errors in the latest finished round, by stage.',
        Object.entries(round.errors_by_stage).map(([stage, n]) => ({ labels: { stage }, value: n })),
      ),
    );
  }
  families.push(
    gauge(
      'fleetstat_outbox_mails',
      'Mails in the outbox by state: queued (not tried yet), retrying (not delivered, met an error, still tried), sent (delivered), failed (given up).',
      [
        { labels: { state: 'queued' }, value: outbox.queued },
        { labels: { state: 'retrying' }, value: outbox.retrying },
        { labels: { state: 'sent' }, value: outbox.sent },
        { labels: { state: 'failed' }, value: outbox.failed },
      ],
    ),
  );
  families.push(
    gauge(
      'fleetstat_alert_firing',
      '1 for each alert rule firing now, labelled with its rule key and severity.',
      firing.map((a) => ({ labels: { ...labelsOf(a), rule: a.rule, severity: a.severity }, value: 1 })),
    ),
  );
  return families;
}
