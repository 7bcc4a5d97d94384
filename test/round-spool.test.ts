/**
 * The database failing mid-round loses nothing: reports collected while it fails go to the
 * spool and are stored by the next round. Real sshd hosts, real SQLite; the failure is made
 * real by taking the samples table away while the round runs.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { collectRound } from '../src/collect/round.js';
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

    const first = await collectRound(config, store, {
      onEvent: (event) => {
        // The table disappears once the round has started: every save fails.
        if (event.type === 'round-start') void sql`ALTER TABLE samples RENAME TO samples_gone`.execute(store.db);
      },
    });
    expect(first.hostsOk).toBe(0);
    expect(first.spooled).toBe(2);
    expect(first.outcomes.map((o) => o.status)).toEqual(['spooled', 'spooled']);
    expect(first.outcomes.every((o) => outcomeFailure(o)?.stage === 'store')).toBe(true);
    expect(outcomeFailure(first.outcomes[0]!)!.message).toMatch(/kept in the spool/);
    expect(readdirSync(spoolDir).filter((n) => n.endsWith('.json'))).toHaveLength(2);

    await sql`ALTER TABLE samples_gone RENAME TO samples`.execute(store.db);
    const second = await collectRound(config, store);
    expect(second.spoolImported).toBe(2);
    expect(second.hostsOk).toBe(2);
    expect(readdirSync(spoolDir)).toHaveLength(0);
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
