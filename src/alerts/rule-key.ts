/**
 * The identity of an alert rule within one host: its type, the mount it watches (disk rules) and
 * its severity. The key is what table `alerts` stores in `rule`, so a warning and a critical
 * rule of one type keep separate states, and a rule keeps its state when only its limit changes.
 */
import { createHash } from 'node:crypto';
import type { AlertRule } from '../config/types.js';

/** `alerts.rule` is varchar(32): longer keys (deep mount paths) name the mount by a short hash. */
export const MAX_RULE_KEY_CHARS = 32;

/**
 * The stored key of a rule: `memory` for a warning rule without a mount (so states stored
 * before severities existed carry on), `memory:critical`, `disk@/var`, `disk@/var:critical`;
 * a key over 32 characters becomes `disk@#<12 hex of sha256(mount)>[:severity]`.
 */
export function ruleKey(rule: Pick<AlertRule, 'type' | 'severity' | 'mount'>): string {
  const suffix = rule.severity === 'warning' ? '' : `:${rule.severity}`;
  if (rule.mount === undefined) return `${rule.type}${suffix}`;
  const plain = `${rule.type}@${rule.mount}${suffix}`;
  if (plain.length <= MAX_RULE_KEY_CHARS) return plain;
  const digest = createHash('sha256').update(rule.mount).digest('hex').slice(0, 12);
  return `${rule.type}@#${digest}${suffix}`;
}
