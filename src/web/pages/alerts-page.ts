/** The alerts page `/alerts`: firing alerts first, then the others, with when they were last mailed. */
import { html, type SafeHtml } from '../html.js';
import type { AlertView } from '../queries/host-details.js';
import { renderPage } from './layout.js';
import { statusBadge, tableOrNote, timeAgo } from './widgets.js';

function alertTable(alerts: AlertView[], now: Date, emptyNote: string): SafeHtml {
  const rows = alerts.map((a) => html`<tr class="alert-row" data-state="${a.state}">
<td data-label="Host"><div><a href="/hosts/${a.host_id}">${a.host_name}</a><div class="muted small">${a.ip}</div></div></td>
<td data-label="Rule">${a.rule}</td><td data-label="State">${statusBadge(a.state)}</td>
<td data-label="Value">${a.value === null ? '–' : a.value.toFixed(1)}</td><td data-label="Limit">${a.limit_value}</td>
<td data-label="Since">${timeAgo(a.since, now)}</td><td data-label="Last mailed">${timeAgo(a.last_notified_at, now)}</td></tr>`);
  return tableOrNote(rows, html`<tr><th>Host</th><th>Rule</th><th>State</th><th>Value</th><th>Limit</th><th>Since</th><th>Last mailed</th></tr>`, emptyNote);
}

/** Renders the alerts document. */
export function renderAlertsPage(alerts: AlertView[], now: Date): string {
  const firing = alerts.filter((a) => a.state === 'firing');
  const others = alerts.filter((a) => a.state !== 'firing');
  const body = html`<h1>Alerts</h1>
<section id="firing"><h2>Firing (${firing.length})</h2>${alertTable(firing, now, 'Nothing is firing.')}</section>
<section id="recent"><h2>Pending and resolved</h2>${alertTable(others, now, 'No other alert states.')}</section>`;
  return renderPage({ title: 'Alerts', section: 'alerts', body });
}
