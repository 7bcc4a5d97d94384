/**
 * In-process counters the serve loop bumps (rounds run, hosts collected, mails sent …) and
 * /metrics exposes next to the values read from the database. Counters only go up and reset
 * when the process restarts, as Prometheus expects of a `_total` counter.
 */
import type { MetricFamily } from './exposition.js';

interface CounterFamily {
  help: string;
  values: Map<string, { labels: Record<string, string>; value: number }>;
}

/** A set of named counters with labels. */
export class CounterRegistry {
  readonly #families = new Map<string, CounterFamily>();

  /** Declares a counter (its name should end in `_total`) with its HELP text; idempotent. */
  describe(name: string, help: string): this {
    if (!this.#families.has(name)) this.#families.set(name, { help, values: new Map() });
    return this;
  }

  /** Adds `by` (default 1, must be ≥ 0) to the counter `name` with `labels`. Declares it if needed. */
  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${name} can only increase (got ${by})`);
    const family = this.#families.get(name) ?? this.describe(name, name).#families.get(name)!;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    const entry = family.values.get(key);
    if (entry) entry.value += by;
    else family.values.set(key, { labels: { ...labels }, value: by });
  }

  /** The current value of a counter (0 if never bumped). */
  get(name: string, labels: Record<string, string> = {}): number {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    return this.#families.get(name)?.values.get(key)?.value ?? 0;
  }

  /** The counters as metric families for the exposition writer. */
  families(): MetricFamily[] {
    return [...this.#families.entries()].map(([name, family]) => ({
      name,
      help: family.help,
      type: 'counter' as const,
      samples: [...family.values.values()].map((v) => ({ labels: v.labels, value: v.value })),
    }));
  }
}
