/**
 * The alert step of a round for one host: measure each rule, advance its stored state, and queue
 * what the transitions call for, all in one transaction, so a state change and its notice are
 * stored together or not at all. A notice is either a mail of its own in `outbox` (mode
 * `per-change`) or a row in `notifications` that the end of the round folds, with every other
 * change for the same recipient, into one grouped mail (mode `grouped`, see group-mail.ts).
 */
import type { Kysely } from 'kysely';
import type { AlertMailMode, AlertRule, AlertSeverity, AlertType, WebhookConfig } from '../config/types.js';
import type { Report } from '../probe/report.js';
import type { Database } from '../store/schema.js';
import { renderAlertMail } from '../notify/alert-mail.js';
import { alertThreadId } from '../notify/mail-threading.js';
import { parseRecipients } from '../notify/mail-text.js';
import { enqueueNotification } from '../notify/notifications.js';
import { enqueueMail } from '../notify/outbox.js';
import { enqueueWebhooks } from '../notify/webhook-outbox.js';
import { nextAlertState, type AlertTransition } from './alert-state.js';
import { deleteAlertStatesExcept, loadAlertStates, loadMutedRules, saveAlertState } from './alert-state-store.js';
import { effectiveLimit, observe } from './measure.js';
import { ruleKey } from './rule-key.js';
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
  /** `per-change` (default here): one mail per change; `grouped`: wait for the round's grouped mail. */
  mailMode?: AlertMailMode;
  /**
   * Why a rule's notices are held this run (a silence, a maintenance window, inhibition), or
   * undefined. Held rules are still evaluated and stored; see `decideNotice`.
   */
  mutedBy?: (rule: { key: string; type: AlertType }) => string | undefined;
  /** Webhook channels that receive every notice that is not held, one POST each. */
  webhooks?: readonly WebhookConfig[];
}

/** A notice produced by one rule's transition. */
export interface AlertMail {
  rule: AlertType;
  /** The rule's key, as stored in alerts.rule. */
  key: string;
  severity: AlertSeverity;
  transition: Exclude<AlertTransition, 'none'>;
  /** Recipients it was queued for; empty when the client has no mail address. */
  to: string[];
  subject: string;
  body: string;
  /** Outbox row ids, one per recipient (per-change mode). */
  outboxIds: number[];
  /** Notification row ids, one per recipient (grouped mode). */
  notificationIds: number[];
  /** Set when the notice was held (nothing queued): the silence, window or inhibition that held it. */
  heldBy?: string;
  /** Webhook notices queued (one per configured webhook). */
  webhooks: number;
}

/**
 * Evaluates every rule of one host against this run's report (or its failure), stores the new
 * states in `alerts` (one per rule key: type, mount and severity), queues one notice per
 * transition and recipient, and returns them. Throws, naming the host, if the configured
 * recipients are not plain addresses.
 */
