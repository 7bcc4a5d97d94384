/**
 * The collector killed with SIGKILL mid-round (two hosts stall in their run): what was already
 * committed stays, the SQLite file is intact, and no file is left on any target (the probe runs
 * from memory; the orphan cleanup of runs through a file is tested in unix-one-shot.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { fleetstat, spawnFleetstat } from './support/cli.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';

async function storedSamples(url: string): Promise<number> {
  const store = await openStore(url);
  try {
    return (await store.db.selectFrom('samples').select('id').execute()).length;
  } catch {
    return 0; // not migrated yet
  } finally {
    await store.close();
  }
}

describe('collector killed mid-round', () => {
  let fleet: FaultFleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFaultFleet(4, { firstIndex: 120 });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-kill-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what was committed and leaves no file on the targets, not even in the stalled runs', async () => {
    const [, , stallOld, stallYoung] = fleet.hosts;
    fleet.setMode(stallOld!, 'stall-run 60');
    fleet.setMode(stallYoung!, 'stall-run 60');
    const databaseUrl = `sqlite:${join(dir, 'kill.sqlite')}`;
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl,
      settings: { 'connect-timeout': '3', 'spool-dir': join(dir, 'spool') },
      clients: fleet.hosts.map((host, i) => ({
        host,
        auth: 'key' as const,
        name: `h${i}`,
        attributes: { timeout: '30' },
      })),
    });

    const child = spawnFleetstat(['collect', '--config', config, '--quiet']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    try {
      // Kill once the healthy hosts are committed and both stalled hosts are inside their run.
      await expect
        .poll(
          async () =>
            (await storedSamples(databaseUrl)) === 2 &&
            fleet.result(stallOld!) === 'stalled' &&
            fleet.result(stallYoung!) === 'stalled',
          { timeout: 20_000, interval: 200 },
        )
        .toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const store = await openStore(databaseUrl);
    try {
      expect((await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(store.db)).rows).toEqual([
        { integrity_check: 'ok' },
      ]);
      const samples = await store.db
        .selectFrom('samples')
        .innerJoin('hosts', 'hosts.id', 'samples.host_id')
        .select(['hosts.name', 'samples.id'])
        .orderBy('hosts.name')
        .execute();
      expect(samples.map((s) => s.name)).toEqual(['h0', 'h1']);
      for (const sample of samples) {
        expect(
          (await store.db.selectFrom('disk_usage').select('mount').where('sample_id', '=', sample.id).execute()).length,
        ).toBeGreaterThan(0);
      }
      const round = await store.db.selectFrom('rounds').selectAll().executeTakeFirstOrThrow();
      expect(round.finished_at).toBeNull(); // the round was cut short, and says so
    } finally {
      await store.close();
    }
    for (const host of fleet.hosts) expect(fleet.leftovers(host)).toEqual([]);

    // The hosts behave again: the next round stores all four.
    fleet.setMode(stallOld!, 'normal');
    fleet.setMode(stallYoung!, 'normal');
    const again = await fleetstat(['collect', '--config', config, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ hosts_ok: 4, hosts_failed: 0 });
    for (const host of fleet.hosts) expect(fleet.leftovers(host)).toEqual([]);
    expect(await storedSamples(databaseUrl)).toBe(6);
  });
});
