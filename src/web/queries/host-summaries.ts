/**
 * Read queries for the fleet overview: every stored host with its latest sample, its worst disk,
 * its firing alerts and its outcome in the latest finished round. A few set-based queries, not
 * one per host, so the overview stays cheap with hundreds of hosts.
 */
import type { Kysely, Selectable } from 'kysely';
import { keyChunks } from '../../store/batches.js';
import type { Database, SamplesTable } from '../../store/schema.js';
import type { Stage } from '../../errors/stage-error.js';
import { toIso, toNumber } from './db-values.js';
import { latestFinishedRound } from './rounds.js';

/** up: sampled in the latest round; down: unreachable (connect stage, a connect timeout included); error: failed at another stage; unknown: not in the latest round. */
export type HostStatus = 'up' | 'down' | 'error' | 'unknown';

/** Stages that mean the host could not be reached at all (a timeout is reported with the stage it interrupted). */
const UNREACHABLE_STAGES: ReadonlySet<Stage> = new Set<Stage>(['connect']);

export interface LatestSampleView {
  sample_id: number;
  collected_at: string | null;
  cpu_percent: number;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  mem_total: number;
  mem_used: number;
  mem_percent: number;
  swap_total: number;
  swap_used: number;
  swap_percent: number;
  uptime_seconds: number;
  process_count: number;
  users_count: number;
  /** Highest used % over the sample's file systems; null when it reported none. */
  disk_max_percent: number | null;
}

export interface HostSummary {
  id: number;
  name: string;
  ip: string;
  port: number;
  os: string | null;
  os_name: string | null;
  kernel: string | null;
  arch: string | null;
  hostname: string | null;
  first_seen: string | null;
  last_seen: string | null;
  status: HostStatus;
  /** The failure in the latest round, if the host failed there. */
  error: { stage: Stage; message: string; occurred_at: string | null } | null;
  latest: LatestSampleView | null;
  firing_alerts: number;
}

/** Every stored host (or the one with `hostId`), ordered by name. */
export async function listHostSummaries(db: Kysely<Database>, hostId?: number): Promise<HostSummary[]> {
  // Each host's latest sample is the newest by collected_at (a spooled report imported late has
  // a higher id but an older time), found by a descending walk of samples_host_collected_id_idx
  // (ORDER BY … LIMIT 1 per host): the cost grows with hosts, not with stored samples.
  let hostQuery = db
    .selectFrom('hosts')
    .selectAll('hosts')
    .select((eb) =>
      eb
        .selectFrom('samples')
        .select('samples.id')
        .whereRef('samples.host_id', '=', 'hosts.id')
        .orderBy('samples.collected_at', 'desc')
        .orderBy('samples.id', 'desc')
        .limit(1)
        .as('latest_sample_id'),
    )
    .orderBy('hosts.name')
    .orderBy('hosts.id');
  if (hostId !== undefined) hostQuery = hostQuery.where('hosts.id', '=', hostId);
  const hosts = await hostQuery.execute();
  if (hosts.length === 0) return [];
  const ids = hosts.map((h) => h.id);

  const latestIds = hosts.flatMap((h) => (h.latest_sample_id == null ? [] : [Number(h.latest_sample_id)]));
  const samples: Selectable<SamplesTable>[] = [];
  for (const part of keyChunks(latestIds))
    samples.push(...(await db.selectFrom('samples').selectAll().where('id', 'in', part).execute()));
  const sampleIds = samples.map((s) => s.id);
  const disks =
    sampleIds.length === 0
      ? []
      : await db
          .selectFrom('disk_usage')
          .select(['sample_id', (eb) => eb.fn.max('used_percent').as('max_percent')])
          .where('sample_id', 'in', sampleIds)
          .groupBy('sample_id')
          .execute();
  const firing = await db
    .selectFrom('alerts')
    .select(['host_id', (eb) => eb.fn.countAll().as('n')])
    .where('state', '=', 'firing')
    .where('host_id', 'in', ids)
    .groupBy('host_id')
    .execute();

  const round = await latestFinishedRound(db);
  const sampledInRound = new Set<number>();
  const errorInRound = new Map<number, HostSummary['error']>();
  if (round) {
    const sampled = await db
      .selectFrom('samples')
      .select('host_id')
      .where('round_id', '=', round.id)
      .where('host_id', 'in', ids)
      .execute();
    for (const s of sampled) sampledInRound.add(Number(s.host_id));
    const errors = await db
      .selectFrom('host_errors')
      .select(['host_id', 'stage', 'message', 'occurred_at'])
      .where('round_id', '=', round.id)
      .where('host_id', 'in', ids)
      .orderBy('id')
      .execute();
    // The first error of a host in a round is the one that stopped it.
    for (const e of errors) {
      if (!errorInRound.has(Number(e.host_id)))
        errorInRound.set(Number(e.host_id), { stage: e.stage, message: e.message, occurred_at: toIso(e.occurred_at) });
    }
  }

  const diskBySample = new Map(disks.map((d) => [Number(d.sample_id), toNumber(d.max_percent)]));
  const sampleByHost = new Map(samples.map((s) => [Number(s.host_id), s]));
  const firingByHost = new Map(firing.map((f) => [Number(f.host_id), toNumber(f.n) ?? 0]));

  return hosts.map((host) => {
    const id = Number(host.id);
    const sample = sampleByHost.get(id);
    const error = errorInRound.get(id) ?? null;
    let status: HostStatus = 'unknown';
    if (sampledInRound.has(id)) status = 'up';
    else if (error) status = UNREACHABLE_STAGES.has(error.stage) ? 'down' : 'error';
    return {
      id,
      name: host.name,
      ip: host.ip,
      port: Number(host.port),
      os: host.os,
      os_name: host.os_name,
      kernel: host.kernel,
      arch: host.arch,
      hostname: host.hostname,
      first_seen: toIso(host.first_seen),
      last_seen: toIso(host.last_seen),
      status,
      error: status === 'up' ? null : error,
      latest: sample
        ? {
            sample_id: Number(sample.id),
            collected_at: toIso(sample.collected_at),
            cpu_percent: Number(sample.cpu_percent),
            load1: toNumber(sample.load1),
            load5: toNumber(sample.load5),
            load15: toNumber(sample.load15),
            mem_total: Number(sample.mem_total),
            mem_used: Number(sample.mem_used),
            mem_percent: Number(sample.mem_percent),
            swap_total: Number(sample.swap_total),
            swap_used: Number(sample.swap_used),
            swap_percent: Number(sample.swap_percent),
            uptime_seconds: Number(sample.uptime_seconds),
            process_count: Number(sample.process_count),
            users_count: Number(sample.users_count),
            disk_max_percent: diskBySample.get(Number(sample.id)) ?? null,
          }
        : null,
      firing_alerts: firingByHost.get(id) ?? 0,
    };
  });
}
