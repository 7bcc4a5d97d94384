/**
 * A real fleet for the web tests: 3 loopback sshd hosts plus one configured host nobody listens
 * on, a SQLite database filled by real collection rounds, and the web server listening on
 * 127.0.0.1 with a free port. One host is named like an XSS payload, one with characters the
 * Prometheus format must escape, one has a memory limit of 0 % so its alert fires.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { collectRound } from '../src/collect/round.js';
import { loadConfig } from '../src/config/load-config.js';
import type { Config } from '../src/config/types.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { buildWebServer, type WebServerOptions } from '../src/web/server.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { freePort, startFleet, type SshdFleet } from './support/sshd.js';

export const XSS_NAME = '<script>alert(1)</script>';
export const QUOTED_NAME = 'odd "quoted" \\ name';
export const ALERTING_NAME = 'alpha';

export interface WebFleet {
  fleet: SshdFleet;
  dir: string;
  store: Store;
  config: Config;
  /** Number of rounds run. */
  rounds: number;
  /** Starts a web server on 127.0.0.1:0 over this fleet's store; returns its base URL. */
  serve(options?: Partial<WebServerOptions>): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the fleet, runs `rounds` real rounds and returns everything needed to serve it. */
export async function startWebFleet(rounds = 3): Promise<WebFleet> {
  const fleet = await startFleet(3);
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-web-'));
  const servers: FastifyInstance[] = [];
  let store: Store | undefined;
  try {
    const [h0, h1, h2] = fleet.hosts;
    // A port on a fleet address where no sshd listens: the round records a connect failure.
    const deadPort = await freePort(h2!.address);
    const path = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'web.sqlite')}`,
      settings: { 'connect-timeout': '3' },
      clients: [
        {
          host: h0!,
          auth: 'key',
          name: ALERTING_NAME,
          mail: 'ops@example.test',
          alerts: ['<alert type="memory" limit="0%"/>', '<alert type="disk" limit="100%"/>'],
        },
        { host: h1!, auth: 'password', name: XSS_NAME },
        { host: h2!, auth: 'key', name: 'gamma' },
        { host: { address: h2!.address, port: deadPort }, auth: 'key', name: QUOTED_NAME },
      ],
    });
    const config = await loadConfig(path);
    store = await openStore(config.settings.databaseUrl);
    await migrate(store);
    for (let i = 0; i < rounds; i++) await collectRound(config, store);
    const opened = store;
    return {
      fleet,
      dir,
      store: opened,
      config,
      rounds,
      async serve(options = {}) {
        const app = await buildWebServer({ store: opened, config: () => config, ...options });
        servers.push(app);
        await app.listen({ host: '127.0.0.1', port: 0 });
        const address = app.server.address() as { port: number };
        return `http://127.0.0.1:${address.port}`;
      },
      async stop() {
        await Promise.all(servers.map((s) => s.close()));
        await opened.close();
        await fleet.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await store?.close();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
