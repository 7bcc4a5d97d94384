/**
 * The serving process's own health on /metrics, under the names Prometheus client libraries use
 * (prom-client's default metrics): resident memory, V8 heap, open file descriptors and the
 * event-loop delay. A serve that runs for months is watched with these (bench/soak.ts reads them).
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { MetricFamily } from './exposition.js';

const NS_PER_S = 1e9;

/** Open file descriptors of this process (Linux: entries of /proc/self/fd), or undefined elsewhere. */
function openFds(): number | undefined {
  try {
    // The directory handle readdirSync opens is one of the entries: leave it out.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined; // no /proc (not Linux): the gauge is left out, not faked
  }
}

/**
 * Samples the event-loop delay from creation until stop(); families() reports the delay since
 * the previous call (so each scrape sees its own window, as prom-client does) and the process
 * gauges read at that moment.
 */
export class ProcessMetrics {
  readonly #delay: IntervalHistogram;
  readonly #startSeconds = Math.round(Date.now() / 1000 - process.uptime());

  constructor(resolutionMs = 10) {
    this.#delay = monitorEventLoopDelay({ resolution: resolutionMs });
    this.#delay.enable();
  }

  /** Stops sampling the event loop. */
  stop(): void {
    this.#delay.disable();
  }

  /** The process families; resets the event-loop delay window. */
  families(): MetricFamily[] {
    const memory = process.memoryUsage();
    const fds = openFds();
    const delay = this.#delay;
    // Before the first sample the histogram holds nothing and reports NaN/huge values: say 0.
    const seconds = (ns: number) => (delay.count > 0 && Number.isFinite(ns) ? ns / NS_PER_S : 0);
    const gauge = (name: string, help: string, value: number): MetricFamily => ({
      name,
      help,
      type: 'gauge',
      samples: [{ value }],
    });
    const families = [
      gauge(
        'process_start_time_seconds',
        'Start time of the process since the Unix epoch, seconds.',
        this.#startSeconds,
      ),
      gauge('process_resident_memory_bytes', 'Resident memory size, bytes.', memory.rss),
      gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, bytes.', memory.heapUsed),
      gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated, bytes.', memory.heapTotal),
      gauge(
        'nodejs_external_memory_bytes',
        'Memory of C++ objects bound to JavaScript (buffers included), bytes.',
        memory.external,
      ),
      gauge(
        'nodejs_eventloop_lag_p50_seconds',
        'Event-loop delay, median since the previous scrape, seconds.',
        seconds(delay.percentile(50)),
      ),
      gauge(
        'nodejs_eventloop_lag_p99_seconds',
        'Event-loop delay, 99th percentile since the previous scrape, seconds.',
        seconds(delay.percentile(99)),
      ),
      gauge(
        'nodejs_eventloop_lag_max_seconds',
        'Event-loop delay, maximum since the previous scrape, seconds.',
        seconds(delay.max),
      ),
    ];
    if (fds !== undefined) families.push(gauge('process_open_fds', 'Open file descriptors.', fds));
    delay.reset();
    return families;
  }
}
