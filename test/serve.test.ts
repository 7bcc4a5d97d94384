/**
 * `fleetstat serve` as a real process: scheduled rounds over real sshd hosts, config reload on
 * SIGHUP (a valid config is taken, an invalid one reported and the old one kept), and SIGTERM
 * while a round is stuck on a host that never answers.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { migrate } from '../src/store/migrate.js';
import { ensureHost } from '../src/store/hosts.js';
import { saveReport } from '../src/store/save-report.js';
import { makeReport } from './support/report-factory.js';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { writeFleetConfig, type FleetClient } from './support/fleet-config.js';
import { startServe as startServeProcess, type ServeProcess } from './support/serve-process.js';

function startServe(configPath: string, extraArgs: string[] = []): ServeProcess {
  return startServeProcess(configPath, ['--listen', '127.0.0.1:0', ...extraArgs]);
}

describe('fleetstat serve', () => {
  let fleet: SshdFleet;
  let dir: string;
  let tarpit: Server;
  const tarpitSockets: Socket[] = [];

  beforeAll(async () => {
    fleet = await startFleet(3);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-serve-'));
    // Accepts TCP and never speaks SSH: a round touching it stays busy until the timeouts.
    tarpit = createServer((socket) => {
      tarpitSockets.push(socket);
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.9.9', resolve));
  });
  afterAll(async () => {
    tarpitSockets.forEach((s) => s.destroy());
    tarpit?.close();
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (clients: FleetClient[], interval = '2') =>
    writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'serve.sqlite')}`,
      clients,
      settings: { interval, 'cpu-sample': '100', 'connect-timeout': '30' },
    });

  it('runs rounds on the interval and reloads the config on SIGHUP, keeping the old one when the new is invalid', async () => {
    const [h0, h1, h2] = fleet.hosts;
    const path = config([
      { host: h0!, auth: 'key', name: 'one' },
      { host: h1!, auth: 'key', name: 'two' },
    ]);
    // --no-watch: edits reach serve only through SIGHUP, so a reload proves the signal.
    const serve = startServe(path, ['--no-watch']);
    try {
      const [, port] = await serve.waitFor(/dashboard on http:\/\/127\.0\.0\.1:(\d+)\//);
      await serve.waitFor(/round \d+: 2 ok, 0 failed/);
      const page = await fetch(`http://127.0.0.1:${port}/api/hosts`);
      expect(page.status).toBe(200);

      // A valid change: a third host.
      config([
        { host: h0!, auth: 'key', name: 'one' },
        { host: h1!, auth: 'key', name: 'two' },
        { host: h2!, auth: 'key', name: 'three' },
      ]);
      serve.child.kill('SIGHUP');
      await serve.waitFor(/config reloaded \(SIGHUP\): 3 clients/);

      // An invalid change: reported with file:line, the three-host config stays in force.
      const { writeFileSync } = await import('node:fs');
      writeFileSync(path, '<clients>\n  <client ip="300.1.1.1" username="x" password-env="NOPE"/>\n</clients>\n');
      serve.child.kill('SIGHUP');
      const [rejected] = await serve.waitFor(
        /config reload \(SIGHUP\) rejected, keeping the previous config:\n.*config\.xml:2: .*/,
      );
      expect(rejected).toMatch(/config\.xml:2:/);
      // Host three, added by the first reload, is collected: wait for its sample (the event), not
      // for a number of rounds, which depends on how fast rounds run beside the reloads.
      const store = await openStore(`sqlite:${join(dir, 'serve.sqlite')}`);
      try {
        const sampledHosts = async () =>
          (
            await store.db
              .selectFrom('samples')
              .innerJoin('hosts', 'hosts.id', 'samples.host_id')
              .select('hosts.name')
              .distinct()
              .execute()
          )
            .map((n) => n.name)
            .sort();
        const deadline = Date.now() + 90_000;
        let names = await sampledHosts();
        while (!names.includes('three') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          names = await sampledHosts();
        }
        expect(names).toEqual(['one', 'three', 'two']);
      } finally {
        await store.close();
      }
      // Only the signal reloaded: had the watcher seen the edits, SIGHUP would not be proven.
      expect(serve.log()).not.toMatch(/config reload(ed)? \(file changed\)/);
    } finally {
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    }
  });

  it('reloads a config reached through a symlink when the file it points to changes', async () => {
    const [h0, h1] = fleet.hosts;
    // Config management keeps the real file in its own tree and links it into place.
    const realDir = mkdtempSync(join(dir, 'managed-'));
    const write = (clients: FleetClient[]) =>
      writeFleetConfig(fleet, {
        dir: realDir,
        databaseUrl: `sqlite:${join(realDir, 'serve.sqlite')}`,
        clients,
        settings: { interval: '2', 'cpu-sample': '100', 'connect-timeout': '30' },
      });
    const target = write([{ host: h0!, auth: 'key', name: 'one' }]);
    const linkDir = mkdtempSync(join(dir, 'linked-'));
    const linked = join(linkDir, 'config.xml');
    symlinkSync(target, linked);
    const serve = startServe(linked);
    try {
      await serve.waitFor(/round \d+: 1 ok, 0 failed/);
      write([
        { host: h0!, auth: 'key', name: 'one' },
        { host: h1!, auth: 'key', name: 'two' },
      ]);
      await serve.waitFor(/config reloaded \(file changed\): 2 clients/, 60_000);
    } finally {
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    }
  });

  it('applies the retention setting: samples older than it are pruned', async () => {
    const [h0] = fleet.hosts;
    const dbUrl = `sqlite:${join(dir, 'retention.sqlite')}`;
    const seed = await openStore(dbUrl);
    await migrate(seed);
    const hostId = await ensureHost(seed, { ip: h0!.address, port: h0!.port, name: 'old' });
    await saveReport(seed, {
      hostId,
      roundId: null,
      collectedAt: new Date(Date.now() - 3 * 86_400_000),
      report: makeReport(),
    });
    await seed.close();
    const path = writeFleetConfig(fleet, {
      dir,
      databaseUrl: dbUrl,
      clients: [{ host: h0!, auth: 'key', name: 'old' }],
      settings: { interval: '60', 'cpu-sample': '100', retention: '2d' },
    });
    const serve = startServe(path);
    try {
      await serve.waitFor(/retention: pruned samples 1\b/);
    } finally {
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    }
    const store = await openStore(dbUrl);
    try {
      const ages = await store.db.selectFrom('samples').select('collected_at').execute();
      expect(ages).toHaveLength(1); // the fresh sample of the round; the 3-day-old one is gone
      expect(Date.now() - new Date(ages[0]!.collected_at).getTime()).toBeLessThan(3_600_000);
    } finally {
      await store.close();
    }
  });

  it('on SIGTERM abandons a stuck round after the grace period, keeping what was stored', async () => {
    const [h0] = fleet.hosts;
    const path = config(
      [
        { host: h0!, auth: 'key', name: 'healthy' },
        {
          host: { address: '127.0.9.9', port: (tarpit.address() as { port: number }).port },
          auth: 'key',
          name: 'tarpit',
          attributes: { 'host-key': 'accept-new' },
        },
      ],
      '60',
    );
    const serve = startServe(path, ['--grace', '1']);
    await serve.waitFor(/dashboard on/);
    // Wait until the healthy host is stored while the tarpit holds the round open.
    const dbPath = join(dir, 'serve.sqlite');
    const deadline = Date.now() + 20_000;
    let stored = 0;
    while (Date.now() < deadline && stored === 0) {
      await new Promise((r) => setTimeout(r, 200));
      const store = await openStore(`sqlite:${dbPath}`);
      stored = (
        await store.db
          .selectFrom('samples')
          .innerJoin('hosts', 'hosts.id', 'samples.host_id')
          .select('samples.id')
          .where('hosts.name', '=', 'healthy')
          .execute()
      ).length;
      await store.close();
    }
    expect(stored).toBeGreaterThan(0);
    expect(serve.log()).not.toMatch(/round \d+: .*tarpit/);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    // The grace is 1 s, the connect timeout 30 s: the log proves the round was abandoned.
    expect(serve.log()).toMatch(/abandoning its remaining hosts/);
    expect(serve.log()).toMatch(/FAIL tarpit \[connect\] abandoned during connect/);
    const store = await openStore(`sqlite:${dbPath}`);
    try {
      const errors = await store.db
        .selectFrom('host_errors')
        .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
        .select(['hosts.name', 'stage', 'message'])
        .execute();
      expect(errors.some((e) => e.name === 'tarpit' && /abandoned/.test(e.message))).toBe(true);
    } finally {
      await store.close();
    }
  });
});
