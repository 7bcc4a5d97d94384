/** Every firing alert with its host's labels, for the `fleetstat_alert_firing` metric. */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';

export interface FiringAlert {
  name: string;
  ip: string;
  port: number;
  rule: string;
  severity: string;
}

/** Firing alerts, by host and rule, in a stable order. */
export async function listFiringAlerts(db: Kysely<Database>): Promise<FiringAlert[]> {
  const rows = await db
    .selectFrom('alerts')
    .innerJoin('hosts', 'hosts.id', 'alerts.host_id')
    .select(['hosts.name', 'hosts.ip', 'hosts.port', 'alerts.rule', 'alerts.severity'])
    .where('alerts.state', '=', 'firing')
    .orderBy('hosts.id')
    .orderBy('alerts.rule')
    .execute();
  return rows.map((r) => ({ name: r.name, ip: r.ip, port: Number(r.port), rule: r.rule, severity: r.severity }));
}
