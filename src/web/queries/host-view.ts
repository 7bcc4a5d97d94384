/** Everything the host page and `/api/hosts/:id` show about one host, read in one go. */
import type { Kysely } from 'kysely';
import type { Config } from '../../config/types.js';
import type { Database } from '../../store/schema.js';
import { findFleetHost } from './fleet-hosts.js';
import { listAlerts, listEvents, sampleDisks, sampleUsers } from './host-details.js';
import { hostErrorHistory } from './rounds.js';
import { NotFound } from '../request-params.js';

/** Loads a host with its latest disks and users, alerts, recent events and errors; 404s if unknown. */
export async function loadHostView(
  db: Kysely<Database>,
  config: Config,
  id: number,
  recent: { events: number; errors: number },
) {
  const host = await findFleetHost(db, config, id);
  if (!host) throw new NotFound(`no host with id ${id}`);
  const sampleId = host.latest?.sample_id;
  const [disks, users, alerts, events, errors] = await Promise.all([
    sampleId === undefined ? [] : sampleDisks(db, sampleId),
    sampleId === undefined ? [] : sampleUsers(db, sampleId),
    listAlerts(db, { hostId: id, limit: 100 }),
    listEvents(db, { hostId: id, limit: recent.events }),
    hostErrorHistory(db, id, recent.errors),
  ]);
  return { host, disks, users, alerts, events, errors };
}
