/**
 * A host's page `/hosts/:id`: facts, charts (drawn by /assets/host-charts.js from the JSON API),
 * file systems, logged-in users, alerts, security events and error history.
 */
import { html } from '../html.js';
import type { FleetHost } from '../queries/fleet-hosts.js';
import type { AlertView, DiskView, EventView, UserView } from '../queries/host-details.js';
import type { HostErrorView } from '../queries/rounds.js';
import { formatBytes, formatDuration, formatInstant } from './display-format.js';
import { renderPage } from './layout.js';
import { statusBadge, tableOrNote, timeAgo, usageMeter } from './widgets.js';

/** Chart ranges the page offers, in seconds. */
export const CHART_RANGES = { '1h': 3600, '24h': 86400, '7d': 7 * 86400 } as const;
export type ChartRange = keyof typeof CHART_RANGES;

export interface HostPageData {
  host: FleetHost & { id: number };
  range: ChartRange;
  disks: DiskView[];
  users: UserView[];
  alerts: AlertView[];
  events: EventView[];
  errors: HostErrorView[];
}

const CHARTS = [
  ['cpu', 'CPU %'],
  ['memory', 'Memory and swap %'],
  ['disk', 'Fullest disk %'],
  ['network', 'Network (bytes/s, without loopback)'],
] as const;

/** Renders the host document. */
export function renderHostPage(data: HostPageData, now: Date): string {
  const { host } = data;
  const latest = host.latest;
  const facts: [string, string][] = [
    ['Address', `${host.ip}:${host.port}`],
    ['Hostname', host.hostname ?? '–'],
    ['System', [host.os_name ?? host.os, host.arch].filter(Boolean).join(' · ') || '–'],
    ['Kernel', host.kernel ?? '–'],
    ['Uptime', formatDuration(latest?.uptime_seconds)],
    [
      'Load',
      latest
        ? [latest.load1, latest.load5, latest.load15].map((l) => (l === null ? '–' : l.toFixed(2))).join(' / ')
        : '–',
    ],
    ['Memory', latest ? `${formatBytes(latest.mem_used)} of ${formatBytes(latest.mem_total)}` : '–'],
    ['Swap', latest ? `${formatBytes(latest.swap_used)} of ${formatBytes(latest.swap_total)}` : '–'],
    ['Processes', latest ? String(latest.process_count) : '–'],
  ];
  const rangeLinks = (Object.keys(CHART_RANGES) as ChartRange[]).map(
    (r) => html`<a href="/hosts/${host.id}?range=${r}"${r === data.range ? html` aria-current="true"` : ''}>${r}</a>`,
  );

  const body = html`<h1 class="host-title">${host.name} ${statusBadge(host.status)}</h1>
<p class="muted">last seen ${timeAgo(host.last_seen, now)}${host.in_config ? '' : ' · no longer in the config'}</p>
${host.error ? html`<p class="problem-box"><strong>${host.error.stage}</strong>: ${host.error.message}</p>` : ''}
<section class="cards">
<div class="card">CPU ${usageMeter(latest?.cpu_percent, 'CPU')}</div>
<div class="card">Memory ${usageMeter(latest?.mem_percent, 'memory')}</div>
<div class="card">Swap ${usageMeter(latest?.swap_percent, 'swap')}</div>
<div class="card">Disk ${usageMeter(latest?.disk_max_percent, 'fullest disk')}</div>
</section>
<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>

<section>
<h2>History</h2>
<nav class="ranges" aria-label="chart range">${rangeLinks}</nav>
<p class="chart-status muted" id="chart-status">Loading charts…</p>
<div class="charts">${CHARTS.map(([id, title]) => html`<figure class="chart" id="chart-${id}" data-chart="${id}"><figcaption>${title}</figcaption></figure>`)}</div>
</section>

<section>
<h2>File systems</h2>
${tableOrNote(
  data.disks.map(
    (d) =>
      html`<tr><td data-label="Mount">${d.mount}</td><td data-label="Type">${d.fs}</td><td data-label="Device">${d.device}</td><td data-label="Used">${usageMeter(d.used_percent, d.mount)}</td><td data-label="Size">${formatBytes(d.used_bytes)} of ${formatBytes(d.size_bytes)}</td></tr>`,
  ),
  html`<tr><th>Mount</th><th>Type</th><th>Device</th><th>Used</th><th>Size</th></tr>`,
  'No file systems reported.',
)}
</section>

<section>
<h2>Logged-in users</h2>
${tableOrNote(
  data.users.map(
    (u) =>
      html`<tr><td data-label="User">${u.name}</td><td data-label="Terminal">${u.tty}</td><td data-label="From">${u.from_host}</td><td data-label="Since">${formatInstant(u.login_at)}</td></tr>`,
  ),
  html`<tr><th>User</th><th>Terminal</th><th>From</th><th>Since</th></tr>`,
  'Nobody was logged in at the latest collection.',
)}
</section>

<section>
<h2>Alerts</h2>
${tableOrNote(
  data.alerts.map(
    (a) =>
      html`<tr><td data-label="Rule">${a.rule}</td><td data-label="State">${statusBadge(a.state)}</td><td data-label="Value">${a.value === null ? '–' : a.value.toFixed(1)}</td><td data-label="Limit">${a.limit_value}</td><td data-label="Since">${timeAgo(a.since, now)}</td><td data-label="Last mailed">${timeAgo(a.last_notified_at, now)}</td></tr>`,
  ),
  html`<tr><th>Rule</th><th>State</th><th>Value</th><th>Limit</th><th>Since</th><th>Last mailed</th></tr>`,
  'No alert rule has been evaluated for this host.',
)}
</section>

<section>
<h2>Recent security events</h2>
${tableOrNote(
  data.events.map(
    (e) =>
      html`<tr><td data-label="Logged">${formatInstant(e.logged_at)}</td><td data-label="Event">${e.event_id}</td><td data-label="Level">${e.level}</td><td data-label="Source">${e.provider}</td><td data-label="Message" class="message">${e.message}</td></tr>`,
  ),
  html`<tr><th>Logged</th><th>Event</th><th>Level</th><th>Source</th><th>Message</th></tr>`,
  'No security events stored.',
)}
</section>

<section>
<h2>Errors</h2>
${tableOrNote(
  data.errors.map(
    (e) =>
      html`<tr><td data-label="When">${formatInstant(e.occurred_at)}</td><td data-label="Round"><a href="/rounds">#${e.round_id}</a></td><td data-label="Stage">${e.stage}</td><td data-label="Message" class="message">${e.message}</td></tr>`,
  ),
  html`<tr><th>When</th><th>Round</th><th>Stage</th><th>Message</th></tr>`,
  'No errors recorded.',
)}
</section>`;
  return renderPage({
    title: host.name,
    section: 'host',
    body,
    styles: ['uPlot.min.css'],
    scripts: ['uPlot.iife.min.js', 'host-charts.js'],
    data: { 'host-id': String(host.id), 'range-seconds': String(CHART_RANGES[data.range]) },
  });
}
