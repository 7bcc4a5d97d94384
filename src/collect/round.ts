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
import { lastCpuCounters } from '../store/cpu-counters.js';
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
import { counterMaxAgeMs, cpuFigure, planCpu, withCpuFigure } from './cpu-rate.js';
import type { FailedHost, HostOutcome, SpooledHost, StoredHost } from './host-outcome.js';
import { forEachConcurrently } from './pool.js';
import { importSpool, spoolReport } from './spool.js';
import { assertNever } from '../errors/assert-never.js';
import { MAX_STAGE_MESSAGE_CHARS, StageError, asStageError, type Stage } from '../errors/stage-error.js';
import { oneLine } from '../text/untrusted-text.js';

export type { HostOutcome } from './host-outcome.js';

export type RoundEvent =
  | { type: 'round-start'; roundId: number; total: number }
  | { type: 'host-ok'; client: ClientConfig; report: Report; ms: number }
  | { type: 'host-failed'; client: ClientConfig; error: StageError; ms: number }
  | { type: 'problem'; problem: RoundProblem }
  | { type: 'round-end'; summary: RoundSummary };

/**
 * A failure the round survived that no host outcome shows: a host error or the round's end not
 * recorded, the last event id unreadable, the spool not imported, a save that needed its retry.
 * Each is reported once: as a `problem` event (serve logs it) and in the summary (collect prints it).
 */
export interface RoundProblem {
  /** One line with its context and the cause's message. */
  message: string;
  /** The host it concerns, if one. */
  client?: ClientConfig;
  /** What was thrown, for the logger (its stack, its code). */
  cause: unknown;
}

/** The one-line log form of a failed host, shared by the non-terminal progress and serve's log. */
export function failureLine(client: ClientConfig, error: StageError): string {
  return oneLine(`FAIL ${client.name} [${error.stage}] ${error.describe()}`, 2 * MAX_STAGE_MESSAGE_CHARS + 300);
}

export interface RoundSummary {
  roundId: number;
  startedAt: Date;
  finishedAt: Date;
  outcomes: HostOutcome[];
  /** Hosts stored. */
  hostsOk: number;
  /** Hosts not stored: failed, spooled or never started. */
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
  /** Other failures the round survived, each also sent as a `problem` event. */
  problems: RoundProblem[];
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
  const problems: RoundProblem[] = [];
  const problem = (what: string, cause: unknown, client?: ClientConfig) => {
    const reported: RoundProblem = {
      message: oneLine(`${what}: ${causeMessage(cause)}`, 2 * MAX_STAGE_MESSAGE_CHARS + 300),
      client,
      cause,
    };
    problems.push(reported);
    emit({ type: 'problem', problem: reported });
  };
  const startedAt = now();
  const [hostKeys, scripts] = await Promise.all([
    HostKeyStore.load(config.settings.knownHostsPath),
    loadProbeScripts(),
  ]);
  const roundId = await beginRound(store, startedAt);
  emit({ type: 'round-start', roundId, total: clients.length });

  const spool = await importSpool(store, config.settings.spoolDir).catch((error: unknown) => {
    problem(
      `importing the spool ${config.settings.spoolDir} failed; the reports left there wait for the next round`,
      error,
    );
    return { imported: 0, rejected: [] };
  });
  const alertNotes: string[] = [];
  const silences = await activeSilences(store.db, startedAt).catch((error: Error) => {
    alertNotes.push(`silences could not be read, none applied this round: ${error.message}`);
    return [];
  });
  const context: HostRoundContext = {
    store,
    roundId,
    now,
    hostKeys,
    scripts,
    settings: config.settings,
    signal: options.signal,
    silences,
    unreachable: [],
    notes: alertNotes,
    problem,
  };
  let mailsQueued = 0;
  const outcomes = new Array<HostOutcome>(clients.length);
  await forEachConcurrently(
    clients,
    config.settings.concurrency,
    async (client, index) => {
      const outcome = await collectAndStore(client, context);
      outcomes[index] = outcome;
      switch (outcome.status) {
        case 'stored':
          mailsQueued += outcome.mailsQueued;
          emit({ type: 'host-ok', client, report: outcome.report, ms: outcome.ms });
          break;
        case 'spooled':
        case 'failed':
          emit({ type: 'host-failed', client, error: outcome.error, ms: outcome.ms });
          break;
        default:
          assertNever(outcome, 'host outcome');
      }
    },
    options.signal,
  );
  // Hosts never started because the round was abandoned.
  clients.forEach((client, index) => {
    outcomes[index] ??= { status: 'not-started', client, reason: 'not started: the collector is shutting down' };
  });

