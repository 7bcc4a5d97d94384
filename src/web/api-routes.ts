/** The JSON API under /api: hosts, a host's samples, alerts, security events and rounds. Documented in openapi.ts and docs/api.md. */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import type { Store } from '../store/open-store.js';
import { listFleetHosts } from './queries/fleet-hosts.js';
import { hostSeries } from './queries/host-series.js';
import { loadHostView } from './queries/host-view.js';
import { listAlerts, listEvents } from './queries/host-details.js';
import { listSilences } from '../alerts/silence-store.js';
import { listUndeliveredMail } from './queries/mail-delivery.js';
import { outboxCounts } from './queries/outbox-counts.js';
import { listRounds } from './queries/rounds.js';
import { NotFound, parseChoice, parseId, parseInstant, parseLimit, parseRange, readQuery } from './request-params.js';
import { openApiDocument } from './openapi.js';
import { collectionJson, UNKNOWN_COLLECTION, type CollectionStatus } from './collection-status.js';

/** Most points /samples returns; longer ranges are averaged down to this many. */
export const MAX_SERIES_POINTS = 10_000;

export interface ApiDeps {
  store: Store;
  config: () => Config;
  now?: () => Date;
  /** Whether the collectors keep up (the serve loop's LoadMonitor); unknown without one. */
  collection?: () => CollectionStatus;
}

/** Registers the /api routes on `app`. */
export function registerApiRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.store.db;
  const now = deps.now ?? (() => new Date());

  app.get('/api/openapi.json', async (request) => {
    readQuery(request.query, []);
    return openApiDocument;
  });

  app.get('/api/hosts', async (request) => {
    readQuery(request.query, []);
    return { hosts: await listFleetHosts(db, deps.config()) };
  });

  app.get<{ Params: { id: string } }>('/api/hosts/:id', async (request) => {
    readQuery(request.query, []);
    const id = parseId(request.params.id, 'id');
    return await loadHostView(db, deps.config(), id, { events: 20, errors: 20 });
  });

  app.get<{ Params: { id: string } }>('/api/hosts/:id/samples', async (request) => {
    const query = readQuery(request.query, ['from', 'to']);
    const id = parseId(request.params.id, 'id');
    const { from, to } = parseRange(query, now());
    const exists = await db.selectFrom('hosts').select('id').where('id', '=', id).executeTakeFirst();
    if (!exists) throw new NotFound(`no host with id ${id}`);
    return hostSeries(db, id, from, to, MAX_SERIES_POINTS);
  });

  app.get('/api/alerts', async (request) => {
    const query = readQuery(request.query, ['state', 'limit']);
    const state = parseChoice(query.state, 'state', ['all', 'firing', 'pending', 'ok'] as const, 'all');
    const limit = parseLimit(query.limit, 200, 1000);
    const [alerts, delivery, undelivered] = await Promise.all([
      listAlerts(db, { state: state === 'all' ? undefined : state, limit }),
      outboxCounts(db),
      listUndeliveredMail(db, 100),
    ]);
    return { alerts, delivery, undelivered };
  });

  app.get('/api/silences', async (request) => {
    const query = readQuery(request.query, ['all']);
    const all = parseChoice(query.all, 'all', ['true', 'false'] as const, 'false');
    return { silences: await listSilences(db, now(), { all: all === 'true' }) };
  });

  app.get('/api/events', async (request) => {
    const query = readQuery(request.query, ['host', 'since', 'limit']);
    const hostId = query.host === undefined ? undefined : parseId(query.host, 'host');
    const since = query.since === undefined ? undefined : parseInstant(query.since, 'since');
    const limit = parseLimit(query.limit, 100, 1000);
    return { events: await listEvents(db, { hostId, since, limit }) };
  });

  app.get('/api/collection', async (request) => {
    readQuery(request.query, []);
    return { collection: collectionJson(deps.collection?.() ?? UNKNOWN_COLLECTION) };
  });

  app.get('/api/rounds', async (request) => {
    const query = readQuery(request.query, ['limit']);
    return { rounds: await listRounds(db, parseLimit(query.limit, 50, 1000)) };
  });
}
