/**
 * The database failing mid-round loses nothing: reports collected while it fails go to the
 * spool and are stored by the next round. Real sshd hosts, real SQLite; the failure is made
 * real by taking the samples table away while the round runs. Around it: a spool that cannot be
 * written (the report is lost, and the host says so), a host row that cannot be written (the
 * report is spooled), an alert step that fails (the host stays stored), a save held past
 * store-timeout by a second connection's write lock (abandoned, rolled back, spooled, stored
 * once), and the host events.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { collectRound, type RoundEvent } from '../src/collect/round.js';
import { outcomeFailure } from '../src/collect/host-outcome.js';
import { importSpool, spoolReport } from '../src/collect/spool.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { migrate } from '../src/store/migrate.js';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { writeFleetConfig } from './support/fleet-config.js';

describe('database failing mid-round', () => {
  let fleet: SshdFleet;
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    fleet = await startFleet(2);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-spool-'));
    store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    await migrate(store);
  });
  afterAll(async () => {
    await store?.close();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spools the reports and imports them next round, without duplicates', async () => {
    const path = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
      clients: fleet.hosts.map((host, i) => ({ host, auth: 'key' as const, name: `h${i}` })),
    });
    const config = await loadConfig(path);
    const spoolDir = config.settings.spoolDir;

    const firstEvents: RoundEvent[] = [];
    const began = Date.now();
    const first = await collectRound(config, store, {
      onEvent: (event) => {
        firstEvents.push(event);
        // The table disappears once the round has started: every save fails.
        if (event.type === 'round-start') void sql`ALTER TABLE samples RENAME TO samples_gone`.execute(store.db);
      },
    });
    const firstElapsed = Date.now() - began;
    expect(first.hostsOk).toBe(0);
    expect(first.spooled).toBe(2);
    expect(first.outcomes.map((o) => o.status)).toEqual(['spooled', 'spooled']);
    expect(first.outcomes.every((o) => outcomeFailure(o)?.stage === 'store')).toBe(true);
    expect(outcomeFailure(first.outcomes[0]!)!.message).toMatch(/kept in the spool/);
    expect(readdirSync(spoolDir).filter((n) => n.endsWith('.json'))).toHaveLength(2);
    for (const outcome of first.outcomes) {
      if (outcome.status !== 'spooled') throw new Error(`expected a spooled host, got ${outcome.status}`);
      // The database's own error stays attached for the log, and the time is the host's own.
      expect((outcome.error.cause as Error).message).toMatch(/samples/);
      expect(outcome.ms).toBeGreaterThanOrEqual(0);
      expect(outcome.ms).toBeLessThanOrEqual(firstElapsed);
    }
    expect(firstEvents.filter((e) => e.type === 'host-failed' || e.type === 'host-ok').map((e) => e.type)).toEqual([
      'host-failed',
      'host-failed',
    ]);

    await sql`ALTER TABLE samples_gone RENAME TO samples`.execute(store.db);
    const secondEvents: RoundEvent[] = [];
    const secondBegan = Date.now();
    const second = await collectRound(config, store, { onEvent: (event) => secondEvents.push(event) });
    const secondElapsed = Date.now() - secondBegan;
    expect(second.spoolImported).toBe(2);
    expect(second.hostsOk).toBe(2);
    expect(readdirSync(spoolDir)).toHaveLength(0);
    // Stored hosts are announced with their report, and nothing was recorded against them.
    const announced = secondEvents.filter((e) => e.type === 'host-failed' || e.type === 'host-ok');
    expect(announced.map((e) => e.type)).toEqual(['host-ok', 'host-ok']);
    for (const event of announced) {
      if (event.type !== 'host-ok') continue;
      expect(event.report.host.hostname).toBeTruthy();
      expect(event.ms).toBeGreaterThanOrEqual(0);
      expect(event.ms).toBeLessThanOrEqual(secondElapsed);
      expect(second.outcomes.find((o) => o.client.name === event.client.name)).toMatchObject({ ms: event.ms });
    }
    expect(second.problems).toEqual([]);
    expect(second.alertNotes).toEqual([]);
    const recorded = await store.db
      .selectFrom('host_errors')
      .select('round_id')
      .where('round_id', '=', second.roundId)
      .execute();
    expect(recorded).toEqual([]);
    const counts = await store.db
      .selectFrom('samples')
      .select(['host_id', store.db.fn.countAll<number>().as('n')])
      .groupBy('host_id')
      .execute();
    // Each host: the spooled sample from round one and the fresh one from round two.
    expect(counts.map((c) => Number(c.n))).toEqual([2, 2]);
    const spooledRows = await store.db.selectFrom('samples').select('round_id').where('round_id', 'is', null).execute();
    expect(spooledRows).toHaveLength(2);
  });

  /** A fresh database and config (one host, h0) in its own directory; `settings` as in the config. */
  async function freshRound(name: string, options: { settings?: Record<string, string>; alerts?: string[] } = {}) {
    const caseDir = join(dir, name);
    mkdirSync(caseDir);
    const url = `sqlite:${join(caseDir, 'db.sqlite')}`;
    const own = await openStore(url);
    await migrate(own);
    const path = writeFleetConfig(fleet, {
      dir: caseDir,
      databaseUrl: url,
      settings: { 'spool-dir': join(caseDir, 'spool'), ...options.settings },
      clients: [{ host: fleet.hosts[0]!, auth: 'key' as const, name: 'h0', alerts: options.alerts }],
    });
    return { caseDir, store: own, config: await loadConfig(path) };
  }

  it('a spool that cannot be written either: the host fails at store and says the report is lost', async () => {
    const spoolFile = join(dir, 'spool-is-a-file');
    writeFileSync(spoolFile, 'not a directory\n');
    const run = await freshRound('lost', { settings: { 'spool-dir': spoolFile } });
    try {
      const began = Date.now();
      const summary = await collectRound(run.config, run.store, {
        onEvent: (event) => {
          if (event.type === 'round-start') void sql`ALTER TABLE samples RENAME TO samples_gone`.execute(run.store.db);
        },
      });
      const elapsed = Date.now() - began;
      expect(summary).toMatchObject({ hostsOk: 0, hostsFailed: 1, spooled: 0 });
      const [outcome] = summary.outcomes;
      expect(outcome?.status).toBe('failed');
      expect(outcomeFailure(outcome!)).toEqual({
        stage: 'store',
        message: expect.stringMatching(
          /^storing the report failed \(.*samples.*\) and so did the spool, the report is lost: .*(ENOTDIR|EEXIST)/,
        ),
      });
      if (outcome?.status !== 'failed') return;
      expect((outcome.error.cause as NodeJS.ErrnoException).code).toMatch(/^(ENOTDIR|EEXIST)$/);
      expect(outcome.ms).toBeGreaterThanOrEqual(0);
      expect(outcome.ms).toBeLessThanOrEqual(elapsed);
    } finally {
      await run.store.close();
    }
  });

  it('a host row that cannot be written: the collected report is spooled, not stored under no host', async () => {
    const run = await freshRound('no-host-row');
    try {
      await sql`CREATE TRIGGER refuse_hosts BEFORE INSERT ON hosts BEGIN SELECT RAISE(ABORT, 'hosts refused by the test'); END`.execute(
        run.store.db,
      );
      const summary = await collectRound(run.config, run.store);
      expect(summary).toMatchObject({ hostsOk: 0, spooled: 1 });
      expect(outcomeFailure(summary.outcomes[0]!)).toEqual({
        stage: 'store',
        message: expect.stringMatching(
          /^storing the report failed \(the host row could not be written: cannot record host h0 .*: hosts refused by the test\); kept in the spool, imported next round$/,
        ),
      });
      expect(readdirSync(run.config.settings.spoolDir).filter((n) => n.endsWith('.json'))).toHaveLength(1);
      expect(await run.store.db.selectFrom('samples').select('id').execute()).toEqual([]);
    } finally {
      await run.store.close();
    }
  });

  it('an alert step that fails leaves the host stored: noted, and recorded at stage alert', async () => {
    const run = await freshRound('alert-fails', { alerts: ['<alert type="memory" limit="0%"/>'] });
    try {
      await sql`ALTER TABLE alerts RENAME TO alerts_gone`.execute(run.store.db);
      const summary = await collectRound(run.config, run.store);
      expect(summary).toMatchObject({ hostsOk: 1, hostsFailed: 0, spooled: 0, problems: [] });
      expect(summary.outcomes.map((o) => o.status)).toEqual(['stored']);
      expect(summary.alertNotes).toEqual(['alerts of h0 not evaluated: no such table: alerts']);
      const errors = await run.store.db.selectFrom('host_errors').select(['stage', 'message']).execute();
      expect(errors).toEqual([{ stage: 'alert', message: 'no such table: alerts' }]);
    } finally {
      await run.store.close();
    }
  });

  it('a save that outlasts store-timeout is abandoned and rolls back; the report is spooled, stored once', async () => {
    const run = await freshRound('store-timeout', { settings: { 'store-timeout': '1s' } });
    // A second connection takes SQLite's write lock once the host row is written: the
    // unreadable last event id is the signal (its table is put back at the same moment).
    const holder = new BetterSqlite3(join(run.caseDir, 'db.sqlite'));
    let locked = false;
    try {
      await sql`ALTER TABLE security_events RENAME TO security_events_gone`.execute(run.store.db);
      const summary = await collectRound(run.config, run.store, {
        onEvent: (event) => {
          if (event.type === 'problem' && !locked) {
            holder.exec('ALTER TABLE security_events_gone RENAME TO security_events');
            holder.exec('BEGIN IMMEDIATE');
            locked = true;
          }
          // The bound has fired once the host is reported: the abandoned save may now take the
          // lock and reach its next step, where it must roll back.
          if (event.type === 'host-failed' && holder.inTransaction) holder.exec('COMMIT');
        },
      });
      expect(locked).toBe(true);
      expect(summary).toMatchObject({ hostsOk: 0, spooled: 1 });
      expect(outcomeFailure(summary.outcomes[0]!)).toEqual({
        stage: 'store',
        message:
          'storing the report failed (storing took longer than the store-timeout of 1 s; the save was abandoned and rolls back); kept in the spool, imported next round',
      });
      // The next round's statements wait for the abandoned save (one connection): it imports
      // the spooled report and stores a fresh one, and the abandoned one left nothing.
      const next = await collectRound(run.config, run.store);
      expect(next).toMatchObject({ spoolImported: 1, hostsOk: 1, spooled: 0 });
      expect(await run.store.db.selectFrom('samples').select('round_id').orderBy('id').execute()).toEqual([
        { round_id: null },
        { round_id: next.roundId },
      ]);
    } finally {
      if (holder.inTransaction) holder.exec('COMMIT');
      holder.close();
      await run.store.close();
    }
  });

  it('imports each spooled report once when two importers share the spool directory', async () => {
    const spoolDir = join(dir, 'shared-spool');
    const before = (await store.db.selectFrom('samples').select('id').execute()).length;
    const { makeReport } = await import('./support/report-factory.js');
    for (let i = 0; i < 6; i++) {
      await spoolReport(spoolDir, {
        ip: '127.0.8.1',
        port: 22,
        name: 'spooled',
        collectedAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
        report: makeReport(),
      });
    }
    const results = await Promise.all([
      importSpool(store, spoolDir),
      importSpool(store, spoolDir),
      importSpool(store, spoolDir),
    ]);
    expect(results.reduce((sum, r) => sum + r.imported, 0)).toBe(6);
    expect((await store.db.selectFrom('samples').select('id').execute()).length).toBe(before + 6);
    expect(readdirSync(spoolDir)).toHaveLength(0);
  });
});
