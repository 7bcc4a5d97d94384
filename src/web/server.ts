/**
 * The web part of `fleetstat serve`: the dashboard, the JSON API and Prometheus /metrics over
 * one Fastify instance. The caller listens (127.0.0.1 by default) and closes it.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { CollectionStatus } from './collection-status.js';
import type { Store } from '../store/open-store.js';
import { installAccess, type AccessOptions, type AccessPolicy } from './access.js';
import { registerApiRoutes } from './api-routes.js';
import { isAssetPath, registerAssetRoutes } from './asset-routes.js';
import type { CounterRegistry } from './metrics/counter-registry.js';
import { registerMetricsRoute } from './metrics/metrics-route.js';
import type { ProcessMetrics } from './metrics/process-metrics.js';
import { registerPageRoutes } from './page-routes.js';
import { renderErrorPage } from './pages/error-page.js';
import { BadRequest, NotFound } from './request-params.js';
import { WebLogController } from './web-log-controller.js';

export interface WebServerOptions {
  store: Store;
  /** The current config (a function, so a reloaded config shows at once). */
  config: () => Config;
  /** Credentials for the dashboard and API (a function: read per request); none means open. */
  auth?: AccessOptions | (() => AccessOptions);
  /** Serve /metrics without credentials (default false: it needs the dashboard's credentials). */
  metricsOpen?: boolean | (() => boolean);
  /** Host names answered besides the bound address (DNS-rebinding defence; default none). */
  hostNames?: () => readonly string[];
  /** Whether the collectors keep up: /api/collection, /metrics, the overview's banner. */
  collection?: () => CollectionStatus;
  /** Counters the serve loop bumps, exposed on /metrics. */
  counters?: CounterRegistry;
  /** The serving process's memory, descriptors and event-loop delay, exposed on /metrics. */
  processMetrics?: ProcessMetrics;
  /** Where requests and errors are logged (default: nowhere). */
  logger?: Logger;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Builds the server with every route registered, ready to `listen`. */
export async function buildWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger | undefined = options.logger;
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : {}),
    logController: new WebLogController(),
    // Random ids, so lines of several collectors (or restarts) never share one; clients cannot set them.
    genReqId: () => randomBytes(6).toString('hex'),
  });
  const { auth, metricsOpen, hostNames } = options;
  const policy = (): AccessPolicy => ({
    credentials: (typeof auth === 'function' ? auth() : auth) ?? {},
    metricsOpen: (typeof metricsOpen === 'function' ? metricsOpen() : metricsOpen) ?? false,
    hostNames: hostNames?.() ?? [],
  });
  installAccess(app, policy, isAssetPath);

  const wantsJson = (url: string) => url.startsWith('/api/') || url === '/metrics';
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = 500;
    let message = `internal error; see the server log (request ${request.id})`;
    if (error instanceof BadRequest) [status, message] = [400, error.message];
    else if (error instanceof NotFound) [status, message] = [404, error.message];
    else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500)
      [status, message] = [error.statusCode, error.message];
    else request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
    reply.code(status);
    if (wantsJson(request.url)) return reply.send({ error: message });
    return reply.type('text/html; charset=utf-8').send(renderErrorPage(status, message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404);
    if (wantsJson(request.url))
      return reply.send({ error: `no such endpoint: ${request.method} ${request.url.split('?')[0]}` });
    return reply.type('text/html; charset=utf-8').send(renderErrorPage(404, 'There is no such page.'));
  });

  const deps = { store: options.store, config: options.config, now: options.now, collection: options.collection };
  await registerAssetRoutes(app);
  registerApiRoutes(app, deps);
  registerPageRoutes(app, deps);
  registerMetricsRoute(app, { ...deps, counters: options.counters, processMetrics: options.processMetrics });
  return app;
}

export { CounterRegistry } from './metrics/counter-registry.js';
export { ProcessMetrics } from './metrics/process-metrics.js';
export type { AccessOptions } from './access.js';
