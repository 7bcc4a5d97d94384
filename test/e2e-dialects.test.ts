/**
 * The core pipeline end to end on SQLite, PostgreSQL and MariaDB through the real CLI: real sshd
 * hosts, the real probe, a real SMTP server. Stored types per dialect (64-bit counters, UTC
 * timestamps even when the collector's zone is not UTC), alerts and outbox rows, re-runs that
 * never duplicate events or mails, `db migrate` twice and `db prune`. Then the database failing:
 * down at round start (exit code 4 before any host is contacted) and stopped mid-round
 * (nothing half-written; the reports are spooled and imported by the next round).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meminfoBytes } from './support/this-machine.js';
import { fleetstat as runFleetstat } from './support/cli.js';
import { collectRound } from '../src/collect/round.js';
import { loadConfig } from '../src/config/load-config.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { toDate } from '../src/store/timestamps.js';
import { createTestDatabase, testDialects, withTestDatabase, type TestDatabase } from './support/databases.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';
import { freePort, startFleet, type SshdFleet } from './support/sshd.js';

// Not UTC and not a whole hour off: a timestamp written in local time would show.
const COLLECTOR_TZ = 'Asia/Kolkata';
const fleetstat = (args: string[]) => runFleetstat(args, { TZ: COLLECTOR_TZ });

/** The declared type of a column, lower case, as the database reports it. */
async function columnType(store: Store, table: string, column: string): Promise<string> {
  if (store.dialect === 'sqlite') {
    const { rows } = await sql<{
      name: string;
      type: string;
    }>`select name, type from pragma_table_info(${table})`.execute(store.db);
    return rows.find((r) => r.name === column)!.type.toLowerCase();
  }
  const { rows } = await sql<{
    data_type: string;
  }>`select data_type from information_schema.columns where table_name = ${table} and column_name = ${column} and table_schema = ${store.dialect === 'postgres' ? sql`current_schema()` : sql`database()`}`.execute(
    store.db,
  );
  return rows[0]!.data_type.toLowerCase();
}

const EXPECTED_TYPES = {
  sqlite: { bigint: 'bigint', timestamp: 'text' },
  postgres: { bigint: 'bigint', timestamp: 'timestamp with time zone' },
  mysql: { bigint: 'bigint', timestamp: 'datetime' },
} as const;

