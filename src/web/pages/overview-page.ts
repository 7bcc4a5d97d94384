/** The fleet overview `/`: one row per host with status, last seen, CPU/memory/disk and firing alerts. */
import { html, type SafeHtml } from '../html.js';
import type { FleetHost } from '../queries/fleet-hosts.js';
import type { RoundView } from '../queries/rounds.js';
import { formatDuration } from './display-format.js';
import { renderPage } from './layout.js';
import { statusBadge, tableOrNote, timeAgo, usageMeter } from './widgets.js';
import { HOST_FILTERS, filterHosts, triageOrder, type HostFilter, type HostLimits } from './triage.js';

/** What the overview shows besides the hosts: the filters from the URL, firing rules and limits. */
export interface OverviewView {
  filter: HostFilter;
  query: string;
  /** Rule types firing, per host id. */
  firingRules: ReadonlyMap<number, readonly string[]>;
  /** Each host's own limits, per "ip:port". */
  limits: ReadonlyMap<string, HostLimits>;
  /** Above the cards, e.g. "collection is behind" (empty by default). */
  banner?: SafeHtml;
}

const NO_VIEW: OverviewView = { filter: 'all', query: '', firingRules: new Map(), limits: new Map() };

/** The filter form: a plain GET form, so the filters live in the URL and need no script. */
function filterForm(view: OverviewView, shown: number, total: number) {
  return html`<form class="filters" method="get" action="/" role="search">
<label>Find <input type="search" name="q" value="${view.query}" placeholder="name or address" autocomplete="off"></label>
<label>Status <select name="status">${HOST_FILTERS.map((f) => html`<option value="${f}"${f === view.filter ? html` selected` : ''}>${f}</option>`)}</select></label>
<button type="submit">Filter</button>
<span class="muted small" id="shown-count">${shown} of ${total} hosts</span>
</form>`;
}

/** Renders the overview document: hosts in triage order (trouble first), filtered as the URL says. */
export function renderOverviewPage(
  allHosts: FleetHost[],
  round: RoundView | undefined,
  now: Date,
  view: OverviewView = NO_VIEW,
): string {
  const count = (status: string) => allHosts.filter((h) => h.status === status).length;
  const firing = allHosts.reduce((sum, h) => sum + h.firing_alerts, 0);
  const hosts = triageOrder(filterHosts(allHosts, view.filter, view.query));
  const rows = hosts.map((h) => {
    const limits = view.limits.get(`${h.ip}:${h.port}`) ?? {};
    const rules = h.id === null ? [] : (view.firingRules.get(h.id) ?? []);
    const name = h.id === null ? html`${h.name}` : html`<a href="/hosts/${h.id}">${h.name}</a>`;
    return html`<tr class="host-row" data-status="${h.status}">
<td data-label="Status">${statusBadge(h.status)}</td>
<td data-label="Host" class="host-name"><div>${name}<div class="muted small">${h.ip}:${h.port}${h.in_config ? '' : html` · <span class="badge badge-unknown">not in config</span>`}</div></div></td>
<td data-label="Last seen">${timeAgo(h.last_seen, now)}</td>
<td data-label="CPU">${usageMeter(h.latest?.cpu_percent, 'CPU', limits.cpu)}</td>
<td data-label="Memory">${usageMeter(h.latest?.mem_percent, 'memory', limits.memory)}</td>
<td data-label="Disk">${usageMeter(h.latest?.disk_max_percent, 'fullest disk', limits.disk)}</td>
<td data-label="Alerts">${h.firing_alerts > 0 ? html`<a class="badge badge-firing" href="/alerts">${rules.length > 0 ? `${rules.join(', ')} firing` : `${h.firing_alerts} firing`}</a>` : html`<span class="muted">0</span>`}</td>
<td data-label="Problem" class="problem">${h.error ? html`<strong>${h.error.stage}</strong>: ${h.error.message}` : h.id === null ? html`<span class="muted">not collected yet</span>` : ''}</td>
</tr>`;
  });
  const head = html`<tr><th>Status</th><th>Host</th><th>Last seen</th><th>CPU</th><th>Memory</th><th>Disk (fullest)</th><th>Alerts</th><th>Problem</th></tr>`;
  const body = html`<h1>Fleet</h1>
${view.banner ?? ''}<section class="cards" aria-label="summary">
<div class="card"><span class="big">${allHosts.length}</span> hosts</div>
<div class="card card-up"><span class="big">${count('up')}</span> up</div>
<div class="card card-down"><span class="big">${count('down')}</span> down</div>
<div class="card card-error"><span class="big">${count('error')}</span> error</div>
<div class="card${firing > 0 ? ' card-firing' : ''}"><span class="big">${firing}</span> alerts firing</div>
<div class="card">${
    round
      ? html`last round <a href="/rounds">#${round.id}</a> ${timeAgo(round.finished_at, now)}, took ${formatDuration(round.duration_seconds)}`
      : html`<span class="muted">no round finished yet</span>`
  }</div>
</section>
${allHosts.length > 0 ? filterForm(view, hosts.length, allHosts.length) : ''}
${tableOrNote(rows, head, allHosts.length > 0 ? 'No host matches the filter.' : 'No hosts yet: add clients to the config and run a round.')}`;
  return renderPage({ title: 'Fleet', section: 'overview', body });
}
