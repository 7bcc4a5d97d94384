/**
 * How long `fleetstat db copy` takes to move a year of a 200-host fleet from SQLite into
 * PostgreSQL or MySQL/MariaDB: `npx tsx bench/db-copy-year.ts`
 * (options: --hosts 200 --days 1 --targets postgres,mysql --batch-size 1000).
 *
 * A year at one sample a minute is 200 × 525,600 = 105 M samples and, with two disks, two
 * NICs and a logged-in user each, about 630 M rows: more than this machine can write in a
 * benchmark run. So a slice is written for real (by default one day: a round a minute and
 * every host's sample with its disks, NICs and user, as collectors write them) and copied with
 * the same code as the command (copyDatabase, verified by row counts); the year is extrapolated
 * linearly from the measured rows per second, which the output says.
 * Each database is fresh (test/support/databases.ts) and dropped at the end.
 */
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { copyDatabase } from '../src/store/copy/copy-database.js';
import { createTestDatabase, type TestDialect } from '../test/support/databases.js';
import { syntheticSample } from './synthetic-sample.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '200' },
    days: { type: 'string', default: '1' },
    targets: { type: 'string', default: 'postgres,mysql' },
    'batch-size': { type: 'string', default: '1000' },
  },
});
const HOSTS = Number(values.hosts);
const DAYS = Number(values.days);
const BATCH = Number(values['batch-size']);
const START = Date.UTC(2025, 0, 1);
const MINUTES_PER_YEAR = 365 * 24 * 60;

/** Writes DAYS of one-minute rounds for HOSTS hosts; returns the number of rows written. */
async function fill(store: Store): Promise<number> {
  const db = store.db as unknown as Kysely<any>;
  for (let h = 1; h <= HOSTS; h++) {
    await db
      .insertInto('hosts')
      .values({
        id: h,
        ip: `10.2.${Math.floor(h / 250)}.${h % 250}`,
        port: 22,
        name: `host-${String(h).padStart(3, '0')}`,
        os: 'linux',
        first_seen: new Date(START),
        last_seen: new Date(START),
      })
      .execute();
  }
  let rows = HOSTS;
  let sampleId = 0;
  for (let m = 0; m < DAYS * 1440; m++) {
    const at = new Date(START + m * 60_000);
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('rounds')
        .values({
          id: m + 1,
          started_at: at,
          finished_at: new Date(at.getTime() + 2000),
          hosts_ok: HOSTS,
          hosts_failed: 0,
        })
        .execute();
      const samples = [],
        disks = [],
        nics = [],
        users = [];
      for (let h = 1; h <= HOSTS; h++) {
        const id = ++sampleId;
        samples.push({ ...syntheticSample(h, at, m, new Date(START - 86400_000)), id, round_id: m + 1 });
        for (const mount of ['/', '/var'])
          disks.push({
            sample_id: id,
            mount,
            fs: 'ext4',
            device: `/dev/sda${mount.length}`,
            size_bytes: 2 ** 36,
            used_bytes: 2 ** 35,
            avail_bytes: 2 ** 35,
            used_percent: 50,
          });
        for (const name of ['lo', 'eth0'])
          nics.push({
            sample_id: id,
            name,
            rx_bytes: m * 1e6 + h,
            tx_bytes: m * 5e5,
            rx_packets: m * 900,
            tx_packets: m * 700,
            rx_errors: 0,
            tx_errors: 0,
          });
        users.push({ sample_id: id, name: 'ops', tty: 'pts/0', from_host: '10.0.0.9', login_at: new Date(START) });
      }
      // Chunks keep every INSERT under the dialects' parameter limits.
      for (const [table, list] of [
        ['samples', samples],
        ['disk_usage', disks],
        ['net_io', nics],
        ['logged_in_users', users],
      ] as const) {
        for (let i = 0; i < list.length; i += 400)
          await trx
            .insertInto(table)
            .values(list.slice(i, i + 400))
            .execute();
      }
      rows += 1 + samples.length + disks.length + nics.length + users.length;
    });
    if (m % 60 === 59) process.stderr.write(`  filling: hour ${(m + 1) / 60} of ${DAYS * 24}\r`);
  }
  process.stderr.write('\n');
  return rows;
}

const source = await createTestDatabase('sqlite');
const sourceStore = await openStore(source.url);
try {
  await migrate(sourceStore);
  const began = performance.now();
  const rows = await fill(sourceStore);
  console.log(
    `db-copy-year: source SQLite with ${HOSTS} hosts × ${DAYS} day(s) of 1-minute rounds: ${rows.toLocaleString('en')} rows (written in ${((performance.now() - began) / 1000).toFixed(0)} s)`,
  );
  const yearFactor = MINUTES_PER_YEAR / (DAYS * 1440);
  for (const dialect of values.targets.split(',') as TestDialect[]) {
    const target = await createTestDatabase(dialect);
    const targetStore = await openStore(target.url);
    try {
      await migrate(targetStore);
      const start = performance.now();
      const outcome = await copyDatabase(sourceStore, targetStore, { batchSize: BATCH });
      const seconds = (performance.now() - start) / 1000;
      if (outcome.status !== 'verified') throw new Error(`copy to ${dialect}: ${JSON.stringify(outcome)}`);
      const rate = rows / seconds;
      const yearHours = (rows * yearFactor) / rate / 3600;
      console.log(
        `${dialect}: copied and verified ${rows.toLocaleString('en')} rows in ${seconds.toFixed(1)} s (${Math.round(rate).toLocaleString('en')} rows/s, batch ${BATCH})`,
      );
      console.log(
        `${dialect}: a year of ${HOSTS} hosts (${Math.round(rows * yearFactor).toLocaleString('en')} rows) at that rate: ~${yearHours.toFixed(1)} h (extrapolated linearly from the slice)`,
      );
    } finally {
      await targetStore.close();
      await target.drop();
    }
  }
} finally {
  await sourceStore.close();
  await source.drop();
}
