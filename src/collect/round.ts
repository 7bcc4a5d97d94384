/**
 * One collection round over every client of the config: bounded concurrency, each host
 * collected, stored in its own transaction, its alert rules evaluated; failures are recorded
 * per host with their stage and never stop the round. Mail goes through the durable outbox,
 * drained at the end of the round.
 */
import type { ClientConfig, Config, Settings } from '../config/types.js';
import type { Report } from '../probe/report.js';
import { loadProbeScripts, type ProbeScripts } from '../probe/scripts.js';
import { HostKeyStore } from '../ssh/host-key-policy.js';
import type { Store } from '../store/open-store.js';
import { ensureHost } from '../store/hosts.js';
import { saveReport, type SaveControl, type SavedReport } from '../store/save-report.js';
import { describeLimited, limitReport } from '../store/storage-limits.js';
import { lastEventRecordId } from '../store/events.js';
import { beginRound, finishRound, recordHostError } from '../store/rounds.js';
import { alertHolds } from '../alerts/alert-holds.js';
import { evaluateHostAlerts, type HostAlertInput } from '../alerts/evaluate-host-alerts.js';
import { isFleetOutage, renderOutageNotice, type UnreachableHost } from '../alerts/fleet-outage.js';
import type { SilenceRule } from '../alerts/silence-match.js';
import { activeSilences } from '../alerts/silence-store.js';
import { securityLogBecameUnreadable } from '../alerts/security-log-state.js';
import { flushNotifications } from '../notify/flush-notifications.js';
import { parseRecipients } from '../notify/mail-text.js';
import { enqueueNotification } from '../notify/notifications.js';
import { enqueueMail } from '../notify/outbox.js';
import { renderSecurityEventsMail } from '../notify/security-events-mail.js';
import { collectHost } from './collect-host.js';
import { forEachConcurrently } from './pool.js';
import { importSpool, spoolReport } from './spool.js';
import { MAX_STAGE_MESSAGE_CHARS, StageError, asStageError } from './stage-error.js';
import { oneLine } from '../text/untrusted-text.js';

export type RoundEvent =
  | { type: 'round-start'; roundId: number; total: number }
  | { type: 'host-ok'; client: ClientConfig; report: Report; ms: number }
  | { type: 'host-failed'; client: ClientConfig; error: StageError; ms: number }
  | { type: 'round-end'; summary: RoundSummary };

/** The one-line log form of a failed host, shared by the non-terminal progress and serve's log. */
export function failureLine(client: ClientConfig, error: StageError): string {
  return oneLine(`FAIL ${client.name} [${error.stage}] ${error.describe()}`, 2 * MAX_STAGE_MESSAGE_CHARS + 300);
}

export interface HostOutcome {
  client: ClientConfig;
  ok: boolean;
  error?: StageError;
  ms: number;
  uploadedBytes: number;
  newEvents: number;
  /** Notices queued for this host (mails, changes waiting for the grouped mail, webhook notices); a failed host's come at the end of the round. */
  mailsQueued: number;
  report?: Report;
  /** Set when the database failed and the report waits in the spool. */
  spooledTo?: string;
}

export interface RoundSummary {
  roundId: number;
  startedAt: Date;
  finishedAt: Date;
  outcomes: HostOutcome[];
  hostsOk: number;
  hostsFailed: number;
  /** Notices queued this round: mails, changes for grouped mails, webhook notices. */
  mailsQueued: number;
  /** Reports spooled this round because the database failed. */
  spooled: number;
  /** Reports of earlier rounds imported from the spool at the start of this one. */
  spoolImported: number;
  spoolRejected: string[];
  /** Grouped alert mails queued at the end of the round (one per recipient with changes). */
  groupedMails: number;
  /** Problems of the alert step that did not fail any host (silences unreadable, grouped mail not queued). */
  alertNotes: string[];
}

export interface RoundOptions {
  onEvent?: (event: RoundEvent) => void;
  now?: () => Date;
  /** Only these clients (default: all of the config). */
  clients?: ClientConfig[];
  /** Aborting abandons the round: no new host starts, running ones end at once. */
  signal?: AbortSignal;
}