describe('fleetstat on every database', () => {
  let fleet: SshdFleet;
  let smtp: SmtpCatcher;
  let dir: string;

  beforeAll(async () => {
    [fleet, smtp] = await Promise.all([startFleet(4), startSmtpCatcher()]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-dialects-'));
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe.each(testDialects())('%s', (dialect) => {
    it('collects, stores typed UTC rows, alerts once, never duplicates, migrates and prunes via the CLI', async () => {
      await withTestDatabase(dialect, async (url) => {
        const configDir = join(dir, `pipeline-${dialect}`);
        mkdirSync(configDir);
        const [h0, h1, h2] = fleet.hosts;
        const config = writeFleetConfig(fleet, {
          dir: configDir,
          databaseUrl: url,
          smtp: { host: smtp.host, port: smtp.port },
          settings: { 'spool-dir': join(configDir, 'spool') },
          clients: [
            {
              host: h0!,
              auth: 'key',
              name: 'alpha',
              mail: `alpha-${dialect}@example.test`,
              alerts: ['<alert type="memory" limit="0%"/>'],
            },
            {
              host: h1!,
              auth: 'password',
              name: 'beta',
              mail: `beta-${dialect}@example.test`,
              alerts: ['<alert type="memory" limit="100%"/>'],
            },
            { host: h2!, auth: 'key', name: 'gamma' },
          ],
        });

        // Migration through the CLI, twice: the second finds nothing to do.
        for (let i = 0; i < 2; i++) {
          const migrated = await fleetstat(['db', 'migrate', '--config', config]);
          expect(migrated.stderr).toBe('');
          expect(migrated).toMatchObject({ code: 0, stdout: expect.stringMatching(/schema up to date/) });
        }

        const mailsBefore = smtp.messages.length;
        const before = Date.now();
        const first = await fleetstat(['collect', '--config', config, '--db', url, '--json']);
        const after = Date.now();
        expect(first.stderr).toBe('');
        expect(first.code).toBe(0);
        expect(JSON.parse(first.stdout)).toMatchObject({ hosts_ok: 3, hosts_failed: 0, mail: { sent: 1, failed: 0 } });

        const store = await openStore(url);
        try {
          const migrations = await sql<{ name: string }>`select name from fleetstat_migration order by name`.execute(
            store.db,
          );
          expect(migrations.rows.map((r) => r.name)).toEqual([
            '0001-initial',
            '0002-host-leases-sample-order',
            '0003-alert-severity-grouping',
            '0004-silences',
            '0005-webhook-outbox',
            '0006-cpu-counters',
          ]);

          for (const [table, column] of [
            ['samples', 'mem_total'],
            ['net_io', 'rx_bytes'],
            ['disk_usage', 'size_bytes'],
          ] as const) {
            expect(await columnType(store, table, column)).toBe(EXPECTED_TYPES[dialect].bigint);
          }
          expect(await columnType(store, 'samples', 'collected_at')).toBe(EXPECTED_TYPES[dialect].timestamp);

          const samples = await store.db
            .selectFrom('samples')
            .innerJoin('hosts', 'hosts.id', 'samples.host_id')
            .select(['hosts.name', 'samples.id', 'samples.mem_total', 'samples.collected_at'])
            .orderBy('hosts.name')
            .execute();
          expect(samples.map((s) => s.name)).toEqual(['alpha', 'beta', 'gamma']);
          for (const sample of samples) {
            expect(sample.mem_total).toBe(meminfoBytes('MemTotal'));
            // UTC in, UTC out: a collector in +05:30 still stores the instant it ran.
            const at = toDate(sample.collected_at).getTime();
            expect(at).toBeGreaterThanOrEqual(before - 1000);
            expect(at).toBeLessThanOrEqual(after + 1000);
          }
          if (dialect === 'sqlite')
            expect(String(samples[0]!.collected_at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          const nics = await store.db
            .selectFrom('net_io')
            .select(['name', 'rx_bytes'])
            .where('sample_id', '=', samples[0]!.id)
            .execute();
          const lo = nics.find((n) => n.name === 'lo');
          // Counters come back as exact integers, not strings.
          expect(Number.isSafeInteger(lo?.rx_bytes)).toBe(true);
          expect(lo!.rx_bytes).toBeGreaterThan(0);

          const alerts = await store.db
            .selectFrom('alerts')
            .innerJoin('hosts', 'hosts.id', 'alerts.host_id')
            .select(['hosts.name', 'rule', 'state'])
            .execute();
          expect(alerts.filter((a) => a.state === 'firing')).toEqual([
            { name: 'alpha', rule: 'memory', state: 'firing' },
          ]);
          const outbox = await store.db.selectFrom('outbox').select(['recipient', 'sent_at']).execute();
          expect(outbox).toHaveLength(1);
          expect(outbox[0]!.recipient).toBe(`alpha-${dialect}@example.test`);
          expect(outbox[0]!.sent_at).not.toBeNull();
          const mails = await smtp.waitForMessages(mailsBefore + 1);
          expect(mails.slice(mailsBefore).map((m) => m.envelope.to)).toEqual([[`alpha-${dialect}@example.test`]]);
          const eventsBefore = await store.db.selectFrom('security_events').select(['host_id', 'record_id']).execute();

          // The same round again: new samples, the same alert state and no second mail.
          const second = await fleetstat(['collect', '--config', config, '--db', url, '--json']);
          expect(second.code).toBe(0);
          expect(await store.db.selectFrom('samples').select('id').execute()).toHaveLength(6);
          expect(await store.db.selectFrom('outbox').select('id').execute()).toHaveLength(1);
          const events = await store.db.selectFrom('security_events').select(['host_id', 'record_id']).execute();
          const eventKeys = events.map((e) => `${e.host_id}/${e.record_id}`);
          expect(new Set(eventKeys).size).toBe(eventKeys.length);
          for (const e of eventsBefore) expect(eventKeys).toContain(`${e.host_id}/${e.record_id}`);

          // Pruning through the CLI: one sample made 100 days old goes, with its child rows.
          const old = samples[0]!.id;
          await store.db
            .updateTable('samples')
            .set({ collected_at: new Date(Date.now() - 100 * 86400_000) })
            .where('id', '=', old)
            .execute();
          const pruned = await fleetstat(['db', 'prune', '--older-than', '90d', '--db', url]);
          expect(pruned.code).toBe(0);
          expect(pruned.stdout).toMatch(/samples 1\b/);
          expect(await store.db.selectFrom('samples').select('id').execute()).toHaveLength(5);
          expect(await store.db.selectFrom('net_io').select('id').where('sample_id', '=', old).execute()).toEqual([]);
          expect(await store.db.selectFrom('disk_usage').select('id').where('sample_id', '=', old).execute()).toEqual(
            [],
          );
        } finally {
          await store.close();
        }
      });
    }, 120_000);
  });

  describe('database down at round start', () => {
    let listener: Server;
    let connections = 0;
    beforeAll(async () => {
      // The only client of the config: counts every connection a collector would make.
      listener = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.8.8', resolve));
    });
    afterAll(() => {
      listener?.close();
    });

    function configFor(name: string, databaseUrl: string): string {
      const configDir = join(dir, name);
      mkdirSync(configDir);
      return writeFleetConfig(fleet, {
        dir: configDir,
        databaseUrl,
        clients: [
          {
            host: { address: '127.0.8.8', port: (listener.address() as { port: number }).port },
            auth: 'key',
            name: 'counted',
          },
        ],
      });
    }

    it.each(['postgres', 'mysql'] as const)(
      '%s server not listening: exit 4, a clear message, no host contacted',
      async (dialect) => {
        const port = await freePort('127.0.0.1');
        const url = `${dialect}://root@127.0.0.1:${port}/fleetstat`;
        for (const command of ['collect', 'serve']) {
          const result = await fleetstat(
            [command, '--config', configFor(`down-${dialect}-${command}`, url), '--listen', '127.0.0.1:0'].slice(
              0,
              command === 'serve' ? 5 : 3,
            ),
          );
          expect(result.code).toBe(EXIT.databaseUnavailable);
          expect(result.stderr).toMatch(
            new RegExp(
              `^database unavailable: cannot open database ${dialect}://root@127\\.0\\.0\\.1:${port}/fleetstat: .*is the server running`,
              'm',
            ),
          );
        }
        expect(connections).toBe(0);
      },
    );

    it.skipIf(!testDialects().includes('postgres'))(
      'postgres refusing connections to the database: exit 4, no host contacted',
      async () => {
        const database = await createTestDatabase('postgres');
        const admin = new pg.Client({
          connectionString: process.env.FLEETSTAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        });
        await admin.connect();
        const name = new URL(database.url).pathname.slice(1);
        try {
          await admin.query(`alter database ${name} allow_connections false`);
          const result = await fleetstat(['collect', '--config', configFor('refusing-pg', database.url)]);
          expect(result.code).toBe(EXIT.databaseUnavailable);
          expect(result.stderr).toMatch(/^database unavailable: .*not currently accepting connections/m);
          expect(connections).toBe(0);
        } finally {
          await admin.query(`alter database ${name} allow_connections true`);
          await admin.end();
          await database.drop();
        }
      },
    );
  });

  /** Makes the database fail from now on, the way it can on `dialect`; returns how to undo it. */
  async function breakDatabase(
    dialect: 'postgres' | 'mysql',
    database: TestDatabase,
    store: Store,
  ): Promise<() => Promise<void>> {
    if (dialect === 'postgres') {
      // As good as stopped for this collector: its sessions are killed and no new one is let in.
      const admin = new pg.Client({
        connectionString: process.env.FLEETSTAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      });
      await admin.connect();
      const name = new URL(database.url).pathname.slice(1);
      await admin.query(`alter database ${name} allow_connections false`);
      await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [name],
      );
      return async () => {
        await admin.query(`alter database ${name} allow_connections true`);
        await admin.end();
      };
    }
    await sql`rename table samples to samples_gone`.execute(store.db);
    return async () => {
      await sql`rename table samples_gone to samples`.execute(store.db);
    };
  }

  describe.each(testDialects().filter((d): d is 'postgres' | 'mysql' => d !== 'sqlite'))(
    '%s failing mid-round',
    (dialect) => {
      it('writes no half host rows, spools the reports and imports them next round', async () => {
        const database = await createTestDatabase(dialect);
        const configDir = join(dir, `midround-${dialect}`);
        mkdirSync(configDir);
        const path = writeFleetConfig(fleet, {
          dir: configDir,
          databaseUrl: database.url,
          // One host at a time: the first is stored, the database fails, the other three are not.
          settings: { concurrency: '1', 'cpu-sample': '100', 'spool-dir': join(configDir, 'spool') },
          clients: fleet.hosts.map((host, i) => ({ host, auth: 'key' as const, name: `h${i}` })),
        });
        const config = await loadConfig(path);
        let store = await openStore(database.url);
        let restore: (() => Promise<void>) | undefined;
        try {
          await migrate(store);
          let broken: Promise<() => Promise<void>> | undefined;
          const first = await collectRound(config, store, {
            onEvent: (event) => {
              if (event.type === 'host-ok' && !broken) broken = breakDatabase(dialect, database, store);
            },
          });
          expect(broken).toBeDefined();
          const undo = await broken!;
          restore = undo;
          expect(first.hostsOk).toBe(1);
          expect(first.spooled).toBe(3);
          expect(readdirSync(config.settings.spoolDir).filter((n) => n.endsWith('.json'))).toHaveLength(3);

          await undo();
          restore = undefined;
          // A fresh pool, as the next run would have.
          await store.close();
          store = await openStore(database.url);
          const second = await collectRound(config, store);
          expect(second.spoolImported).toBe(3);
          expect(second.hostsOk).toBe(4);
          expect(readdirSync(config.settings.spoolDir).filter((n) => n.endsWith('.json'))).toHaveLength(0);

          const perHost = await store.db
            .selectFrom('samples')
            .select(['host_id', store.db.fn.countAll<number>().as('n')])
            .groupBy('host_id')
            .execute();
          expect(perHost.map((r) => Number(r.n))).toEqual([2, 2, 2, 2]);
          expect(
            await store.db.selectFrom('samples').select('id').where('round_id', 'is', null).execute(),
          ).toHaveLength(3);
          // Every sample is whole: each has its disks and network interfaces.
          for (const child of ['disk_usage', 'net_io'] as const) {
            const bare = await store.db
              .selectFrom('samples')
              .select('samples.id')
              .where((eb) =>
                eb.not(
                  eb.exists(
                    eb.selectFrom(child).select(`${child}.id`).whereRef(`${child}.sample_id`, '=', 'samples.id'),
                  ),
                ),
              )
              .execute();
            expect(bare).toEqual([]);
          }
        } finally {
          await restore?.().catch(() => undefined);
          await store.close();
          await database.drop();
        }
      }, 120_000);
    },
  );
});
