/**
 * The serve loop: every tick (a fraction of the interval, with jitter so many collectors do not
 * fire together) it claims the hosts that are due and runs a round over them. One round runs at
 * a time per process, and the claimer never hands out a host that is still in flight, so rounds
 * for the same host never overlap. stop() lets the running round finish within a grace period,
 * then abandons it; everything already stored stays stored.
 */
import type { Config } from '../config/types.js';
import { collectRound, type RoundEvent, type RoundSummary } from '../collect/round.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/open-store.js';
import type { HostClaimer } from './host-claimer.js';
import type { LoadMonitor } from './load-monitor.js';

export interface SchedulerOptions {
  store: Store;
  config: () => Config;
  claimer: HostClaimer;
  /** Called after each round with its summary (mail delivery, counters, logging). */
  afterRound?: (summary: RoundSummary) => Promise<void>;
  onEvent?: (event: RoundEvent) => void;
  log: Logger;
  /** Upper bound on the tick period (default 15 s); ticks are also at most interval/4. */
  maxTickMs?: number;
  /** Told the backlog every tick (after the claim, or while a round runs); logs its state changes. */
  load?: LoadMonitor;
}

export class RoundScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private assessing: Promise<void> | undefined;
  private abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {}

  /** Starts ticking; the first tick runs at once. */
  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Whether a round is running now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const interval = this.options.config().settings.intervalSeconds * 1000;
    const base = Math.min(interval / 4, this.options.maxTickMs ?? 15_000);
    const jitter = base * (0.9 + Math.random() * 0.2);
    this.timer = setTimeout(() => this.tick(), Math.max(50, jitter));
  }

  private tick(): void {
    if (this.stopped) return;
    if (!this.running) {
      this.running = this.runDueHosts()
        .catch((error: Error) => this.options.log.error({ err: error }, `round failed: ${error.message}`))
        .finally(() => {
          this.running = undefined;
        });
    } else if (!this.assessing) {
      // A long round is exactly when the backlog grows: keep watching it.
      this.assessing = this.assessLoad().finally(() => {
        this.assessing = undefined;
      });
    }
    this.scheduleNext();
  }

  /** Reads the backlog and lets the load monitor log a change of state. Never throws. */
  private async assessLoad(): Promise<void> {
    const { load, claimer } = this.options;
    if (!load) return;
    try {
      const { clients, settings } = this.options.config();
      const now = new Date();
      const backlog = await claimer.backlog(clients, now, settings.intervalSeconds);
      const line = load.observe(backlog, now, {
        intervalSeconds: settings.intervalSeconds,
        concurrency: settings.concurrency,
      });
      if (line && load.status().state === 'behind') this.options.log.warn(line);
      else if (line) this.options.log.info(line);
    } catch (error) {
      this.options.log.error({ err: error }, `reading the backlog failed: ${(error as Error).message}`);
    }
  }

  private async runDueHosts(): Promise<void> {
    const config = this.options.config();
    const { claimer, store } = this.options;
    const now = new Date();
    const due = await claimer.claim(config.clients, now, config.settings.intervalSeconds);
    await this.assessLoad();
    if (due.length === 0) return;
    const released: Promise<void>[] = [];
    const onEvent = (event: RoundEvent) => {
      this.options.onEvent?.(event);
      // A host that is done is free at once, not when the slowest host of its round is: other
      // collectors may take it when it falls due again while this round still runs.
      if (event.type === 'host-ok' || event.type === 'host-failed') {
        released.push(
          claimer
            .finish([event.client], new Date())
            .catch((error: Error) =>
              this.options.log.error({ err: error }, `releasing ${event.client.name} failed: ${error.message}`),
            ),
        );
      }
    };
    try {
      const summary = await collectRound(config, store, { clients: due, signal: this.abort.signal, onEvent });
      this.options.log.info(
        `round ${summary.roundId}: ${summary.hostsOk} ok, ${summary.hostsFailed} failed in ${((summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000).toFixed(1)}s`,
      );
      await this.options.afterRound?.(summary);
    } finally {
      await Promise.all(released);
      await claimer
        .finish(due, new Date())
        .catch((error: Error) => this.options.log.error({ err: error }, `releasing hosts failed: ${error.message}`));
    }
  }

  /** Stops ticking; waits up to `graceMs` for the running round, then abandons its hosts. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.assessing;
    const running = this.running;
    if (!running) return;
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([running.then(() => 'done' as const), grace])) === 'timeout') {
      this.options.log.warn(`round still running after ${graceMs} ms: abandoning its remaining hosts`);
      this.abort.abort();
      await running;
    }
  }
}
