/** The rounds page `/rounds`: each collection round with its duration, hosts ok/failed and errors by stage. */
import { html } from '../html.js';
import type { OutboxCounts } from '../queries/outbox-counts.js';
import type { RoundView } from '../queries/rounds.js';
import { formatDuration, formatInstant } from './display-format.js';
import { renderPage } from './layout.js';
import { tableOrNote } from './widgets.js';

/** Renders the rounds document. */
export function renderRoundsPage(rounds: RoundView[], outbox: OutboxCounts): string {
  const rows = rounds.map(
    (r) => html`<tr>
<td data-label="Round">#${r.id}</td><td data-label="Started">${formatInstant(r.started_at)}</td>
<td data-label="Duration">${r.finished_at ? formatDuration(r.duration_seconds) : html`<span class="badge badge-pending">running</span>`}</td>
<td data-label="OK"><span class="ok-count">${r.hosts_ok}</span></td>
<td data-label="Failed">${r.hosts_failed > 0 ? html`<span class="badge badge-error">${r.hosts_failed}</span>` : '0'}</td>
<td data-label="Errors by stage">${Object.entries(r.errors_by_stage).map(([stage, n]) => html`<span class="chip">${stage}: ${n}</span> `)}</td></tr>`,
  );
  const body = html`<h1>Rounds</h1>
<p class="muted">Mail outbox: ${outbox.queued} queued, ${outbox.sent} sent, ${outbox.failed} failed or retrying.</p>
${tableOrNote(rows, html`<tr><th>Round</th><th>Started</th><th>Duration</th><th>OK</th><th>Failed</th><th>Errors by stage</th></tr>`, 'No rounds yet.')}`;
  return renderPage({ title: 'Rounds', section: 'rounds', body });
}
