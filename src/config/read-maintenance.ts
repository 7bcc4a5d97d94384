/**
 * Reads `<maintenance every="sun" from="02:00" to="04:00" rule="disk"/>` inside a `<client>`:
 * a weekly (or daily) window in UTC during which the client's alerts are still evaluated and
 * shown, but no alert mail goes out.
 */
import { parseTimeOfDay, type MaintenanceWindow } from './maintenance-window.js';
import { AttributeReader, checkChildren } from './attribute-reader.js';
import { MAINTENANCE_ATTRIBUTES } from './elements.js';
import type { IssueLog } from './issues.js';
import type { Parsed } from './value-parsers.js';
import type { XmlElement } from './xml-tree.js';

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Reads one `<maintenance>`; undefined when invalid (errors recorded at their lines). */
export function readMaintenance(element: XmlElement, issues: IssueLog): MaintenanceWindow | undefined {
  checkChildren(element, [], issues);
  const reader = new AttributeReader(element, issues, MAINTENANCE_ATTRIBUTES);
  const days = reader.has('every') ? reader.parse('every', parseDays) : missing(reader, 'every');
  const fromMinute = reader.has('from') ? reader.parse('from', parseTime) : missing(reader, 'from');
  const toMinute = reader.has('to') ? reader.parse('to', parseTime) : missing(reader, 'to');
  const rule = reader.text('rule');
  if (days === undefined || fromMinute === undefined || toMinute === undefined) return undefined;
  if (fromMinute === toMinute) {
    issues.error(reader.line('to'), `maintenance from and to are both ${reader.text('to')}: the window would be empty`);
    return undefined;
  }
  return { days, fromMinute, toMinute, line: element.line, ...(rule === undefined ? {} : { rule }) };
}

function missing(reader: AttributeReader, name: string): undefined {
  reader.required(name);
  return undefined;
}

function parseDays(text: string): Parsed<number[]> {
  if (text.trim() === 'day') return { ok: true, value: [0, 1, 2, 3, 4, 5, 6] };
  const days: number[] = [];
  for (const part of text.split(',').map((p) => p.trim().toLowerCase())) {
    const index = DAY_NAMES.findIndex((name) => name === part);
    if (index === -1) return { ok: false, reason: `is not "day" or a comma-separated list of ${DAY_NAMES.join(', ')}` };
    days.push(index);
  }
  return { ok: true, value: [...new Set(days)] };
}

function parseTime(text: string): Parsed<number> {
  const minute = parseTimeOfDay(text);
  return minute === undefined
    ? { ok: false, reason: 'is not a UTC time of day like 02:00 or 23:30' }
    : { ok: true, value: minute };
}
