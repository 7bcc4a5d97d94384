/** The dashboard's HTML pages: overview, host, alerts, rounds. Data comes from the same queries as the API. */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './api-routes.js';
import { listFleetHosts } from './queries/fleet-hosts.js';
import { listAlerts } from './queries/host-details.js';
import { outboxCounts } from './queries/outbox-counts.js';
import { loadHostView } from './queries/host-view.js';
import { latestFinishedRound, listRounds } from './queries/rounds.js';
import { parseChoice, parseId, readQuery } from './request-params.js';
import { collectionBanner, UNKNOWN_COLLECTION } from './collection-status.js';
import { renderAlertsPage } from './pages/alerts-page.js';
import { listSilences } from '../alerts/silence-store.js';
import { listUndeliveredMail } from './queries/mail-delivery.js';
import { CHART_RANGES, renderHostPage, type ChartRange } from './pages/host-page.js';
import { renderOverviewPage } from './pages/overview-page.js';
import { HOST_FILTERS, limitsByEndpoint } from './pages/triage.js';
import { renderRoundsPage } from './pages/rounds-page.js';

const HTML = 'text/html; charset=utf-8';

/** Registers the HTML routes on `app`. */
export function registerPageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const db = deps.store.db;
  const now = deps.now ?? (() => new Date());

  app.get('/', async (request, reply) => {
    const query = readQuery(request.query, ['q', 'status']);
    const filter = parseChoice(query.status, 'status', HOST_FILTERS, 'all');
    const config = deps.config();
    const [hosts, round, firing] = await Promise.all([
      listFleetHosts(db, config),
      latestFinishedRound(db),
      listAlerts(db, { state: 'firing', limit: 10_000 }),
    ]);
    const firingRules = new Map<number, string[]>();
    for (const alert of firing) firingRules.set(alert.host_id, [...(firingRules.get(alert.host_id) ?? []), alert.rule]);
    return reply.type(HTML).send(
      renderOverviewPage(hosts, round, now(), {
        filter,
        query: (query.q ?? '').slice(0, 200),
        firingRules,
        limits: limitsByEndpoint(config),
        banner: collectionBanner(deps.collection?.() ?? UNKNOWN_COLLECTION),
      }),
    );
  });

  app.get<{ Params: { id: string } }>('/hosts/:id', async (request, reply) => {
    const query = readQuery(request.query, ['range']);
    const id = parseId(request.params.id, 'id');
    const range = parseChoice(query.range, 'range', Object.keys(CHART_RANGES) as ChartRange[], '24h');
    const { host, disks, users, alerts, events, errors } = await loadHostView(db, deps.config(), id, {
      events: 50,
      errors: 50,
    });
    return reply
      .type(HTML)
      .send(renderHostPage({ host: { ...host, id }, range, disks, users, alerts, events, errors }, now()));
  });

  app.get('/alerts', async (request, reply) => {
    readQuery(request.query, []);
    const [alerts, delivery, undelivered, silences] = await Promise.all([
      listAlerts(db, { limit: 500 }),
      outboxCounts(db),
      listUndeliveredMail(db, 50),
      listSilences(db, now()),
    ]);
    return reply.type(HTML).send(renderAlertsPage(alerts, now(), { counts: delivery, undelivered, silences }));
  });

  app.get('/rounds', async (request, reply) => {
    readQuery(request.query, []);
    const [rounds, outbox] = await Promise.all([listRounds(db, 100), outboxCounts(db)]);
    return reply.type(HTML).send(renderRoundsPage(rounds, outbox));
  });
}
