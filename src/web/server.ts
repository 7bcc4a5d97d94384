/**
 * The web part of `fleetstat serve`: the dashboard, the JSON API and Prometheus /metrics over
 * one Fastify instance. The caller listens (127.0.0.1 by default) and closes it.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config/types.js';
import type { CollectionStatus } from './collection-status.js';
import type { Store } from '../store/open-store.js';
import { installAccess, type AccessOptions } from './access.js';
import { registerApiRoutes } from './api-routes.js';
import { isAssetPath, registerAssetRoutes } from './asset-routes.js';
import type { CounterRegistry } from './metrics/counter-registry.js';
import { registerMetricsRoute } from './metrics/metrics-route.js';
import { registerPageRoutes } from './page-routes.js';
import { renderErrorPage } from './pages/error-page.js';
import { BadRequest, NotFound } from './request-params.js';

export interface WebServerOptions {
  store: Store;
  /** The current config (a function, so a reloaded config shows at once). */
  config: () => Config;
  /** Credentials for the dashboard and API; none means open (bind to loopback then). */
  auth?: AccessOptions;
  /** Serve /metrics without credentials (default true, as Prometheus scrapers expect). */
  metricsOpen?: boolean;
  /** Whether the collectors keep up: /api/collection, /metrics, the overview's banner. */
  collection?: () => CollectionStatus;
  /** Counters the serve loop bumps, exposed on /metrics. */
  counters?: CounterRegistry;
  /** Fastify's logger setting (default off). */
  logger?: FastifyServerOptions['logger'];
  /** Clock, for tests. */
  now?: () => Date;
}

/** Builds the server with every route registered, ready to `listen`. */
export async function buildWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false });
  const metricsOpen = options.metricsOpen ?? true;
  installAccess(app, options.auth ?? {}, (path) => isAssetPath(path) || (metricsOpen && path === '/metrics'));

  const wantsJson = (url: string) => url.startsWith('/api/') || url === '/metrics';
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status = 500;
    let message = 'internal error; see the server log';
    if (error instanceof BadRequest) [status, message] = [400, error.message];
    else if (error instanceof NotFound) [status, message] = [404, error.message];
    else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) [status, message] = [error.statusCode, error.message];
    else request.log.error({ err: error }, 'request failed');
    reply.code(status);
    if (wantsJson(request.url)) return reply.send({ error: message });
    return reply.type('text/html; charset=utf-8').send(renderErrorPage(status, message));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404);
    if (wantsJson(request.url)) return reply.send({ error: `no such endpoint: ${request.method} ${request.url.split('?')[0]}` });
    return reply.type('text/html; charset=utf-8').send(renderErrorPage(404, 'There is no such page.'));
  });

  const deps = { store: options.store, config: options.config, now: options.now, collection: options.collection };
  await registerAssetRoutes(app);
  registerApiRoutes(app, deps);
  registerPageRoutes(app, deps);
  registerMetricsRoute(app, { ...deps, counters: options.counters });
  return app;
}

export { CounterRegistry } from './metrics/counter-registry.js';
export type { AccessOptions } from './access.js';