/** Runs one round and records it; resolves with the per-host outcomes. */
export async function collectRound(config: Config, store: Store, options: RoundOptions = {}): Promise<RoundSummary> {
  const now = options.now ?? (() => new Date());
  const clients = options.clients ?? config.clients;
  const emit = options.onEvent ?? (() => {});
  const startedAt = now();
  const [hostKeys, scripts] = await Promise.all([HostKeyStore.load(config.settings.knownHostsPath), loadProbeScripts()]);
  const roundId = await beginRound(store, startedAt);
  emit({ type: 'round-start', roundId, total: clients.length });

  const spool = await importSpool(store, config.settings.spoolDir).catch((error: Error) => ({ imported: 0, rejected: [], error: error.message }));
  const alertNotes: string[] = [];
  const silences = await activeSilences(store.db, startedAt).catch((error: Error) => {
    alertNotes.push(`silences could not be read, none applied this round: ${error.message}`);
    return [];
  });
  const context: HostRoundContext = { store, roundId, now, hostKeys, scripts, settings: config.settings, signal: options.signal, silences, unreachable: [], notes: alertNotes };
  let mailsQueued = 0;
  const outcomes = new Array<HostOutcome>(clients.length);
  await forEachConcurrently(clients, config.settings.concurrency, async (client, index) => {
    const outcome = await collectAndStore(client, context);
    outcomes[index] = outcome;
    mailsQueued += outcome.mailsQueued;
    if (outcome.ok) emit({ type: 'host-ok', client, report: outcome.report!, ms: outcome.ms });
    else emit({ type: 'host-failed', client, error: outcome.error!, ms: outcome.ms });
  }, options.signal);
  // Hosts never started because the round was abandoned.
  clients.forEach((client, index) => {
    outcomes[index] ??= { client, ok: false, error: new StageError('connect', 'not started: the collector is shutting down'), ms: 0, uploadedBytes: 0, newEvents: 0, mailsQueued: 0 };
  });

  mailsQueued += await notifyUnreachable(context, clients.length).catch((error: Error) => {
    alertNotes.push(`alerts of unreachable hosts failed: ${error.message}`);
    return 0;
  });

  // One grouped mail per recipient for every change of this round (and any left waiting by an
  // earlier round that ended early). A failure here leaves the changes waiting for the next round.
  const flushed = await flushNotifications(store.db, now()).catch((error: Error) => ({ mails: 0, changes: 0, error: error.message }));

  const finishedAt = now();
  const hostsOk = outcomes.filter((o) => o.ok).length;
  const summary: RoundSummary = {
    roundId, startedAt, finishedAt, outcomes, hostsOk, hostsFailed: outcomes.length - hostsOk, mailsQueued,
    spooled: outcomes.filter((o) => o.spooledTo).length, spoolImported: spool.imported, spoolRejected: spool.rejected,
    groupedMails: flushed.mails, alertNotes: 'error' in flushed ? [...alertNotes, `grouped mail not queued, the changes wait for the next round: ${flushed.error}`] : alertNotes,
  };
  await finishRound(store, roundId, { finishedAt, hostsOk, hostsFailed: summary.hostsFailed }).catch(() => {});
  emit({ type: 'round-end', summary });
  return summary;
}

interface HostRoundContext {
  /** Silences active when the round began. */
  silences: SilenceRule[];
  /** Problems of the alert step, for the round summary. */
  notes: string[];
  /** Hosts that failed this round: their alerts are evaluated at the end, once inhibition is decided. */
  unreachable: UnreachableHost[];
  store: Store;
  roundId: number;
  now: () => Date;
  hostKeys: HostKeyStore;
  scripts: ProbeScripts;
  settings: Settings;
  signal?: AbortSignal;
}

const STORE_RETRY_MS = 500;

/**
 * One host of the round: collect, store (retried once, then spooled so nothing collected is
 * lost), evaluate alerts. Never throws: every failure becomes the outcome's StageError.
 */
