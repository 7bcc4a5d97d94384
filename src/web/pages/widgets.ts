/** Small pieces shared by the pages: status badges, usage meters, timestamps. */
import { html, type SafeHtml } from '../html.js';
import { formatAgo, formatInstant, formatPercent } from './display-format.js';

/** A coloured status word; the class is chosen from a fixed set, never from host data. */
export function statusBadge(status: string): SafeHtml {
  const known = ['up', 'down', 'error', 'unknown', 'firing', 'pending', 'ok'];
  const cls = known.includes(status) ? status : 'unknown';
  return html`<span class="badge badge-${cls}">${status}</span>`;
}

/**
 * A percentage as a <meter> (no inline style needed, so the CSP stays strict) with its value.
 * With the host's own alert `limit` the bar turns red above it and amber within 10 points of
 * it; without one, at 90 and 75.
 */
export function usageMeter(percent: number | null | undefined, label: string, limit?: number): SafeHtml {
  if (percent === null || percent === undefined) return html`<span class="muted">–</span>`;
  const value = Math.min(100, Math.max(0, percent));
  // Chromium colours red only above `high` while optimum (0) sits below `low`: keep low above 0.
  const high = Math.max(limit ?? 90, 0.1);
  const low = limit === undefined ? 75 : Math.min(Math.max(limit - 10, 0.05), high);
  const title = `${label} ${formatPercent(percent)}${limit === undefined ? '' : `, limit ${formatPercent(limit)}`}`;
  return html`<span class="usage"><meter min="0" max="100" low="${low.toFixed(1)}" high="${high.toFixed(1)}" optimum="0" value="${value.toFixed(1)}" title="${title}"${limit === undefined ? '' : html` data-limit="${limit.toFixed(1)}"`}>${formatPercent(percent)}</meter><span class="usage-value">${formatPercent(percent)}</span></span>`;
}

/** An instant as relative text with the exact UTC time on hover. */
export function timeAgo(iso: string | null | undefined, now: Date): SafeHtml {
  if (!iso) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}" title="${formatInstant(iso)}">${formatAgo(iso, now)}</time>`;
}

/** A table with a caption-like heading, or a short note when there are no rows. */
export function tableOrNote(rows: SafeHtml[], head: SafeHtml, emptyNote: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${emptyNote}</p>`;
  return html`<div class="table-wrap"><table><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
}
