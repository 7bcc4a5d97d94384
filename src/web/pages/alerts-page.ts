/**
 * The alerts page `/alerts`: firing alerts first, then the others, each with its severity; then
 * what became of the mail: delivered, queued, retrying and failed counts, and the undelivered
 * mails with their tries and last error. "Last notice" is when a mail about the alert was
 * queued; whether it arrived is in the delivery section.
 */
import { html, type SafeHtml } from '../html.js';
import type { SilenceView } from '../../alerts/silence-store.js';
import type { AlertView } from '../queries/host-details.js';
import type { UndeliveredMail } from '../queries/mail-delivery.js';
import type { OutboxCounts } from '../queries/outbox-counts.js';
import { formatInstant } from './display-format.js';
import { renderPage } from './layout.js';
import { statusBadge, tableOrNote, timeAgo } from './widgets.js';

/** The delivery section's data, and the silences that have not ended. */
export interface DeliveryView {
  counts: OutboxCounts;
  undelivered: UndeliveredMail[];
  silences?: SilenceView[];
}

function alertTable(alerts: AlertView[], now: Date, emptyNote: string): SafeHtml {
  const rows = alerts.map(
    (a) => html`<tr class="alert-row" data-state="${a.state}" data-severity="${a.severity}">
<td data-label="Host"><div><a href="/hosts/${a.host_id}">${a.host_name}</a><div class="muted small">${a.ip}</div></div></td>
<td data-label="Rule">${a.mount === null ? a.rule.split(':')[0] : html`disk ${a.mount}`}</td><td data-label="Severity">${a.severity}</td><td data-label="State">${statusBadge(a.state)}${a.muted ? html` <span class="muted small" title="its firing was not mailed: silence, maintenance window or inhibition">muted</span>` : html``}</td>
<td data-label="Value">${a.value === null ? '–' : a.value.toFixed(1)}</td><td data-label="Limit">${a.limit_value}</td>
<td data-label="Since">${timeAgo(a.since, now)}</td><td data-label="Last notice">${timeAgo(a.last_notified_at, now)}</td></tr>`,
  );
  return tableOrNote(
    rows,
    html`<tr><th>Host</th><th>Rule</th><th>Severity</th><th>State</th><th>Value</th><th>Limit</th><th>Since</th><th>Last notice</th></tr>`,
    emptyNote,
  );
}

function deliverySection(delivery: DeliveryView, now: Date): SafeHtml {
  const { counts } = delivery;
  const rows = delivery.undelivered.map(
    (m) => html`<tr class="mail-row" data-status="${m.status}">
<td data-label="Status">${m.status}</td><td data-label="To">${m.recipient}</td><td data-label="Subject">${m.subject}</td>
<td data-label="Queued">${timeAgo(m.created_at, now)}</td><td data-label="Tries">${m.tries}</td><td data-label="Last error">${m.last_error ?? ''}</td></tr>`,
  );
  return html`<section id="delivery"><h2>Mail delivery</h2>
<p id="delivery-counts">Delivered ${counts.sent} · queued ${counts.queued} · retrying ${counts.retrying} · failed ${counts.failed}</p>
${tableOrNote(rows, html`<tr><th>Status</th><th>To</th><th>Subject</th><th>Queued</th><th>Tries</th><th>Last error</th></tr>`, 'Every mail tried so far was delivered.')}</section>`;
}

function silenceSection(silences: SilenceView[]): SafeHtml {
  const rows = silences.map(
    (s) => html`<tr class="silence-row" data-active="${String(s.active)}">
<td data-label="Id">${s.id}</td><td data-label="Hosts">${s.host_pattern}</td><td data-label="Rule">${s.rule ?? 'every rule'}</td>
<td data-label="Until"><time datetime="${s.ends_at}">${formatInstant(s.ends_at)}</time></td><td data-label="Author">${s.author}</td><td data-label="Comment">${s.comment}</td></tr>`,
  );
  return html`<section id="silences"><h2>Silences (${silences.length})</h2>
${tableOrNote(rows, html`<tr><th>Id</th><th>Hosts</th><th>Rule</th><th>Until</th><th>Author</th><th>Comment</th></tr>`, 'No silences. Add one with: fleetstat silence add --host <pattern> --duration 2h --comment <why>')}</section>`;
}

/** Renders the alerts document. */
export function renderAlertsPage(alerts: AlertView[], now: Date, delivery?: DeliveryView): string {
  const firing = alerts.filter((a) => a.state === 'firing');
  const others = alerts.filter((a) => a.state !== 'firing');
  const body = html`<h1>Alerts</h1>
<section id="firing"><h2>Firing (${firing.length})</h2>${alertTable(firing, now, 'Nothing is firing.')}</section>
<section id="recent"><h2>Pending and resolved</h2>${alertTable(others, now, 'No other alert states.')}</section>
${delivery?.silences === undefined ? html`` : silenceSection(delivery.silences)}
${delivery === undefined ? html`` : deliverySection(delivery, now)}`;
  return renderPage({ title: 'Alerts', section: 'alerts', body });
}
