/** GET /metrics: the Prometheus text exposition of the fleet, the collector and the in-process counters. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../api-routes.js';
import type { CounterRegistry } from './counter-registry.js';
import type { ProcessMetrics } from './process-metrics.js';
import { EXPOSITION_CONTENT_TYPE, renderExposition } from './exposition.js';
import { fleetMetricFamilies } from './fleet-metrics.js';
import { collectionMetricFamilies, UNKNOWN_COLLECTION } from '../collection-status.js';

/** Registers /metrics on `app`. */
export function registerMetricsRoute(
  app: FastifyInstance,
  deps: ApiDeps & { counters?: CounterRegistry; processMetrics?: ProcessMetrics },
): void {
  app.get('/metrics', async (_request, reply) => {
    const families = [
      ...(await fleetMetricFamilies(deps.store.db, deps.config())),
      ...collectionMetricFamilies(deps.collection?.() ?? UNKNOWN_COLLECTION),
    ];
    const own = new Set(families.map((f) => f.name));
    // A counter named like a DB-derived family would make the exposition invalid; the DB one wins.
    const counters = (deps.counters?.families() ?? []).filter((f) => !own.has(f.name));
    const processFamilies = deps.processMetrics?.families() ?? [];
    return reply
      .type(EXPOSITION_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send(renderExposition([...families, ...counters, ...processFamilies]));
  });
}
