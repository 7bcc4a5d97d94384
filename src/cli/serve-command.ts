/** `fleetstat serve`: scheduled rounds, the dashboard, the JSON API and /metrics in one process. */
import { isIP } from 'node:net';
import type { Config } from '../config/types.js';
import { ConfigReloader } from '../serve/config-reloader.js';
import { LocalClaimer, type HostClaimer } from '../serve/host-claimer.js';
import { LeaseClaimer } from '../serve/lease-claimer.js';
import { LoadMonitor } from '../serve/load-monitor.js';
import { RoundScheduler } from '../serve/scheduler.js';
import { failureLine } from '../collect/round.js';
import { assertNever } from '../errors/assert-never.js';
import { RetentionPruner } from '../serve/retention.js';
import {
  checkExposure,
  credentialsChanged,
  restartOnlyChanges,
  webCredentials,
  type Pinned,
} from '../serve/web-exposure.js';
import {
  createLogger,
  defaultLogFormat,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
} from '../log/logger.js';
import { adapterFor } from '../store/dialect-adapter.js';
import type { Store } from '../store/open-store.js';
import { buildWebServer } from '../web/server.js';
import { CounterRegistry } from '../web/metrics/counter-registry.js';
import { ProcessMetrics } from '../web/metrics/process-metrics.js';
import { deliverQueuedMail } from './deliver-mail.js';
import { deliverQueuedWebhooks } from './deliver-webhooks.js';
import { EXIT } from './exit-codes.js';
import { CommandFailure, loadConfigOrFail, openMigratedStore, runCommand } from './command-context.js';

export interface ServeOptions {
  config: string;
  db?: string;
  listen?: string;
  grace: string;
  /** Seconds a host lease outlasts the worst-case round (PostgreSQL/MySQL). */
  leaseMargin?: string;
  /** `auto` (text on a terminal, JSON otherwise), `text` or `json`. */
  logFormat?: string;
  logLevel?: string;
  /** false with --no-watch: the config is reloaded on SIGHUP only. */
  watch?: boolean;
}

function makeLogger(options: ServeOptions): Logger {
  const format = options.logFormat ?? 'auto';
  if (!['auto', 'text', 'json'].includes(format))
    throw new CommandFailure(`--log-format ${format}: expected auto, text or json`, EXIT.usage);
  const level = options.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new CommandFailure(`--log-level ${level}: expected one of ${LOG_LEVELS.join(', ')}`, EXIT.usage);
  return createLogger({
    format: format === 'auto' ? defaultLogFormat() : (format as LogFormat),
    level: level as LogLevel,
  });
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new CommandFailure(`--listen ${value}: expected host:port or port`, EXIT.usage);
  return { host: match[1] || '127.0.0.1', port };
}

/**
 * Picks how hosts are shared between collectors: row leases in the database on PostgreSQL and
 * MySQL/MariaDB, where several collectors may share it; in-memory claims on SQLite (one process).
 */
function makeClaimer(
  store: Store,
  log: Logger,
  options: { concurrency: () => number; leaseMarginSeconds?: number },
): HostClaimer {
  if (!adapterFor(store.dialect).supportsRowLocks) return new LocalClaimer();
  const claimer = new LeaseClaimer(store, {
    concurrency: options.concurrency,
    marginSeconds: options.leaseMarginSeconds,
  });
  log.info(`sharing hosts with other collectors through row leases as ${claimer.owner}`);
  return claimer;
}

