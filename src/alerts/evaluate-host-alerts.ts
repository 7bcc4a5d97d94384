/**
 * The alert step of a round for one host: measure each rule, advance its stored state, and queue
 * the mails the transitions call for, all in one transaction, so a state change and its mail are
 * stored together or not at all.
 */
import type { Kysely } from 'kysely';
import type { AlertRule, AlertType } from '../config/types.js';
import type { Report } from '../probe/report.js';
import type { Database } from '../store/schema.js';
import { renderAlertMail } from '../notify/alert-mail.js';
import { parseRecipients } from '../notify/mail-text.js';
import { enqueueMail } from '../notify/outbox.js';
import { nextAlertState, type AlertTransition } from './alert-state.js';
import { deleteAlertStatesExcept, loadAlertStates, saveAlertState } from './alert-state-store.js';
import { effectiveLimit, observe } from './measure.js';
import { SECURITY_LOG_RULE } from './security-log-state.js';

export interface HostAlertInput {
  hostId: number;
  hostName: string;
  ip: string;
  /** The client's configured recipients; without it states are still tracked but nothing is mailed. */
  mail?: string;
  rules: readonly AlertRule[];
  /** This run's report, or null when the host could not be collected. */
  report: Report | null;
  /** Why the host failed, shown in the unreachable mail. */
  error?: { stage: string; message: string };
  now: Date;
}

/** A mail produced by one rule's transition. */
export interface AlertMail {
  rule: AlertType;
  transition: Exclude<AlertTransition, 'none'>;
  /** Recipients it was queued for; empty when the client has no mail address. */
  to: string[];
  subject: string;
  body: string;
  /** Outbox row ids, one per recipient. */
  outboxIds: number[];
}

/**
 * Evaluates every rule of one host against this run's report (or its failure), stores the new
 * states in `alerts`, queues one mail per transition and recipient in `outbox`, and returns the
 * mails. A second rule of the same type for one host is ignored (one state per host+rule type).
 * Throws, naming the host, if the configured recipients are not plain addresses.
 */
export async function evaluateHostAlerts(db: Kysely<Database>, input: HostAlertInput): Promise<AlertMail[]> {
  let recipients: string[];
  try {
    recipients = input.mail ? parseRecipients(input.mail) : [];
  } catch (error) {
    throw new Error(`alerts for ${input.hostName} (${input.ip}): ${(error as Error).message}`);
  }
  const rules = firstRulePerType(input.rules);
  const evaluate = (trx: Kysely<Database>) => evaluateInTransaction(trx, input, rules, recipients);
  // Join the caller's transaction when given one; Kysely cannot nest them.
  return db.isTransaction ? evaluate(db) : db.transaction().execute(evaluate);
}

async function evaluateInTransaction(
  db: Kysely<Database>,
  input: HostAlertInput,
  rules: AlertRule[],
  recipients: string[],
): Promise<AlertMail[]> {
  const stored = await loadAlertStates(db, input.hostId);
  const mails: AlertMail[] = [];
  for (const rule of rules) {
    const measurement = observe(rule, input.report);
    const limit = effectiveLimit(rule);
    const step = nextAlertState(stored.get(rule.type), { value: measurement.value, limit, now: input.now, rule });
    await saveAlertState(db, input.hostId, rule.type, step.state, stored.has(rule.type));
    if (step.transition === 'none') continue;

    const rendered = renderAlertMail({
      hostName: input.hostName,
      ip: input.ip,
      rule,
      value: step.state.value,
      limit,
      transition: step.transition,
      at: input.now,
      detail: detailFor(rule, measurement.detail, input),
    });
    const outboxIds = recipients.length > 0 ? await enqueueMail(db, { to: recipients, ...rendered, now: input.now }) : [];
    mails.push({ rule: rule.type, transition: step.transition, to: recipients, ...rendered, outboxIds });
  }
  // The security-log row is not a configured rule: it is kept (see security-log-state.ts).
  await deleteAlertStatesExcept(db, input.hostId, [...rules.map((rule) => rule.type), SECURITY_LOG_RULE]);
  return mails;
}

function firstRulePerType(rules: readonly AlertRule[]): AlertRule[] {
  const seen = new Set<AlertType>();
  return rules.filter((rule) => !seen.has(rule.type) && seen.add(rule.type));
}

function detailFor(rule: AlertRule, measured: string | undefined, input: HostAlertInput): string | undefined {
  if (rule.type === 'unreachable' && input.report === null && input.error) {
    return `failed at stage ${input.error.stage}: ${input.error.message}`;
  }
  return measured;
}
