/**
 * The database failing during a round loses nothing and leaves no partial host rows: a SQLite
 * file locked by another process (BEGIN EXCLUSIVE held through the round), and a failure in the
 * middle of one host's store transaction (a trigger that aborts its net_io insert, after its
 * sample and disk rows were written). Reports go to the spool and the next round stores them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { closedPort, type FaultEndpoint } from './support/fault-servers.js';
import type { FleetClient } from './support/fleet-config.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound } from './support/hostile-round.js';

/** Another process that takes an exclusive lock on the SQLite file when told to, and holds it until released. */
async function startLockHolder(path: string): Promise<{ lock(): void; release(): Promise<void> }> {
  const program = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    process.stdout.write('ready\\n');
    require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
      if (line === 'lock') db.exec('BEGIN EXCLUSIVE');
      if (line === 'release') { if (db.inTransaction) db.exec('COMMIT'); db.close(); process.exit(0); }
    });
    setTimeout(() => process.exit(3), 120000); // never outlives a stuck test
  `;
  const child: ChildProcess = spawn(process.execPath, ['-e', program, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return {
    lock: () => {
      child.stdin!.write('lock\n');
    },
    release: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.write('release\n');
      }),
  };
}

/** Rows of per-sample tables whose sample does not exist (half-written hosts would leave these). */
async function orphanRows(url: string): Promise<number> {
  const store = await openStore(url);
  try {
    let orphans = 0;
    for (const table of ['disk_usage', 'net_io', 'logged_in_users'] as const) {
      const rows = await sql<{
        n: number;
      }>`SELECT COUNT(*) AS n FROM ${sql.table(table)} WHERE sample_id NOT IN (SELECT id FROM samples)`.execute(
        store.db,
      );
      orphans += Number(rows.rows[0]!.n);
    }
    return orphans;
  } finally {
    await store.close();
  }
}

describe('database faults mid-round', () => {
  let fleet: FaultFleet;
  let down: FaultEndpoint;
  let dir: string;
  let clients: FleetClient[];

  beforeAll(async () => {
    [fleet, down] = await Promise.all([startFaultFleet(2, { firstIndex: 110 }), closedPort('127.0.9.20')]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-store-'));
    clients = [
      { host: fleet.hosts[0]!, auth: 'key', name: 'alpha' },
      { host: fleet.hosts[1]!, auth: 'key', name: 'victim' },
      { host: down, auth: 'key', name: 'down' },
    ];
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spools every report when another process locks the SQLite file mid-round, and stores them next round', async () => {
    const database = 'locked.sqlite';
    await runFaultRound(fleet, { dir, clients, database }); // creates the schema and the hosts
    const spool = join(dir, 'spool');
    const holder = await startLockHolder(join(dir, database));
    try {
      // The lock is taken once the round has begun (its hosts are being collected).
      const locked = await runFaultRound(fleet, {
        dir,
        clients,
        database,
        onEvent: (event) => {
          if (event.type === 'round-start') holder.lock();
        },
      });
      expect(locked.summary).toMatchObject({ hostsOk: 0, hostsFailed: 3, spooled: 2 });
      for (const name of ['alpha', 'victim']) {
        expect(locked.summaryErrors.get(name)).toMatchObject({
          stage: 'store',
          message: expect.stringMatching(/locked.*kept in the spool/),
        });
      }
      expect(locked.summaryErrors.get('down')).toMatchObject({ stage: 'connect' });
      expect(locked.stored).toEqual([]);
    } finally {
      await holder.release();
    }
    const lockedRoundSpool = readdirSync(spool).filter((n) => n.endsWith('.json'));
    const next = await runFaultRound(fleet, { dir, clients, database });
    expect(next.summary.spoolImported).toBe(lockedRoundSpool.length);
    expect(next.stored).toEqual(['alpha', 'victim']);
    expect(readdirSync(spool).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(await orphanRows(next.databaseUrl)).toBe(0);
  });

  it('waits for a briefly held lock without freezing the process', async () => {
    const store = await openStore(`sqlite:${join(dir, 'brief.sqlite')}`);
    const holder = await startLockHolder(join(dir, 'brief.sqlite'));
    try {
      await sql`CREATE TABLE t (x INTEGER)`.execute(store.db);
      holder.lock();
      await new Promise((resolve) => setTimeout(resolve, 200)); // the holder has the lock by now
      let ticks = 0;
      const ticker = setInterval(() => {
        ticks += 1;
      }, 10);
      const release = new Promise((resolve) => setTimeout(resolve, 1000)).then(() => holder.release());
      await sql`INSERT INTO t (x) VALUES (1)`.execute(store.db); // waits for the release, then succeeds
      clearInterval(ticker);
      await release;
      expect((await sql<{ x: number }>`SELECT x FROM t`.execute(store.db)).rows).toEqual([{ x: 1 }]);
      // Timers kept firing during the wait: SSH sessions of a round would have kept going too.
      expect(ticks).toBeGreaterThan(20);
    } finally {
      await holder.release();
      await store.close();
    }
  });

  it('rolls back a host whose store transaction fails half-way, spools it, and stores it next round', async () => {
    const database = 'half.sqlite';
    const first = await runFaultRound(fleet, { dir, clients, database });
    expect(first.stored).toEqual(['alpha', 'victim']);
    const store = await openStore(first.databaseUrl);
    try {
      // Fails the victim's net_io insert: its host update, sample and disk rows are already written by then.
      await sql`CREATE TRIGGER fail_victim_nics BEFORE INSERT ON net_io
        WHEN (SELECT h.name FROM samples s JOIN hosts h ON h.id = s.host_id WHERE s.id = NEW.sample_id) = 'victim'
        BEGIN SELECT RAISE(ABORT, 'injected failure mid-transaction'); END`.execute(store.db);
    } finally {
      await store.close();
    }

    const broken = await runFaultRound(fleet, { dir, clients, database });
    expect(broken.stored).toEqual(['alpha']);
    expect(broken.summaryErrors.get('victim')).toMatchObject({ stage: 'store' });
    expect(broken.summaryErrors.get('victim')!.message).toMatch(/injected failure mid-transaction.*kept in the spool/);
    expect(broken.summaryErrors.get('down')).toMatchObject({ stage: 'connect' });
    expect(broken.tableErrors.get('down')).toMatchObject({ stage: 'connect' });
    expect(broken.summary.spooled).toBe(1);
    expect(await orphanRows(broken.databaseUrl)).toBe(0); // the victim's sample and disk rows were rolled back

    const again = await openStore(broken.databaseUrl);
    try {
      await sql`DROP TRIGGER fail_victim_nics`.execute(again.db);
    } finally {
      await again.close();
    }
    const healed = await runFaultRound(fleet, { dir, clients, database });
    expect(healed.summary.spoolImported).toBe(1);
    const check = await openStore(healed.databaseUrl);
    try {
      const victimSamples = await check.db
        .selectFrom('samples')
        .innerJoin('hosts', 'hosts.id', 'samples.host_id')
        .select(['samples.id', 'samples.round_id'])
        .where('hosts.name', '=', 'victim')
        .execute();
      // Round one, the spooled sample (no round id) and this round: none lost, none doubled.
      expect(victimSamples).toHaveLength(3);
      expect(victimSamples.filter((s) => s.round_id === null)).toHaveLength(1);
      for (const sample of victimSamples) {
        const nics = await check.db.selectFrom('net_io').select('name').where('sample_id', '=', sample.id).execute();
        expect(nics.length).toBeGreaterThan(0);
      }
    } finally {
      await check.close();
    }
  });
});