/** Logs what a reload changed that matters to the web listener; names what needs a restart. */
function reportChanges(log: Logger, previous: Config, next: Config, pinned: Pinned): void {
  if (credentialsChanged(previous.web, next.web)) log.info('web credentials changed: applied to every new request');
  if (previous.web.metricsOpen !== next.web.metricsOpen)
    log.info(`/metrics is now ${next.web.metricsOpen ? 'open' : 'behind the credentials'}`);
  for (const change of restartOnlyChanges(previous, next, pinned)) {
    log.warn(
      `${change} changed: takes effect only after a restart of fleetstat serve; the old value stays in use until then`,
    );
  }
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export function serveCommand(options: ServeOptions): Promise<number> {
  return runCommand(async () => {
    const logger = makeLogger(options);
    const log = logger.child({ component: 'serve' });
    const grace = Number(options.grace) * 1000;
    if (!Number.isFinite(grace) || grace < 0)
      throw new CommandFailure(`--grace ${options.grace}: expected seconds`, EXIT.usage);
    const leaseMarginSeconds = options.leaseMargin === undefined ? undefined : Number(options.leaseMargin);
    if (leaseMarginSeconds !== undefined && !(leaseMarginSeconds >= 0))
      throw new CommandFailure(`--lease-margin ${options.leaseMargin}: expected seconds`, EXIT.usage);
    const initial = await loadConfigOrFail(options.config, (line) => log.warn(line));
    const address = options.listen ? parseListen(options.listen) : { host: initial.web.listen, port: initial.web.port };
    const vet = (config: Config) => {
      const exposure = checkExposure(address.host, config.web);
      return exposure.status === 'open-refused' ? exposure.reason : undefined;
    };
    const exposure = checkExposure(address.host, initial.web);
    if (exposure.status === 'open-refused')
      throw new CommandFailure(`refusing to serve: ${exposure.reason}`, EXIT.configInvalid);
    if (exposure.status === 'open-allowed') {
      log.warn(
        `THE DASHBOARD IS OPEN TO THE NETWORK: listening on ${address.host} without credentials (allow-anonymous="true"); anyone who reaches this port reads the inventory`,
      );
    }
    const pinned: Pinned = { listen: options.listen !== undefined, database: options.db !== undefined };
    const reloader = new ConfigReloader(
      initial,
      logger.child({ component: 'config' }),
      { vet, changed: (previous, next) => reportChanges(log, previous, next, pinned) },
      options.watch !== false,
    );
    const store = await openMigratedStore(options.db ?? initial.settings.databaseUrl);
    const counters = new CounterRegistry()
      .describe('fleetstat_rounds_total', 'Rounds run by this process')
      .describe('fleetstat_host_collections_total', 'Host collections by result and failing stage')
      .describe('fleetstat_mails_total', 'Mails handled by the outbox drain, by result');
    // A named listen address is a name the dashboard answers to; an address is checked as such.
    const listenName = isIP(address.host) === 0 ? [address.host.toLowerCase()] : [];
    const load = new LoadMonitor();
    const processMetrics = new ProcessMetrics();
    const app = await buildWebServer({
      store,
      config: () => reloader.config,
      counters,
      logger: logger.child({ component: 'web' }),
      auth: () => webCredentials(reloader.config.web),
      metricsOpen: () => reloader.config.web.metricsOpen,
      hostNames: () => [...reloader.config.web.hosts, ...listenName],
      collection: () => load.status(),
      processMetrics,
    });
    await app.listen(address);
    log.info(
      `dashboard on http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${(app.server.address() as { port: number }).port}/`,
    );

    const pruner = new RetentionPruner(store);
    const prunerLog = logger.child({ component: 'retention' });
    const mailLog = logger.child({ component: 'mail' });
    const roundLog = logger.child({ component: 'round' });
    const scheduler = new RoundScheduler({
      store,
      config: () => reloader.config,
      claimer: makeClaimer(store, log, { concurrency: () => reloader.config.settings.concurrency, leaseMarginSeconds }),
      log: logger.child({ component: 'scheduler' }),
      load,
      onEvent: (event) => {
        switch (event.type) {
          case 'host-ok':
            counters.inc('fleetstat_host_collections_total', { result: 'ok', stage: '' });
            break;
          case 'host-failed':
            counters.inc('fleetstat_host_collections_total', { result: 'failed', stage: event.error.stage });
            log.warn({ host: event.client.name, stage: event.error.stage }, failureLine(event.client, event.error));
            break;
          case 'problem':
            roundLog.warn({ err: event.problem.cause, host: event.problem.client?.name }, event.problem.message);
            break;
          case 'round-start':
          case 'round-end': // the scheduler logs the round's totals
            break;
          default:
            assertNever(event, 'round event');
        }
      },
      afterRound: async (summary) => {
        counters.inc('fleetstat_rounds_total');
        for (const note of summary.alertNotes) mailLog.warn(`alerts: ${note}`);
        const pruned = await pruner.maybePrune(reloader.config.settings).catch((error: Error) => {
          prunerLog.error({ err: error }, `prune failed: ${error.message}`);
          return undefined;
        });
        if (pruned)
          prunerLog.info(
            `pruned ${Object.entries(pruned)
              .map(([table, n]) => `${table} ${n}`)
              .join(', ')}`,
          );
        const mail = await deliverQueuedMail(store, reloader.config.smtp);
        counters.inc('fleetstat_mails_total', { result: 'sent' }, mail.sent);
        counters.inc('fleetstat_mails_total', { result: 'failed' }, mail.failed);
        counters.inc('fleetstat_mails_total', { result: 'deferred' }, mail.deferred);
        if (mail.lastError) mailLog.warn(mail.lastError);
        const webhooks = await deliverQueuedWebhooks(store, reloader.config);
        if (webhooks.lastError) mailLog.warn(webhooks.lastError);
      },
    });
    reloader.start();
    scheduler.start();

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info(`${signal}: stopping (grace ${options.grace}s for the running round)`);
    reloader.stop();
    await scheduler.stop(grace);
    await app.close();
    processMetrics.stop();
    await store.close();
    log.info('stopped');
    return EXIT.ok;
  });
}