async function collectAndStore(client: ClientConfig, ctx: HostRoundContext): Promise<HostOutcome> {
  const { store, roundId, now } = ctx;
  const began = Date.now();
  const outcome = (fields: Partial<HostOutcome>): HostOutcome =>
    ({ client, ok: false, ms: Date.now() - began, uploadedBytes: 0, newEvents: 0, mailsQueued: 0, ...fields });
  // A database hiccup here must not stop the collection: the report can still be spooled.
  const hostId = await ensureHost(store, { ip: client.ip, port: client.port, name: client.name }).catch(() => undefined);
  const lastRecordId = hostId === undefined ? 0 : await lastEventRecordId(store, hostId).catch(() => 0);

  let result;
  try {
    result = await collectHost(client, { hostKeys: ctx.hostKeys, settings: ctx.settings, scripts: ctx.scripts, lastRecordId, signal: ctx.signal });
  } catch (thrown) {
    const error = asStageError(thrown, 'run');
    if (hostId !== undefined) {
      await recordHostError(store, { roundId, hostId, stage: error.stage, message: error.describe(), occurredAt: now() }).catch(() => {});
      // Its alerts are evaluated at the end of the round, once inhibition is decided.
      ctx.unreachable.push({ client, hostId, error: { stage: error.stage, message: error.describe() } });
    }
    return outcome({ error });
  }

  const collectedAt = now();
  const saved = hostId === undefined ? undefined
    : await saveWithinBound(store, { hostId, roundId, collectedAt, report: result.report, eventCap: ctx.settings.eventCap }, ctx.settings.storeTimeoutSeconds * 1000);
  if (hostId === undefined || saved instanceof Error) {
    let path: string;
    try {
      // Spooled as it would be stored: the storage limits bound the spool's files too.
      const report = limitReport(result.report).report;
      path = await spoolReport(ctx.settings.spoolDir, { ip: client.ip, port: client.port, name: client.name, collectedAt, report });
    } catch (error) {
      return outcome({ error: new StageError('store', `database and spool both failed: ${(error as Error).message}`) });
    }
    const cause = saved instanceof Error ? saved.message : 'the host row could not be written';
    return outcome({ error: new StageError('store', `storing the report failed (${cause}); kept in the spool, imported next round`), spooledTo: path, report: result.report });
  }

  const limitedNote = describeLimited(saved!.limited);
  if (limitedNote) await recordHostError(store, { roundId, hostId, stage: 'store', message: limitedNote, occurredAt: now() }).catch(() => {});

  let mailsQueued = 0;
  try {
    mailsQueued = await notifyHost(store, ctx.settings, client, hostId, result.report, saved!.newEvents, now(), alertHolds(client, ctx.silences, now()));
  } catch (error) {
    // The report is stored; a failing alert step is recorded but does not fail the host.
    await recordHostError(store, { roundId, hostId, stage: 'alert', message: (error as Error).message, occurredAt: now() }).catch(() => {});
  }
  return outcome({ ok: true, uploadedBytes: result.uploadedBytes, newEvents: saved!.newEvents.length, mailsQueued, report: result.report });
}

type SaveInput = Parameters<typeof saveReport>[1];

async function saveWithRetry(store: Store, input: SaveInput & { control: SaveControl }): Promise<SavedReport | Error> {
  try {
    return await saveReport(store, input);
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
    if (input.control.abandoned) return error as Error;
    return await saveReport(store, input).catch((error: Error) => error);
  }
}

/**
 * Stores the report (retried once) within `boundMs`: past it the save is abandoned (it rolls
 * back at its next step) and an Error returned, so the caller spools the report and the round
 * goes on. The database's own lock and statement timeouts normally end a stuck save first; the
 * bound also covers what they cannot see (a database that stopped answering). A save already
 * committing is waited for instead, so a report is never both stored and spooled.
 */
