/**
 * Writes a loaded config the way it would be written without groups, defaults, ranges or
 * includes: one `<client>` block per machine, every inherited attribute and rule repeated. Used
 * to measure what groups save (docs/examples/300-hosts) and to check the two load the same.
 */
import { provenanceOf } from '../../src/config/read-fleet.js';
import type { AlertRule, Config } from '../../src/config/types.js';

const PERCENT_TYPES = new Set(['memory', 'cpu', 'disk', 'swap']);

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function alertLine(rule: AlertRule): string {
  const attrs = [`type="${rule.type}"`];
  if (rule.type !== 'unreachable') attrs.push(`limit="${rule.limit}${PERCENT_TYPES.has(rule.type) ? '%' : ''}"`);
  if (rule.forSeconds > 0) attrs.push(`for="${rule.forSeconds}s"`);
  if (rule.repeatSeconds !== 4 * 3600) attrs.push(`repeat="${rule.repeatSeconds}s"`);
  if (rule.notify !== 'on-change') attrs.push(`notify="${rule.notify}"`);
  return `    <alert ${attrs.join(' ')}/>`;
}

/** The client blocks (no header) of `config`, one per machine, as lines. */
export function flatClientLines(config: Config): string[] {
  const lines: string[] = [];
  for (const client of config.clients) {
    const raw = new Map(provenanceOf(client)?.raw ?? []);
    raw.delete('hosts-file');
    raw.set('ip', client.ip);
    raw.set('name', client.name);
    const ordered = ['ip', 'name', ...[...raw.keys()].filter((k) => k !== 'ip' && k !== 'name')];
    const head = `  <client ${ordered.map((k) => `${k}="${escapeXml(raw.get(k)!)}"`).join(' ')}`;
    if (client.alerts.length === 0) lines.push(`${head}/>`);
    else lines.push(`${head}>`, ...client.alerts.map(alertLine), '  </client>');
  }
  return lines;
}