  mailsQueued += await notifyUnreachable(context, clients.length).catch((error: Error) => {
    alertNotes.push(`alerts of unreachable hosts failed: ${error.message}`);
    return 0;
  });

  // One grouped mail per recipient for every change of this round (and any left waiting by an
  // earlier round that ended early). A failure here leaves the changes waiting for the next round.
  const flushed = await flushNotifications(store.db, now()).catch((error: Error) => ({
    mails: 0,
    changes: 0,
    error: error.message,
  }));

  const finishedAt = now();
  const counts = countOutcomes(outcomes);
  const summary: RoundSummary = {
    roundId,
    startedAt,
    finishedAt,
    outcomes,
    hostsOk: counts.stored,
    hostsFailed: outcomes.length - counts.stored,
    mailsQueued,
    spooled: counts.spooled,
    spoolImported: spool.imported,
    spoolRejected: spool.rejected,
    groupedMails: flushed.mails,
    alertNotes:
      'error' in flushed
        ? [...alertNotes, `grouped mail not queued, the changes wait for the next round: ${flushed.error}`]
        : alertNotes,
    problems,
  };
  await finishRound(store, roundId, { finishedAt, hostsOk: summary.hostsOk, hostsFailed: summary.hostsFailed }).catch(
    (error: unknown) => {
      problem(`recording the end of round ${roundId} failed; it stays listed as unfinished`, error);
    },
  );
  emit({ type: 'round-end', summary });
  return summary;
}

/** How many outcomes are in each state. */
function countOutcomes(outcomes: readonly HostOutcome[]): Record<HostOutcome['status'], number> {
  const counts = { stored: 0, spooled: 0, failed: 0, 'not-started': 0 };
  for (const outcome of outcomes) counts[outcome.status]++;
  return counts;
}

/** The message of anything thrown. */
function causeMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

