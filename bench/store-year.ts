/**
 * How the store holds a year of history, per dialect: `npx tsx bench/store-year.ts`
 * (options: --hosts 50 --days 7 --dialects sqlite,postgres,mysql).
 *
 * The target is 500 hosts × one sample a minute × one year = 262.8 M sample rows, more than
 * this machine can write in a test run. So a representative slice is written for real (by
 * default 50 hosts × 7 days = 504,000 samples, in time order as collectors write them, one
 * multi-row INSERT per batch) and the full year is extrapolated linearly from its rate and
 * bytes per row, which is stated in the output. Then, on the filled table, it times the reads
 * the dashboard, the API and /metrics really run (src/web/queries): listHostSummaries (the
 * overview: every host with its newest sample) and hostSeries (the chart of one host's day, as
 * GET /api/hosts/:id/samples asks for it), and prints the plan of every statement they issued
 * (captured as they ran) to show the sample reads walk samples_host_collected_id_idx.
 * Each dialect gets a fresh database (test/support/databases.ts), dropped at the end.
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CompiledQuery,
  sql,
  type Insertable,
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import type { Database } from '../src/store/schema.js';
import { MAX_SERIES_POINTS } from '../src/web/api-routes.js';
import { hostSeries } from '../src/web/queries/host-series.js';
import { listHostSummaries } from '../src/web/queries/host-summaries.js';
import { createTestDatabase, type TestDialect } from '../test/support/databases.js';
import { syntheticSample } from './synthetic-sample.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '50' },
    days: { type: 'string', default: '7' },
    dialects: { type: 'string', default: 'sqlite,postgres,mysql' },
  },
});
const HOSTS = Number(values.hosts);
const DAYS = Number(values.days);
const TARGET_ROWS = 500 * 365 * 24 * 60;
const BATCH_ROWS = 500; // 18 columns → 9,000 parameters: under every dialect's limit
const START = Date.UTC(2024, 0, 1);

async function fill(store: Store, hostIds: number[]): Promise<{ rows: number; seconds: number }> {
  const minutes = DAYS * 24 * 60;
  let batch: Insertable<Database['samples']>[] = [];
  let rows = 0;
  const began = performance.now();
  for (let m = 0; m < minutes; m++) {
    const at = new Date(START + m * 60_000);
    for (const hostId of hostIds) {
      batch.push(syntheticSample(hostId, at, m, new Date(START - 86400_000)));
      if (batch.length === BATCH_ROWS) {
        await store.db.insertInto('samples').values(batch).execute();
        rows += batch.length;
        batch = [];
      }
    }
    if (m % (24 * 60) === 0 && m > 0) process.stderr.write(`  ${store.dialect}: day ${m / 1440} of ${DAYS}\r`);
  }
  if (batch.length > 0) {
    await store.db.insertInto('samples').values(batch).execute();
    rows += batch.length;
  }
  return { rows, seconds: (performance.now() - began) / 1000 };
}

async function samplesTableBytes(store: Store, file?: string): Promise<number> {
  if (store.dialect === 'postgres') {
    const { rows } = await sql<{ n: string }>`select pg_total_relation_size('samples') as n`.execute(store.db);
    return Number(rows[0]!.n);
  }
  if (store.dialect === 'mysql') {
    await sql`analyze table samples`.execute(store.db);
    const { rows } = await sql<{
      n: string;
    }>`select data_length + index_length as n from information_schema.tables where table_schema = database() and table_name = 'samples'`.execute(
      store.db,
    );
    return Number(rows[0]!.n);
  }
  await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
  return statSync(file!).size; // the whole file: samples dominates it
}

/** Median wall time of `runs` calls, in ms. */
async function median(runs: number, body: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const began = performance.now();
    await body();
    times.push(performance.now() - began);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** Records every statement run through it, to EXPLAIN exactly what a read issued. */
class StatementRecorder implements KyselyPlugin {
  readonly nodes: RootOperationNode[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.nodes.push(args.node);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** The statements `read` runs against `db`, compiled as the database receives them. */
async function statementsOf(
  db: Kysely<Database>,
  read: (db: Kysely<Database>) => Promise<unknown>,
): Promise<CompiledQuery[]> {
  const recorder = new StatementRecorder();
  const recording = db.withPlugin(recorder);
  await read(recording);
  return recorder.nodes.map((node) => recording.getExecutor().compileQuery(node, { queryId: 'explain' }));
}

/** The plan of a query, as text lines. */
async function plan(store: Store, query: CompiledQuery): Promise<string[]> {
  const prefix =
    store.dialect === 'sqlite' ? 'explain query plan ' : store.dialect === 'mysql' ? 'explain ' : 'explain ';
  const { rows } = await store.db.executeQuery(CompiledQuery.raw(prefix + query.sql, [...query.parameters]));
  return rows.map((row) =>
    Object.values(row as Record<string, unknown>)
      .filter((v) => typeof v === 'string')
      .join(' '),
  );
}

/** The plans of several statements, each with its SQL. */
async function explainAll(store: Store, queries: CompiledQuery[]): Promise<{ sql: string; lines: string[] }[]> {
  const out: { sql: string; lines: string[] }[] = [];
  for (const query of queries) out.push({ sql: query.sql, lines: await plan(store, query) });
  return out;
}

async function benchDialect(dialect: TestDialect): Promise<void> {
  const database = await createTestDatabase(dialect);
  const store = await openStore(database.url);
  try {
    await migrate(store);
    const hostIds: number[] = [];
    for (let h = 0; h < HOSTS; h++) {
      await store.db
        .insertInto('hosts')
        .values({
          ip: `10.1.${Math.floor(h / 250)}.${1 + (h % 250)}`,
          port: 22,
          name: `host-${String(h).padStart(3, '0')}`,
          first_seen: new Date(START),
        })
        .execute();
    }
    for (const row of await store.db.selectFrom('hosts').select('id').orderBy('id').execute()) hostIds.push(row.id);
    const { rows, seconds } = await fill(store, hostIds);
    await sql`analyze`.execute(store.db).catch(() => undefined);
    if (dialect === 'mysql') await sql`analyze table samples`.execute(store.db);
    const bytes = await samplesTableBytes(
      store,
      dialect === 'sqlite' ? database.url.slice('sqlite:'.length) : undefined,
    );
    const rate = rows / seconds;
    const bytesPerRow = bytes / rows;

    // The reads as the overview (and /metrics) and a host's one-day chart run them.
    const overview = (db: Kysely<Database>) => listHostSummaries(db);
    const hostId = hostIds[Math.floor(hostIds.length / 2)]!;
    const dayFrom = new Date(START + Math.floor(DAYS / 2) * 86400_000);
    const dayTo = new Date(dayFrom.getTime() + 86400_000 - 60_000); // the API's range is inclusive
    const dayChart = (db: Kysely<Database>) => hostSeries(db, hostId, dayFrom, dayTo, MAX_SERIES_POINTS);
    const day = await dayChart(store.db);
    if (day.samples !== 1440 || day.time.length !== 1440)
      throw new Error(`expected 1440 samples in one host's day, got ${day.samples}`);
    const latest = await overview(store.db);
    if (
      latest.length !== HOSTS ||
      latest.some((h) => h.latest?.collected_at !== new Date(START + (DAYS * 1440 - 1) * 60_000).toISOString())
    ) {
      throw new Error("listHostSummaries did not return every host's last minute");
    }
    const latestMs = await median(5, () => overview(store.db));
    const dayMs = await median(9, () => dayChart(store.db));

    const plans = {
      latest: await explainAll(store, await statementsOf(store.db, overview)),
      day: await explainAll(store, await statementsOf(store.db, dayChart)),
    };
    const usesIndex = (planned: { lines: string[] }[]) =>
      planned.some((p) => p.lines.some((l) => l.includes('samples_host_collected_id_idx')));

    const yearHours = TARGET_ROWS / rate / 3600;
    const yearGiB = (TARGET_ROWS * bytesPerRow) / 2 ** 30;
    console.log(`\n== ${dialect} ==`);
    console.log(
      `wrote ${rows.toLocaleString('en')} samples (${HOSTS} hosts × ${DAYS} days × 1440) in ${seconds.toFixed(1)} s: ${Math.round(rate).toLocaleString('en')} rows/s`,
    );
    console.log(
      `samples table (with indexes): ${(bytes / 2 ** 20).toFixed(1)} MiB, ${Math.round(bytesPerRow)} bytes/row`,
    );
    console.log(
      `extrapolated to 500 hosts × 1 year (${TARGET_ROWS.toLocaleString('en')} rows): ~${yearGiB.toFixed(0)} GiB; writing it in one go ~${yearHours.toFixed(1)} h (live: 500 rows/min)`,
    );
    console.log(
      `listHostSummaries, the overview and /metrics (${HOSTS} hosts): ${latestMs.toFixed(1)} ms median; uses samples_host_collected_id_idx: ${usesIndex(plans.latest)}`,
    );
    console.log(
      `hostSeries, one host's day chart (1440 points): ${dayMs.toFixed(1)} ms median; uses samples_host_collected_id_idx: ${usesIndex(plans.day)}`,
    );
    for (const [name, planned] of [
      ['overview', plans.latest],
      ["one host's day", plans.day],
    ] as const) {
      console.log(`plans, ${name} (${planned.length} statements):`);
      for (const p of planned) console.log(`  ${p.sql.slice(0, 160)}\n    ${p.lines.join('\n    ')}`);
    }
  } finally {
    await store.close();
    await database.drop();
  }
}

console.log(
  `store-year: ${HOSTS} hosts × ${DAYS} days of 1-minute samples per dialect (a slice of 500 hosts × 1 year, extrapolated)`,
);
for (const dialect of values.dialects.split(',') as TestDialect[]) await benchDialect(dialect);
