/**
 * Alerting through a whole round against real parts: a loopback sshd fleet, the real probe,
 * SQLite on disk and a real SMTP server.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectRound } from '../src/collect/round.js';
import { loadConfig } from '../src/config/index.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { listAlerts } from '../src/web/queries/host-details.js';
import { writeFleetConfig, type FleetClient } from './support/fleet-config.js';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

describe('alerting over a real round', () => {
  let fleet: SshdFleet;
  let smtp: SmtpCatcher;
  let dir: string;
  let runs = 0;

  beforeAll(async () => {
    [fleet, smtp] = await Promise.all([startFleet(3), startSmtpCatcher()]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-alerts-'));
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), smtp?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Writes a config for `clients` into a fresh directory and database, runs one round, returns the open store. */
  async function runRound(clients: FleetClient[], settings: Record<string, string> = {}) {
    const runDir = join(dir, `run${++runs}`);
    mkdirSync(runDir);
    const databaseUrl = `sqlite:${join(runDir, 'db.sqlite')}`;
    const path = writeFleetConfig(fleet, { dir: runDir, databaseUrl, clients, settings, smtp: { host: smtp.host, port: smtp.port } });
    const config = await loadConfig(path);
    const store = await openStore(config.settings.databaseUrl);
    await migrate(store);
    const summary = await collectRound(config, store);
    return { config, store, summary };
  }

  it('evaluates the rules of a client without mail: the alert fires and shows, nothing is queued', async () => {
    const { store, summary } = await runRound([
      { host: fleet.hosts[0]!, name: 'nomail', alerts: ['<alert type="memory" limit="0%"/>'] },
    ]);
    try {
      expect(summary.hostsOk).toBe(1);
      const alerts = await listAlerts(store.db, { limit: 10 });
      expect(alerts).toMatchObject([{ host_name: 'nomail', rule: 'memory', state: 'firing' }]);
      const queued = await store.db.selectFrom('outbox').selectAll().execute();
      expect(queued).toEqual([]);
      expect(summary.mailsQueued).toBe(0);
    } finally {
      await store.close();
    }
  });
});
