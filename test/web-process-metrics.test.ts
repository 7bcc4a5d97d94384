/**
 * The serving process's own gauges on /metrics (src/web/metrics/process-metrics.ts): they follow
 * what the process does (a descriptor opened, the event loop blocked), and each scrape starts a
 * new event-loop window.
 */
import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessMetrics } from '../src/web/metrics/process-metrics.js';
import { renderExposition } from '../src/web/metrics/exposition.js';

const valueOf = (metrics: ProcessMetrics | ReturnType<ProcessMetrics['families']>, name: string): number => {
  const families = Array.isArray(metrics) ? metrics : metrics.families();
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no ${name}`);
  return family.samples[0]!.value;
};

/** Keeps the event loop busy for `ms` (what a synchronous query or a big JSON parse does). */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* busy */
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('process metrics', () => {
  let metrics: ProcessMetrics | undefined;
  afterEach(() => metrics?.stop());

  it('reports memory and heap as the process sees them, under the usual names', () => {
    metrics = new ProcessMetrics();
    const families = metrics.families();
    expect(families.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'process_start_time_seconds',
        'process_resident_memory_bytes',
        'process_open_fds',
        'nodejs_heap_size_used_bytes',
        'nodejs_heap_size_total_bytes',
        'nodejs_eventloop_lag_p99_seconds',
      ]),
    );
    expect(valueOf(families, 'process_resident_memory_bytes')).toBeGreaterThan(
      valueOf(families, 'nodejs_heap_size_used_bytes'),
    );
    expect(valueOf(families, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1 << 20);
    expect(
      Math.abs(valueOf(families, 'process_start_time_seconds') - (Date.now() / 1000 - process.uptime())),
    ).toBeLessThan(2);
    expect(renderExposition(families)).toMatch(/^# TYPE process_open_fds gauge$/m);
  });

  it('counts a descriptor the process opens, and its closing', () => {
    metrics = new ProcessMetrics();
    const before = valueOf(metrics, 'process_open_fds');
    const fd = openSync(new URL(import.meta.url).pathname, 'r');
    try {
      expect(valueOf(metrics, 'process_open_fds')).toBe(before + 1);
    } finally {
      closeSync(fd);
    }
    expect(valueOf(metrics, 'process_open_fds')).toBe(before);
  });

  it('sees the event loop blocked, and starts a fresh window at each scrape', async () => {
    metrics = new ProcessMetrics(1);
    await tick(30);
    block(1000);
    await tick(30);
    const blocked = metrics.families();
    expect(valueOf(blocked, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.9);
    // The next window has not seen that block (on a busy machine it may see other, shorter delays).
    await tick(30);
    expect(valueOf(metrics, 'nodejs_eventloop_lag_max_seconds')).toBeLessThan(
      valueOf(blocked, 'nodejs_eventloop_lag_max_seconds'),
    );
  });
});
