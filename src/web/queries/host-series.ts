/**
 * A host's statistics over a time range, column-oriented as uPlot draws them: CPU, memory, swap,
 * the fullest disk and network receive/transmit rates. Bounded: more than `maxPoints` samples
 * are read page by page and averaged into buckets, so memory stays small over any range.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import { toDate, toNumber } from './db-values.js';
import { BucketAverager, counterRate, type SeriesPoint } from './downsample.js';

export const SERIES_NAMES = [
  'cpu_percent',
  'mem_percent',
  'swap_percent',
  'disk_max_percent',
  'rx_bytes_per_second',
  'tx_bytes_per_second',
] as const;
export type SeriesName = (typeof SERIES_NAMES)[number];

export interface HostSeries {
  host_id: number;
  from: string;
  to: string;
  /** Samples in the range before downsampling. */
  samples: number;
  downsampled: boolean;
  /** Unix seconds of each point. */
  time: number[];
  series: Record<SeriesName, (number | null)[]>;
}

const PAGE_SIZE = 2000;

interface RawRow {
  id: number;
  time: number;
  cpu: number | null;
  mem: number | null;
  swap: number | null;
  disk: number | null;
  rx: number | null;
  tx: number | null;
}

/** Reads the samples of `hostId` collected in [from, to], at most `maxPoints` points. */
export async function hostSeries(
  db: Kysely<Database>,
  hostId: number,
  from: Date,
  to: Date,
  maxPoints: number,
): Promise<HostSeries> {
  const count = await db
    .selectFrom('samples')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('host_id', '=', hostId)
    .where('collected_at', '>=', from)
    .where('collected_at', '<=', to)
    .executeTakeFirst();
  const total = toNumber(count?.n) ?? 0;
  const downsampled = total > maxPoints;
  const fromSeconds = from.getTime() / 1000;
  const averager = downsampled
    ? new BucketAverager(fromSeconds, to.getTime() / 1000, maxPoints, SERIES_NAMES.length)
    : undefined;
  const points: SeriesPoint[] = [];
  let previous: RawRow | undefined;

  for (let cursor: { time: Date; id: number } | undefined; ;) {
    const rows = await readPage(db, hostId, from, to, cursor);
    for (const row of rows) {
      const point: SeriesPoint = {
        time: row.time,
        values: [
          row.cpu,
          row.mem,
          row.swap,
          row.disk,
          counterRate(previous && { time: previous.time, value: previous.rx }, row.time, row.rx),
          counterRate(previous && { time: previous.time, value: previous.tx }, row.time, row.tx),
        ],
      };
      if (averager) averager.add(point);
      else points.push(point);
      previous = row;
    }
    if (rows.length < PAGE_SIZE) break;
    const last = rows[rows.length - 1]!;
    cursor = { time: new Date(last.time * 1000), id: last.id };
  }

  const result = averager ? averager.result() : points;
  const series = Object.fromEntries(
    SERIES_NAMES.map((name, i) => [name, result.map((p) => round(p.values[i] ?? null))]),
  ) as HostSeries['series'];
  return {
    host_id: hostId,
    from: from.toISOString(),
    to: to.toISOString(),
    samples: total,
    downsampled,
    time: result.map((p) => Math.round(p.time * 1000) / 1000),
    series,
  };
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

/** One page in (collected_at, id) order, after `cursor`. Aggregates per sample come from correlated subqueries on indexed sample_id. */
async function readPage(
  db: Kysely<Database>,
  hostId: number,
  from: Date,
  to: Date,
  cursor?: { time: Date; id: number },
): Promise<RawRow[]> {
  let query = db
    .selectFrom('samples as s')
    .select((eb) => [
      's.id',
      's.collected_at',
      's.cpu_percent',
      's.mem_percent',
      's.swap_percent',
      eb
        .selectFrom('disk_usage as d')
        .select((sub) => sub.fn.max('d.used_percent').as('m'))
        .whereRef('d.sample_id', '=', 's.id')
        .as('disk_max'),
      // Loopback traffic is the host talking to itself, not network load.
      eb
        .selectFrom('net_io as n')
        .select((sub) => sub.fn.sum('n.rx_bytes').as('r'))
        .whereRef('n.sample_id', '=', 's.id')
        .where('n.name', '<>', 'lo')
        .as('rx'),
      eb
        .selectFrom('net_io as n')
        .select((sub) => sub.fn.sum('n.tx_bytes').as('t'))
        .whereRef('n.sample_id', '=', 's.id')
        .where('n.name', '<>', 'lo')
        .as('tx'),
    ])
    .where('s.host_id', '=', hostId)
    .where('s.collected_at', '>=', from)
    .where('s.collected_at', '<=', to)
    .orderBy('s.collected_at')
    .orderBy('s.id')
    .limit(PAGE_SIZE);
  if (cursor) {
    const c = cursor;
    query = query.where((eb) =>
      eb.or([eb('s.collected_at', '>', c.time), eb.and([eb('s.collected_at', '=', c.time), eb('s.id', '>', c.id)])]),
    );
  }
  const rows = await query.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    time: (toDate(r.collected_at)?.getTime() ?? 0) / 1000,
    cpu: toNumber(r.cpu_percent),
    mem: toNumber(r.mem_percent),
    swap: toNumber(r.swap_percent),
    disk: toNumber(r.disk_max),
    rx: toNumber(r.rx),
    tx: toNumber(r.tx),
  }));
}