export async function evaluateHostAlerts(db: Kysely<Database>, input: HostAlertInput): Promise<AlertMail[]> {
  let recipients: string[];
  try {
    recipients = input.mail ? parseRecipients(input.mail) : [];
  } catch (error) {
    throw new Error(`alerts for ${input.hostName} (${input.ip}): ${(error as Error).message}`, { cause: error });
  }
  const rules = firstRulePerKey(input.rules);
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
  const muted = await loadMutedRules(db, input.hostId);
  const mails: AlertMail[] = [];
  for (const rule of rules) {
    const key = ruleKey(rule);
    const measurement = observe(rule, input.report);
    const limit = effectiveLimit(rule);
    const before = stored.get(key);
    const step = nextAlertState(before, { value: measurement.value, limit, now: input.now, rule });
    const heldBy = input.mutedBy?.({ key, type: rule.type });
    const decision = decideNotice(step.transition, step.state.state, muted.has(key), heldBy);
    await saveAlertState(db, input.hostId, key, step.state, before !== undefined, {
      severity: rule.severity,
      mount: rule.mount ?? null,
      muted: decision.muted,
    });
    if (decision.notice === 'none') continue;
    if (decision.notice === 'held') {
      if (step.transition !== 'none') {
        mails.push({
          rule: rule.type,
          key,
          severity: rule.severity,
          transition: step.transition,
          to: recipients,
          subject: '',
          body: '',
          outboxIds: [],
          notificationIds: [],
          heldBy: decision.heldBy,
          webhooks: 0,
        });
      }
      continue;
    }
    const transition = decision.notice;

    const rendered = renderAlertMail({
      hostName: input.hostName,
      ip: input.ip,
      rule,
      value: step.state.value,
      limit,
      transition,
      at: input.now,
      detail: detailFor(rule, measurement.detail, input),
    });
    // The thread of this firing episode: its firing mail starts it, reminders and the resolution answer it.
    const firingSince = transition === 'firing' ? step.state.since : (before?.since ?? step.state.since);
    const thread = alertThreadId(input.hostId, key, firingSince);
    let outboxIds: number[] = [];
    let notificationIds: number[] = [];
    if (recipients.length > 0 && input.mailMode === 'grouped') {
      notificationIds = await enqueueNotification(db, {
        hostId: input.hostId,
        recipients,
        rule: key,
        severity: rule.severity,
        transition,
        summary: rendered.headline,
        details: rendered.body,
        threadId: thread,
        now: input.now,
      });
    } else if (recipients.length > 0) {
      outboxIds = await enqueueMail(db, {
        to: recipients,
        subject: rendered.subject,
        body: rendered.body,
        now: input.now,
        ...(transition === 'firing' ? { messageId: thread } : { inReplyTo: thread }),
      });
    }
    const webhooks = input.webhooks?.length
      ? await enqueueWebhooks(db, input.webhooks, {
          transition,
          host: { id: input.hostId, name: input.hostName, ip: input.ip },
          rule: {
            key,
            type: rule.type,
            severity: rule.severity,
            ...(rule.mount === undefined ? {} : { mount: rule.mount }),
          },
          value: step.state.value,
          limit,
          headline: rendered.headline,
          text: rendered.body,
          startsAt: firingSince,
          at: input.now,
          fingerprint: thread,
        })
      : 0;
    mails.push({
      rule: rule.type,
      key,
      severity: rule.severity,
      transition,
      to: recipients,
      subject: rendered.subject,
      body: rendered.body,
      outboxIds,
      notificationIds,
      webhooks,
    });
  }
  // The security-log row is not a configured rule: it is kept (see security-log-state.ts).
  await deleteAlertStatesExcept(db, input.hostId, [...rules.map(ruleKey), SECURITY_LOG_RULE]);
  return mails;
}

type Notice = Exclude<AlertTransition, 'none'>;

/** What to do with a transition given holds: send it (maybe as a late `firing`), hold it, or nothing. */
export type NoticeDecision =
  | { notice: 'none'; muted: boolean }
  | { notice: 'held'; heldBy: string; muted: boolean }
  | { notice: Notice; muted: boolean };

/**
 * Holds and their aftermath, kept out of the pure state machine:
 * - a held firing is not sent and the alert is marked muted; a held reminder is not sent;
 * - a resolution is not sent while held, nor when the firing was never sent (muted);
 * - an alert still firing once nothing holds it any more, whose firing was never sent, sends
 *   its `firing` now.
 */
export function decideNotice(
  transition: AlertTransition,
  state: string,
  wasMuted: boolean,
  heldBy: string | undefined,
): NoticeDecision {
  if (transition === 'resolved') {
    if (heldBy !== undefined) return { notice: 'held', heldBy, muted: false };
    return wasMuted
      ? { notice: 'held', heldBy: 'its firing was not mailed', muted: false }
      : { notice: 'resolved', muted: false };
  }
  if (heldBy !== undefined) {
    const firing = state === 'firing';
    if (transition === 'none') return { notice: 'none', muted: wasMuted && firing };
    // A held reminder leaves an already-mailed firing as it was: no second firing mail later.
    return { notice: 'held', heldBy, muted: transition === 'firing' ? firing : wasMuted && firing };
  }
  if (wasMuted && state === 'firing') return { notice: 'firing', muted: false };
  return transition === 'none'
    ? { notice: 'none', muted: wasMuted && state === 'firing' }
    : { notice: transition, muted: false };
}

/** The config reports duplicate rules; this guard keeps one state per key whatever the caller passes. */
function firstRulePerKey(rules: readonly AlertRule[]): AlertRule[] {
  const seen = new Set<string>();
  return rules.filter((rule) => !seen.has(ruleKey(rule)) && seen.add(ruleKey(rule)));
}

function detailFor(rule: AlertRule, measured: string | undefined, input: HostAlertInput): string | undefined {
  if (rule.type === 'unreachable' && input.report === null && input.error) {
    return `failed at stage ${input.error.stage}: ${input.error.message}`;
  }
  return measured;
}
