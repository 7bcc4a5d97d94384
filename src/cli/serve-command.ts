/** `fleetstat serve`: scheduled rounds, the dashboard, the JSON API and /metrics in one process. */
import { ConfigReloader } from '../serve/config-reloader.js';
import { LocalClaimer, type HostClaimer } from '../serve/host-claimer.js';
import { LeaseClaimer } from '../serve/lease-claimer.js';
import { LoadMonitor } from '../serve/load-monitor.js';
import { RoundScheduler } from '../serve/scheduler.js';
import { failureLine } from '../collect/round.js';
import { RetentionPruner } from '../serve/retention.js';
import type { Store } from '../store/open-store.js';
import { buildWebServer } from '../web/server.js';
import { CounterRegistry } from '../web/metrics/counter-registry.js';
import { deliverQueuedMail } from './deliver-mail.js';
import { EXIT } from './exit-codes.js';
import { CommandFailure, loadConfigOrFail, openMigratedStore, runCommand } from './command-context.js';

export interface ServeOptions {
  config: string;
  db?: string;
  listen?: string;
  grace: string;
  /** Seconds a host lease outlasts the worst-case round (PostgreSQL/MySQL). */
  leaseMargin?: string;
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
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
function makeClaimer(store: Store, options: { concurrency: () => number; leaseMarginSeconds?: number }): HostClaimer {
  if (store.dialect === 'sqlite') return new LocalClaimer();
  const claimer = new LeaseClaimer(store, { concurrency: options.concurrency, marginSeconds: options.leaseMarginSeconds });
  log(`sharing hosts with other collectors through row leases as ${claimer.owner}`);
  return claimer;
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code. */
export function serveCommand(options: ServeOptions): Promise<number> {
  return runCommand(async () => {
    const grace = Number(options.grace) * 1000;
    if (!Number.isFinite(grace) || grace < 0) throw new CommandFailure(`--grace ${options.grace}: expected seconds`, EXIT.usage);
    const leaseMarginSeconds = options.leaseMargin === undefined ? undefined : Number(options.leaseMargin);
    if (leaseMarginSeconds !== undefined && !(leaseMarginSeconds >= 0)) throw new CommandFailure(`--lease-margin ${options.leaseMargin}: expected seconds`, EXIT.usage);
    const reloader = new ConfigReloader(await loadConfigOrFail(options.config), log);
    const store = await openMigratedStore(options.db ?? reloader.config.settings.databaseUrl);
    const counters = new CounterRegistry()
      .describe('fleetstat_rounds_total', 'Rounds run by this process')
      .describe('fleetstat_host_collections_total', 'Host collections by result and failing stage')
      .describe('fleetstat_mails_total', 'Mails handled by the outbox drain, by result');
    const web = reloader.config.web;
    const auth = {
      ...(web.user !== undefined && web.password !== undefined ? { basic: { user: web.user, password: web.password } } : {}),
      ...(web.token !== undefined ? { bearerToken: web.token } : {}),
    };
    const load = new LoadMonitor();
    const app = await buildWebServer({ store, config: () => reloader.config, auth, metricsOpen: web.metricsOpen, counters, collection: () => load.status() });
    const address = options.listen ? parseListen(options.listen) : { host: web.listen, port: web.port };
    await app.listen(address);
    log(`dashboard on http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${(app.server.address() as { port: number }).port}/`);

    const pruner = new RetentionPruner(store);
    const scheduler = new RoundScheduler({
      store, config: () => reloader.config, claimer: makeClaimer(store, { concurrency: () => reloader.config.settings.concurrency, leaseMarginSeconds }), log, load,
      onEvent: (event) => {
        if (event.type === 'host-ok') counters.inc('fleetstat_host_collections_total', { result: 'ok', stage: '' });
        if (event.type === 'host-failed') {
          counters.inc('fleetstat_host_collections_total', { result: 'failed', stage: event.error.stage });
          log(failureLine(event.client, event.error));
        }
      },
      afterRound: async () => {
        counters.inc('fleetstat_rounds_total');
        const pruned = await pruner.maybePrune(reloader.config.settings).catch((error: Error) => { log(`prune failed: ${error.message}`); return undefined; });
        if (pruned) log(`retention: pruned ${Object.entries(pruned).map(([table, n]) => `${table} ${n}`).join(', ')}`);
        const mail = await deliverQueuedMail(store, reloader.config.smtp);
        counters.inc('fleetstat_mails_total', { result: 'sent' }, mail.sent);
        counters.inc('fleetstat_mails_total', { result: 'failed' }, mail.failed);
        counters.inc('fleetstat_mails_total', { result: 'deferred' }, mail.deferred);
        if (mail.lastError) log(`mail: ${mail.lastError}`);
      },
    });
    reloader.start();
    scheduler.start();

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log(`${signal}: stopping (grace ${options.grace}s for the running round)`);
    reloader.stop();
    await scheduler.stop(grace);
    await app.close();
    await store.close();
    log('stopped');
    return EXIT.ok;
  });
}