async function saveWithinBound(store: Store, input: SaveInput, boundMs: number): Promise<SavedReport | Error> {
  const control: SaveControl = { abandoned: false, committing: false };
  const saving = saveWithRetry(store, { ...input, control });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), boundMs);
  });
  try {
    const first = await Promise.race([saving, late]);
    if (first !== 'late' || control.committing) return await saving;
    control.abandoned = true;
    return new Error(`storing took longer than the store-timeout of ${boundMs / 1000} s; the save was abandoned and rolls back`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Evaluates a host's alert rules and queues its security-event mail; returns the notices queued
 * (mails in per-change mode, changes waiting for the grouped mail otherwise).
 */
async function notifyHost(
  store: Store, settings: Settings, client: ClientConfig, hostId: number, report: Report | null,
  newEvents: Report['events']['items'], at: Date, mutedBy: HostAlertInput['mutedBy'], error?: UnreachableHost['error'],
): Promise<number> {
  const mailMode = client.alertMail ?? settings.alertMail;
  // Rules are evaluated for every client, so the dashboard, the API and /metrics show firing
  // alerts with or without `mail`; mail goes only where there is an address.
  let queued = 0;
  const alertMails = await evaluateHostAlerts(store.db, {
    hostId, hostName: client.name, ip: client.ip, mail: client.mail, rules: client.alerts, report,
    error, now: at, mailMode, mutedBy, webhooks: client.webhooks,
  });
  queued += alertMails.filter((mail) => mail.outboxIds.length + mail.notificationIds.length > 0).length;
  queued += alertMails.reduce((sum, mail) => sum + mail.webhooks, 0);
  // Security events are mailed every run that finds new ones, with no rule needed (or on every
  // run with events-mail="every-run"); a Windows Security log that became unreadable (no
  // Administrator rights) is mailed once.
  const unreadableNow = report?.probe === 'ps1' && await securityLogBecameUnreadable(store.db, hostId, report.events.readable, at);
  const everyRun = (client.eventsMail ?? settings.eventsMail) === 'every-run';
  if (client.mail && report && (newEvents.length > 0 || unreadableNow || everyRun)) {
    const mail = renderSecurityEventsMail({
      hostName: client.name, ip: client.ip, events: newEvents, truncated: report.events.truncated,
      readable: report.events.readable, note: report.events.note, at,
    });
    if (mailMode === 'grouped') {
      await enqueueNotification(store.db, {
        hostId, recipients: parseRecipients(client.mail), rule: 'security-events', severity: 'info', transition: 'events',
        summary: mail.headline, details: mail.body, threadId: `events.${hostId}.${at.getTime()}`, now: at,
      });
    } else {
      await enqueueMail(store.db, { to: client.mail, subject: mail.subject, body: mail.body, now: at });
    }
    queued++;
  }
  return queued;
}

/**
 * Evaluates the alerts of the hosts that failed this round. When so many failed that the
 * collector's own network is the likelier cause (inhibit-share, inhibit-min-hosts), their
 * notices are held and each recipient of an `unreachable` rule gets one outage notice instead.
 * Returns the notices queued.
 */
async function notifyUnreachable(ctx: HostRoundContext, total: number): Promise<number> {
  const failed = ctx.unreachable;
  if (failed.length === 0) return 0;
  const outage = isFleetOutage(failed.length, total, ctx.settings);
  const inhibitedBy = outage ? `collector cannot reach ${failed.length} of ${total} hosts` : undefined;
  let queued = 0;
  for (const host of failed) {
    const at = ctx.now();
    const holds = alertHolds(host.client, ctx.silences, at, inhibitedBy);
    queued += await notifyHost(ctx.store, ctx.settings, host.client, host.hostId, null, [], at, holds, host.error).catch((error: Error) => {
      ctx.notes.push(`alerts of ${host.client.name} not evaluated: ${error.message}`);
      return 0;
    });
  }
  if (!outage) return queued;

  const at = ctx.now();
  const notice = renderOutageNotice(failed, total, at);
  const recipients = new Set(failed.filter((h) => h.client.mail && h.client.alerts.some((r) => r.type === 'unreachable'))
    .flatMap((h) => (h.client.mail ? parseRecipients(h.client.mail) : [])));
  const [first] = failed;
  if (recipients.size === 0 || first === undefined) return queued;
  if (ctx.settings.alertMail === 'grouped') {
    await enqueueNotification(ctx.store.db, {
      hostId: first.hostId, recipients: [...recipients], rule: 'collector-outage', severity: 'critical', transition: 'firing',
      summary: notice.headline, details: notice.body, threadId: `outage.${at.getTime()}`, now: at,
    });
  } else {
    await enqueueMail(ctx.store.db, { to: [...recipients], subject: notice.subject, body: notice.body, now: at });
  }
  return queued + 1;
}