interface HostRoundContext {
  /** Silences active when the round began. */
  silences: SilenceRule[];
  /** Problems of the alert step, for the round summary. */
  notes: string[];
  /** Reports a failure the round survives (once: an event and the summary). */
  problem: (what: string, cause: unknown, client?: ClientConfig) => void;
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

/** The host's row, or why it could not be written. */
type HostRow = { written: true; id: number } | { written: false; error: unknown };

/**
 * One host of the round: collect, store (retried once, then spooled so nothing collected is
 * lost), evaluate alerts. Never throws: every failure becomes the outcome's StageError, and
 * every failure around it that the host survives is reported through ctx.
 */
async function collectAndStore(
  client: ClientConfig,
  ctx: HostRoundContext,
): Promise<StoredHost | SpooledHost | FailedHost> {
  const { store, roundId, now } = ctx;
  const began = Date.now();
  // A database hiccup here must not stop the collection: the report can still be spooled.
  const row: HostRow = await ensureHost(store, { ip: client.ip, port: client.port, name: client.name }).then(
    (id): HostRow => ({ written: true, id }),
    (error: unknown): HostRow => ({ written: false, error }),
  );
  const lastRecordId = row.written
    ? await lastEventRecordId(store, row.id).catch((error: unknown) => {
        ctx.problem(
          `reading the last stored security event of ${client.name} failed; its events are read from the start (those already stored are not stored twice)`,
          error,
          client,
        );
        return 0;
      })
    : 0;
  // Previous counters unreadable: the probe samples, as on a first round.
  const counters = row.written
    ? await lastCpuCounters(store, row.id).catch((error: unknown) => {
        ctx.problem(
          `reading the last CPU counters of ${client.name} failed; the probe samples CPU this round`,
          error,
          client,
        );
        return null;
      })
    : null;
  const cpuPlan = planCpu(counters, now(), {
    sampleMs: ctx.settings.cpuSampleMs,
    maxAgeMs: counterMaxAgeMs(ctx.settings.intervalSeconds),
  });

  let result;
  try {
    result = await collectHost(client, {
      hostKeys: ctx.hostKeys,
      settings: ctx.settings,
      scripts: ctx.scripts,
      lastRecordId,
      signal: ctx.signal,
      cpuMs: cpuPlan.cpuMs,
    });
  } catch (thrown) {
    const error = asStageError(thrown, 'run');
    if (row.written) {
      await recordFailure(ctx, client, row.id, error.stage, error.describe());
      // Its alerts are evaluated at the end of the round, once inhibition is decided.
      ctx.unreachable.push({ client, hostId: row.id, error: { stage: error.stage, message: error.describe() } });
    } else {
      ctx.problem(
        `the ${error.stage} failure of ${client.name} is not recorded in host_errors and its alerts are not evaluated: its host row could not be written`,
        row.error,
        client,
      );
    }
    return { status: 'failed', client, ms: Date.now() - began, error };
  }

  const collectedAt = now();
  // From here on the report carries the stored figure: alerts compare it, the spool keeps it.
  const cpu = cpuFigure(cpuPlan, result.report, collectedAt);
  const report = withCpuFigure(result.report, cpu);
  const cpuUsage = { method: cpu.method, intervalMs: cpu.intervalMs };
  // The database failed: the report waits in the spool, so nothing collected is lost.
  const spool = async (why: string, cause: unknown): Promise<SpooledHost | FailedHost> => {
    let path: string;
    try {
      // Spooled as it would be stored: the storage limits bound the spool's files too.
      path = await spoolReport(ctx.settings.spoolDir, {
        ip: client.ip,
        port: client.port,
        name: client.name,
        collectedAt,
        report: limitReport(report).report,
        cpu: cpuUsage,
      });
    } catch (error) {
      const lost = new StageError(
        'store',
        `storing the report failed (${why}) and so did the spool, the report is lost: ${causeMessage(error)}`,
        { cause: error },
      );
      return { status: 'failed', client, ms: Date.now() - began, error: lost };
    }
    const error = new StageError(
      'store',
      `storing the report failed (${why}); kept in the spool, imported next round`,
      { cause },
    );
    return {
      status: 'spooled',
      client,
      ms: Date.now() - began,
      report,
      uploadedBytes: result.uploadedBytes,
      path,
      error,
    };
  };
  if (!row.written) return spool(`the host row could not be written: ${causeMessage(row.error)}`, row.error);
  const saved = await saveWithinBound(
    store,
    { hostId: row.id, roundId, collectedAt, report, eventCap: ctx.settings.eventCap, cpu: cpuUsage },
    ctx.settings.storeTimeoutSeconds * 1000,
    (first) => ctx.problem(`storing the report of ${client.name} failed once and was retried`, first, client),
  );
  if (saved instanceof Error) return spool(saved.message, saved);

  const hostId = row.id;
  const limitedNote = describeLimited(saved.limited);
  if (limitedNote) await recordFailure(ctx, client, hostId, 'store', limitedNote);

  let mailsQueued = 0;
  try {
    mailsQueued = await notifyHost(
      store,
      ctx.settings,
      client,
      hostId,
      report,
      saved.newEvents,
      now(),
      alertHolds(client, ctx.silences, now()),
    );
  } catch (error) {
    // The report is stored; a failing alert step fails no host: it is noted for the summary and recorded.
    ctx.notes.push(`alerts of ${client.name} not evaluated: ${causeMessage(error)}`);
    await recordFailure(ctx, client, hostId, 'alert', causeMessage(error));
  }
  return {
    status: 'stored',
    client,
    ms: Date.now() - began,
    report,
    uploadedBytes: result.uploadedBytes,
    newEvents: saved.newEvents.length,
    mailsQueued,
  };
}

/** Stores a host's failure in host_errors; when that fails too, says so as a problem of the round. */
async function recordFailure(
  ctx: HostRoundContext,
  client: ClientConfig,
  hostId: number,
  stage: Stage,
  message: string,
): Promise<void> {
  try {
    await recordHostError(ctx.store, { roundId: ctx.roundId, hostId, stage, message, occurredAt: ctx.now() });
  } catch (cause) {
    ctx.problem(
      `recording the ${stage} error of ${client.name} in host_errors failed (it was: ${oneLine(message, MAX_STAGE_MESSAGE_CHARS)})`,
      cause,
      client,
    );
  }
}

type SaveInput = Parameters<typeof saveReport>[1];

/** Saves, and once more after a pause if that failed; `onRetried` hears of a first failure that the retry overcame. */
async function saveWithRetry(
  store: Store,
  input: SaveInput & { control: SaveControl },
  onRetried: (first: unknown) => void,
): Promise<SavedReport | Error> {
  try {
    return await saveReport(store, input);
  } catch (first) {
    await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
    if (input.control.abandoned) return first as Error;
    try {
      const saved = await saveReport(store, input);
      onRetried(first);
      return saved;
    } catch (second) {
      return second as Error;
    }
  }
}

/**
 * Stores the report (retried once) within `boundMs`: past it the save is abandoned (it rolls
 * back at its next step) and an Error returned, so the caller spools the report and the round
 * goes on. The database's own lock and statement timeouts normally end a stuck save first; the
 * bound also covers what they cannot see (a database that stopped answering). A save already
 * committing is waited for instead, so a report is never both stored and spooled.
 */
async function saveWithinBound(
  store: Store,
  input: SaveInput,
  boundMs: number,
  onRetried: (first: unknown) => void,
): Promise<SavedReport | Error> {
  const control: SaveControl = { abandoned: false, committing: false };
  const saving = saveWithRetry(store, { ...input, control }, onRetried);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), boundMs);
  });
  try {
    const first = await Promise.race([saving, late]);
    if (first !== 'late' || control.committing) return await saving;
    control.abandoned = true;
    return new Error(
      `storing took longer than the store-timeout of ${boundMs / 1000} s; the save was abandoned and rolls back`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Evaluates a host's alert rules and queues its security-event mail; returns the notices queued
 * (mails in per-change mode, changes waiting for the grouped mail otherwise).
 */
async function notifyHost(
  store: Store,
  settings: Settings,
  client: ClientConfig,
  hostId: number,
  report: Report | null,
  newEvents: Report['events']['items'],
  at: Date,
  mutedBy: HostAlertInput['mutedBy'],
  error?: UnreachableHost['error'],
): Promise<number> {
  const mailMode = client.alertMail ?? settings.alertMail;
  // Rules are evaluated for every client, so the dashboard, the API and /metrics show firing
  // alerts with or without `mail`; mail goes only where there is an address.
  let queued = 0;
  const alertMails = await evaluateHostAlerts(store.db, {
    hostId,
    hostName: client.name,
    ip: client.ip,
    mail: client.mail,
    rules: client.alerts,
    report,
    error,
    now: at,
    mailMode,
    mutedBy,
    webhooks: client.webhooks,
  });
  queued += alertMails.filter((mail) => mail.outboxIds.length + mail.notificationIds.length > 0).length;
  queued += alertMails.reduce((sum, mail) => sum + mail.webhooks, 0);
  // Security events are mailed every run that finds new ones, with no rule needed (or on every
  // run with events-mail="every-run"); a Windows Security log that became unreadable (no
  // Administrator rights) is mailed once.
  const unreadableNow =
    report?.probe === 'ps1' && (await securityLogBecameUnreadable(store.db, hostId, report.events.readable, at));
  const everyRun = (client.eventsMail ?? settings.eventsMail) === 'every-run';
  if (client.mail && report && (newEvents.length > 0 || unreadableNow || everyRun)) {
    const mail = renderSecurityEventsMail({
      hostName: client.name,
      ip: client.ip,
      events: newEvents,
      truncated: report.events.truncated,
      readable: report.events.readable,
      note: report.events.note,
      at,
    });
    if (mailMode === 'grouped') {
      await enqueueNotification(store.db, {
        hostId,
        recipients: parseRecipients(client.mail),
        rule: 'security-events',
        severity: 'info',
        transition: 'events',
        summary: mail.headline,
        details: mail.body,
        threadId: `events.${hostId}.${at.getTime()}`,
        now: at,
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
    queued += await notifyHost(
      ctx.store,
      ctx.settings,
      host.client,
      host.hostId,
      null,
      [],
      at,
      holds,
      host.error,
    ).catch((error: Error) => {
      ctx.notes.push(`alerts of ${host.client.name} not evaluated: ${error.message}`);
      return 0;
    });
  }
  if (!outage) return queued;

  const at = ctx.now();
  const notice = renderOutageNotice(failed, total, at);
  const recipients = new Set(
    failed
      .filter((h) => h.client.mail && h.client.alerts.some((r) => r.type === 'unreachable'))
      .flatMap((h) => (h.client.mail ? parseRecipients(h.client.mail) : [])),
  );
  const [first] = failed;
  if (recipients.size === 0 || first === undefined) return queued;
  if (ctx.settings.alertMail === 'grouped') {
    await enqueueNotification(ctx.store.db, {
      hostId: first.hostId,
      recipients: [...recipients],
      rule: 'collector-outage',
      severity: 'critical',
      transition: 'firing',
      summary: notice.headline,
      details: notice.body,
      threadId: `outage.${at.getTime()}`,
      now: at,
    });
  } else {
    await enqueueMail(ctx.store.db, { to: [...recipients], subject: notice.subject, body: notice.body, now: at });
  }
  return queued + 1;
}
