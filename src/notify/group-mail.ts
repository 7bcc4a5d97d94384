/**
 * The grouped mail: every alert change of one round for one recipient, across hosts, in one
 * plain-text mail. A summary on top (counts by kind and severity, hosts involved), then one line
 * per change, then the full text of as many changes as fit. A single change is mailed as it is.
 */
import { MAX_BODY_CHARS, sanitizeBody, sanitizeSubject } from './mail-text.js';
import { oneLine } from '../text/untrusted-text.js';
import type { NotificationKind } from './notifications.js';

/** One waiting change, as read back from `notifications`. */
export interface GroupedChange {
  hostId: number;
  transition: NotificationKind;
  severity: string;
  summary: string;
  details: string;
}

const KIND_ORDER: readonly NotificationKind[] = ['firing', 'reminder', 'resolved', 'events'];
const KIND_LABEL: Record<NotificationKind, string> = {
  firing: 'Firing',
  reminder: 'Still firing',
  resolved: 'Resolved',
  events: 'Security events',
};
const SEVERITY_ORDER = ['critical', 'warning', 'info'];
// Room left for the summary and the change list; details fill the rest of the body budget.
const DETAILS_BUDGET = MAX_BODY_CHARS - 16 * 1024;

/** Renders the grouped mail of `changes` (at least one) for one recipient at `at`. */
export function renderGroupedMail(changes: readonly GroupedChange[], at: Date): { subject: string; body: string } {
  const [only] = changes;
  if (changes.length === 1 && only !== undefined) {
    return { subject: sanitizeSubject(`[fleetstat] ${only.summary}`), body: sanitizeBody(only.details) };
  }
  const sorted = [...changes].sort((a, b) => rank(a) - rank(b));
  const hosts = new Set(changes.map((c) => c.hostId)).size;
  const counts = countsByKind(changes);
  const subject = sanitizeSubject(
    `[fleetstat] ${changes.length} changes on ${hosts} host${hosts === 1 ? '' : 's'}: ${subjectCounts(counts)}`,
  );

  const lines = [
    `${changes.length} alert changes on ${hosts} host${hosts === 1 ? '' : 's'}, ${at.toISOString()} (UTC)`,
    '',
  ];
  for (const kind of KIND_ORDER) {
    const entry = counts.get(kind);
    if (entry === undefined) continue;
    const bySeverity = kind === 'events' ? '' : `  (${severityBreakdown(entry.severities)})`;
    lines.push(`  ${`${KIND_LABEL[kind]}:`.padEnd(17)}${String(entry.total).padStart(5)}${bySeverity}`);
  }
  lines.push('', 'Changes:');
  for (const change of sorted) lines.push(`  ${oneLine(change.summary, 300)}`);
  lines.push('', 'Details', '=======');

  let used = 0;
  let shown = 0;
  for (const [index, change] of sorted.entries()) {
    const section = `\n--- ${index + 1} of ${sorted.length} ---\n${change.details}`;
    if (used + section.length > DETAILS_BUDGET) break;
    lines.push(section);
    used += section.length;
    shown++;
  }
  if (shown < sorted.length) {
    lines.push(
      '',
      `[details of ${sorted.length - shown} more change${sorted.length - shown === 1 ? '' : 's'} left out to keep this mail readable; each is listed above and on the dashboard's alerts page]`,
    );
  }
  lines.push(
    '',
    '-- ',
    'fleetstat (one mail per recipient per round; set alert-mail="per-change" for one mail per change)',
  );
  return { subject, body: sanitizeBody(lines.join('\n')) };
}

interface KindCount {
  total: number;
  severities: Map<string, number>;
}

function countsByKind(changes: readonly GroupedChange[]): Map<NotificationKind, KindCount> {
  const counts = new Map<NotificationKind, KindCount>();
  for (const change of changes) {
    const entry = counts.get(change.transition) ?? { total: 0, severities: new Map<string, number>() };
    entry.total++;
    entry.severities.set(change.severity, (entry.severities.get(change.severity) ?? 0) + 1);
    counts.set(change.transition, entry);
  }
  return counts;
}

function severityBreakdown(severities: Map<string, number>): string {
  return [...severities.entries()]
    .sort(([a], [b]) => severityRank(a) - severityRank(b))
    .map(([severity, n]) => `${severity} ${n}`)
    .join(', ');
}

function subjectCounts(counts: Map<NotificationKind, KindCount>): string {
  return KIND_ORDER.flatMap((kind) => {
    const entry = counts.get(kind);
    if (entry === undefined) return [];
    const critical = entry.severities.get('critical') ?? 0;
    const label = kind === 'events' ? 'with security events' : KIND_LABEL[kind].toLowerCase();
    return [`${entry.total} ${label}${critical > 0 && kind !== 'events' ? ` (${critical} critical)` : ''}`];
  }).join(', ');
}

/** Firing before reminders before resolutions before events; critical first within each. */
function rank(change: GroupedChange): number {
  return KIND_ORDER.indexOf(change.transition) * 10 + severityRank(change.severity);
}

function severityRank(severity: string): number {
  const index = SEVERITY_ORDER.indexOf(severity);
  return index === -1 ? SEVERITY_ORDER.length : index;
}
