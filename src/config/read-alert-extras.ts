/**
 * The parts of an `<alert>` that let several rules share a type: `severity`, `mount` (disk
 * rules) and `clear` (hysteresis), and the check that no two rules of one client are the same
 * rule (same type, mount and severity).
 */
import type { AttributeReader } from './attribute-reader.js';
import { ALERT_DEFAULTS } from './defaults.js';
import type { IssueLog } from './issues.js';
import { ALERT_SEVERITIES, type AlertRule, type AlertSeverity, type AlertType } from './types.js';
import { parseChoice, parseLoadLimit, parsePercent, type Parsed } from './value-parsers.js';

/** What `readRuleExtras` adds to a rule. */
export interface RuleExtras {
  severity: AlertSeverity;
  mount?: string;
  clearLimit?: number;
}

const MAX_MOUNT_CHARS = 512;

/**
 * Reads `severity`, `mount` and `clear`. Returns undefined when one is invalid (errors recorded
 * at the attribute's line). `mount` is for disk rules only; `clear` must be below `limit`.
 */
export function readRuleExtras(
  reader: AttributeReader,
  type: AlertType | undefined,
  limit: number | undefined,
  issues: IssueLog,
): RuleExtras | undefined {
  const severity = reader.parse('severity', (t) => parseChoice(t, ALERT_SEVERITIES), ALERT_DEFAULTS.severity);
  let valid = severity !== undefined;
  const extras: RuleExtras = { severity: severity ?? ALERT_DEFAULTS.severity };

  if (reader.has('mount')) {
    if (type !== undefined && type !== 'disk') {
      issues.error(reader.line('mount'), `alert type "${type}" takes no mount; only disk rules watch one mount`);
      valid = false;
    } else {
      const mount = reader.parse('mount', parseMount);
      if (mount === undefined) valid = false;
      else extras.mount = mount;
    }
  }

  if (reader.has('clear') && type !== undefined) {
    const clearLimit = readClear(reader, type, limit, issues);
    if (clearLimit === undefined) valid = false;
    else extras.clearLimit = clearLimit;
  }
  return valid ? extras : undefined;
}

function readClear(
  reader: AttributeReader,
  type: AlertType,
  limit: number | undefined,
  issues: IssueLog,
): number | undefined {
  if (type === 'unreachable') {
    issues.error(reader.line('clear'), 'alert type "unreachable" takes no clear level');
    return undefined;
  }
  const clearLimit = reader.parse('clear', type === 'load' ? parseLoadLimit : parsePercent);
  if (clearLimit === undefined || limit === undefined) return undefined;
  if (clearLimit >= limit) {
    issues.error(
      reader.line('clear'),
      `alert clear "${reader.text('clear')}" must be below the limit (${limit}): the alert resolves once the value falls to it`,
    );
    return undefined;
  }
  return clearLimit;
}

function parseMount(text: string): Parsed<string> {
  // Control characters would let a config line forge a line of a mail; the mount is compared verbatim.
  if (/[\u0000-\u001f\u007f]/.test(text)) return { ok: false, reason: 'contains control characters' };
  if (text.length > MAX_MOUNT_CHARS) return { ok: false, reason: `is longer than ${MAX_MOUNT_CHARS} characters` };
  return { ok: true, value: text };
}

/**
 * Reports a rule that repeats an earlier one of the same client (same type, mount and
 * severity), on its own line, naming the first: both could not keep one state apart.
 */
export function reportDuplicateRules(rules: readonly AlertRule[], issues: IssueLog): void {
  const first = new Map<string, AlertRule>();
  for (const rule of rules) {
    const identity = `${rule.type}\n${rule.mount ?? ''}\n${rule.severity}`;
    const earlier = first.get(identity);
    if (earlier === undefined) {
      first.set(identity, rule);
      continue;
    }
    const what = `${rule.type}${rule.mount === undefined ? '' : ` mount="${rule.mount}"`} severity="${rule.severity}"`;
    issues.error(
      rule.line,
      `alert duplicates the rule on line ${earlier.line} (${what}); give one of them another severity${rule.type === 'disk' ? ' or mount' : ''}, or remove it`,
    );
  }
}
