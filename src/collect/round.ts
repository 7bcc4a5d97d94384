/**
 * One collection round over every client of the config: bounded concurrency, each host
 * collected, stored in its own transaction, its alert rules evaluated; failures are recorded
 * per host with their stage and never stop the round. Mail goes through the durable outbox,
 * drained at the end of the round.
 */
import type { ClientConfig, Config } from '../config/types.js';
import type { Report } from '../probe/report.js';
import { loadProbeScripts } from '../probe/scripts.js';
import { HostKeyStore } from '../ssh/host-key-policy.js';
import type { Store } from '../store/open-store.js';
import { ensureHost } from '../store/hosts.js';
import { saveReport } from '../store/save-report.js';
import { lastEventRecordId } from '../store/events.js';
import { beginRound, finishRound, recordHostError } from '../store/rounds.js';
import { evaluateHostAlerts } from '../alerts/evaluate-host-alerts.js';
import { enqueueMail } from '../notify/outbox.js';
import { renderSecurityEventsMail } from '../notify/security-events-mail.js';
import { collectHost } from './collect-host.js';
import { forEachConcurrently } from './pool.js';
import { StageError, asStageError } from './stage-error.js';

export type RoundEvent =
  | { type: 'round-start'; roundId: number; total: number }
  | { type: 'host-ok'; client: ClientConfig; report: Report; ms: number }
  | { type: 'host-failed'; client: ClientConfig; error: StageError; ms: number }
  | { type: 'round-end'; summary: RoundSummary };

export interface HostOutcome {
  client: ClientConfig;
  ok: boolean;
  error?: StageError;
  ms: number;
  uploadedBytes: number;
  newEvents: number;
}

export interface RoundSummary {
  roundId: number;
  startedAt: Date;
  finishedAt: Date;
  outcomes: HostOutcome[];
  hostsOk: number;
  hostsFailed: number;
  mailsQueued: number;
}

export interface RoundOptions {
  onEvent?: (event: RoundEvent) => void;
  now?: () => Date;
  /** Only these clients (default: all of the config). */
  clients?: ClientConfig[];
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

  let mailsQueued = 0;
  const outcomes: HostOutcome[] = new Array(clients.length);
  await forEachConcurrently(clients, config.settings.concurrency, async (client, index) => {
    const began = Date.now();
    let hostId: number | undefined;
    try {
      const id = await ensureHost(store, { ip: client.ip, port: client.port, name: client.name });
      hostId = id;
      const lastRecordId = await lastEventRecordId(store, id);
      const result = await collectHost(client, { hostKeys, settings: config.settings, scripts, lastRecordId });
      let newEvents;
      try {
        ({ newEvents } = await saveReport(store, { hostId: id, roundId, collectedAt: now(), report: result.report }));
      } catch (error) {
        throw new StageError('store', `storing the report failed: ${(error as Error).message}`);
      }
      try {
        mailsQueued += await notifyHost(store, client, id, result.report, newEvents, now());
      } catch (error) {
        // The report is stored; a failing alert step is recorded but does not fail the host.
        await recordHostError(store, { roundId, hostId: id, stage: 'alert', message: (error as Error).message, occurredAt: now() }).catch(() => {});
      }
      const ms = Date.now() - began;
      outcomes[index] = { client, ok: true, ms, uploadedBytes: result.uploadedBytes, newEvents: newEvents.length };
      emit({ type: 'host-ok', client, report: result.report, ms });
    } catch (thrown) {
      const error = asStageError(thrown, 'store');
      const ms = Date.now() - began;
      outcomes[index] = { client, ok: false, error, ms, uploadedBytes: 0, newEvents: 0 };
      if (hostId !== undefined) {
        await recordHostError(store, { roundId, hostId, stage: error.stage, message: error.describe(), occurredAt: now() }).catch(() => {});
        mailsQueued += await notifyHost(store, client, hostId, null, [], now(), error).catch(() => 0);
      }
      emit({ type: 'host-failed', client, error, ms });
    }
  });

  const finishedAt = now();
  const hostsOk = outcomes.filter((o) => o.ok).length;
  const summary: RoundSummary = { roundId, startedAt, finishedAt, outcomes, hostsOk, hostsFailed: outcomes.length - hostsOk, mailsQueued };
  await finishRound(store, roundId, { finishedAt, hostsOk, hostsFailed: summary.hostsFailed });
  emit({ type: 'round-end', summary });
  return summary;
}

/** Evaluates a host's alert rules and queues its security-event mail; returns mails queued. */
async function notifyHost(
  store: Store, client: ClientConfig, hostId: number, report: Report | null,
  newEvents: Report['events']['items'], at: Date, error?: StageError,
): Promise<number> {
  if (!client.mail) return 0;
  let queued = 0;
  const alertMails = await evaluateHostAlerts(store.db, {
    hostId, hostName: client.name, ip: client.ip, mail: client.mail, rules: client.alerts, report,
    error: error ? { stage: error.stage, message: error.describe() } : undefined, now: at,
  });
  queued += alertMails.length;
  // Security events are mailed every run that finds new ones, with no rule needed.
  if (report && newEvents.length > 0) {
    const mail = renderSecurityEventsMail({
      hostName: client.name, ip: client.ip, events: newEvents, truncated: report.events.truncated,
      readable: report.events.readable, note: report.events.note, at,
    });
    await enqueueMail(store.db, { to: client.mail, subject: mail.subject, body: mail.body, now: at });
    queued++;
  }
  return queued;
}
