/** Reading samples back for the dashboard and the API. */
import type { Store } from './open-store.js';
import { toHostRow, toSampleRow, toUserRow, type DiskRow, type HostRow, type NicRow, type SampleRow, type UserRow } from './rows.js';

export interface HostWithLatestSample {
  host: HostRow;
  /** The host's most recent sample, or null if it was never collected successfully. */
  sample: SampleRow | null;
}

/**
 * Every host with its most recent sample, ordered by host name.
 * Each host's latest sample is found by a descending walk of the (host_id, collected_at) index
 * (ORDER BY … LIMIT 1 per host), so the cost grows with hosts, not with stored samples.
 */
export async function latestSamples(store: Store): Promise<HostWithLatestSample[]> {
  const hosts = await store.db
    .selectFrom('hosts')
    .selectAll('hosts')
    .select((eb) =>
      eb.selectFrom('samples')
        .select('samples.id')
        .whereRef('samples.host_id', '=', 'hosts.id')
        .orderBy('samples.collected_at', 'desc')
        .orderBy('samples.id', 'desc')
        .limit(1)
        .as('latest_sample_id'),
    )
    .orderBy('hosts.name')
    .orderBy('hosts.id')
    .execute();

  const sampleIds = hosts.flatMap((h) => (h.latest_sample_id == null ? [] : [Number(h.latest_sample_id)]));
  const samples = new Map<number, SampleRow>();
  for (let i = 0; i < sampleIds.length; i += 1000) {
    const rows = await store.db.selectFrom('samples').selectAll().where('id', 'in', sampleIds.slice(i, i + 1000)).execute();
    for (const row of rows) samples.set(Number(row.id), toSampleRow(row));
  }
  return hosts.map(({ latest_sample_id, ...host }) => ({
    host: toHostRow(host),
    sample: latest_sample_id == null ? null : samples.get(Number(latest_sample_id)) ?? null,
  }));
}

/** One host's samples with from <= collected_at < to, oldest first. */
export async function hostSamples(store: Store, hostId: number, from: Date, to: Date): Promise<SampleRow[]> {
  const rows = await store.db
    .selectFrom('samples')
    .selectAll()
    .where('host_id', '=', hostId)
    .where('collected_at', '>=', from)
    .where('collected_at', '<', to)
    .orderBy('collected_at')
    .orderBy('id')
    .execute();
  return rows.map(toSampleRow);
}

export interface SampleDetails {
  disks: DiskRow[];
  nics: NicRow[];
  users: UserRow[];
}

/** The disks, network interfaces and logged-in users recorded with one sample. */
export async function sampleDetails(store: Store, sampleId: number): Promise<SampleDetails> {
  const [disks, nics, users] = await Promise.all([
    store.db.selectFrom('disk_usage').selectAll().where('sample_id', '=', sampleId).orderBy('id').execute(),
    store.db.selectFrom('net_io').selectAll().where('sample_id', '=', sampleId).orderBy('id').execute(),
    store.db.selectFrom('logged_in_users').selectAll().where('sample_id', '=', sampleId).orderBy('id').execute(),
  ]);
  return { disks, nics, users: users.map(toUserRow) };
}
