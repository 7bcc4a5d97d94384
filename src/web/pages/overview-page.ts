/** The fleet overview `/`: one row per host with status, last seen, CPU/memory/disk and firing alerts. */
import { html, type SafeHtml } from '../html.js';
import type { FleetHost } from '../queries/fleet-hosts.js';
import type { RoundView } from '../queries/rounds.js';
import { formatDuration } from './display-format.js';
import { renderPage } from './layout.js';
import { statusBadge, tableOrNote, timeAgo, usageMeter } from './widgets.js';

/** Renders the overview document; `banner` (e.g. "collection is behind") goes above the cards. */
export function renderOverviewPage(hosts: FleetHost[], round: RoundView | undefined, now: Date, banner: SafeHtml = html``): string {
  const count = (status: string) => hosts.filter((h) => h.status === status).length;
  const firing = hosts.reduce((sum, h) => sum + h.firing_alerts, 0);
  const rows = hosts.map((h) => {
    const name = h.id === null ? html`${h.name}` : html`<a href="/hosts/${h.id}">${h.name}</a>`;
    return html`<tr class="host-row" data-status="${h.status}">
<td data-label="Status">${statusBadge(h.status)}</td>
<td data-label="Host" class="host-name"><div>${name}<div class="muted small">${h.ip}:${h.port}${h.in_config ? '' : html` · <span class="badge badge-unknown">not in config</span>`}</div></div></td>
<td data-label="Last seen">${timeAgo(h.last_seen, now)}</td>
<td data-label="CPU">${usageMeter(h.latest?.cpu_percent, 'CPU')}</td>
<td data-label="Memory">${usageMeter(h.latest?.mem_percent, 'memory')}</td>
<td data-label="Disk">${usageMeter(h.latest?.disk_max_percent, 'fullest disk')}</td>
<td data-label="Alerts">${h.firing_alerts > 0 ? html`<a class="badge badge-firing" href="/alerts">${h.firing_alerts} firing</a>` : html`<span class="muted">0</span>`}</td>
<td data-label="Problem" class="problem">${h.error ? html`<strong>${h.error.stage}</strong>: ${h.error.message}` : h.id === null ? html`<span class="muted">not collected yet</span>` : ''}</td>
</tr>`;
  });
  const head = html`<tr><th>Status</th><th>Host</th><th>Last seen</th><th>CPU</th><th>Memory</th><th>Disk (fullest)</th><th>Alerts</th><th>Problem</th></tr>`;
  const body = html`<h1>Fleet</h1>
${banner}<section class="cards" aria-label="summary">
<div class="card"><span class="big">${hosts.length}</span> hosts</div>
<div class="card card-up"><span class="big">${count('up')}</span> up</div>
<div class="card card-down"><span class="big">${count('down')}</span> down</div>
<div class="card card-error"><span class="big">${count('error')}</span> error</div>
<div class="card${firing > 0 ? ' card-firing' : ''}"><span class="big">${firing}</span> alerts firing</div>
<div class="card">${round
    ? html`last round <a href="/rounds">#${round.id}</a> ${timeAgo(round.finished_at, now)}, took ${formatDuration(round.duration_seconds)}`
    : html`<span class="muted">no round finished yet</span>`}</div>
</section>
${tableOrNote(rows, head, 'No hosts yet: add clients to the config and run a round.')}`;
  return renderPage({ title: 'Fleet', section: 'overview', body });
}
