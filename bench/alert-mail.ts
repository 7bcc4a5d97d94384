/**
 * Messages sent when a whole fleet crosses a limit in one round and resolves in the next
 * (docs/alerts.md): N real sshd hosts on loopback, the real probe, SQLite, a real SMTP server.
 *
 *   npx tsx bench/alert-mail.ts --hosts 100 --recipients 3
 *
 * For each mode (per-change, grouped) it runs two rounds: every host with `memory limit="0%"`
 * (fires), then the same rule with `limit="100%"` (resolves); after each round it delivers the
 * outbox over SMTP and counts the SMTP messages received. Prints a table and one JSON line after
 * "BENCH-JSON ". Stops the sshd and the SMTP server it started, also on failure.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deliverQueuedMail } from '../src/cli/deliver-mail.js';
import { collectRound } from '../src/collect/round.js';
import { loadConfig } from '../src/config/index.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { writeFleetConfig } from '../test/support/fleet-config.js';
import { startFleet, type SshdFleet } from '../test/support/sshd.js';
import { startSmtpCatcher, type SmtpCatcher } from '../test/support/smtp-catcher.js';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '100' }, recipients: { type: 'string', default: '3' } },
});
const hostCount = Number(values.hosts);
const recipientCount = Number(values.recipients);
const recipients = Array.from({ length: recipientCount }, (_, i) => `ops${i + 1}@example.test`).join(', ');

async function twoRounds(
  fleet: SshdFleet,
  smtp: SmtpCatcher,
  dir: string,
  mode: 'grouped' | 'per-change',
): Promise<{ firing: number; resolved: number; hostsOk: number[] }> {
  const runDir = join(dir, mode);
  mkdirSync(runDir);
  const counts: number[] = [];
  const hostsOk: number[] = [];
  for (const limit of ['0%', '100%']) {
    const path = writeFleetConfig(fleet, {
      dir: runDir,
      databaseUrl: `sqlite:${join(runDir, 'db.sqlite')}`,
      smtp: { host: smtp.host, port: smtp.port },
      settings: { 'alert-mail': mode, concurrency: '50' },
      clients: fleet.hosts.map((host, i) => ({
        host,
        auth: 'key' as const,
        name: `h${i}`,
        mail: recipients,
        alerts: [`<alert type="memory" limit="${limit}"/>`],
      })),
    });
    const config = await loadConfig(path);
    const store = await openStore(config.settings.databaseUrl);
    try {
      await migrate(store);
      const before = smtp.messages.length;
      const summary = await collectRound(config, store);
      hostsOk.push(summary.hostsOk);
      await deliverQueuedMail(store, config.smtp);
      counts.push(smtp.messages.length - before);
    } finally {
      await store.close();
    }
  }
  return { firing: counts[0] ?? 0, resolved: counts[1] ?? 0, hostsOk };
}

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-bench-alert-'));
let fleet: SshdFleet | undefined;
let smtp: SmtpCatcher | undefined;
try {
  [fleet, smtp] = await Promise.all([startFleet(hostCount, { batchSize: 32 }), startSmtpCatcher()]);
  const results: Record<string, { firing: number; resolved: number; hostsOk: number[] }> = {};
  for (const mode of ['per-change', 'grouped'] as const) results[mode] = await twoRounds(fleet, smtp, dir, mode);
  console.log(`${hostCount} hosts, ${recipientCount} recipients each; SMTP messages received`);
  console.log('mode         firing round  resolving round  total  hosts collected');
  for (const [mode, r] of Object.entries(results)) {
    console.log(
      `${mode.padEnd(12)} ${String(r.firing).padStart(12)}  ${String(r.resolved).padStart(15)}  ${String(r.firing + r.resolved).padStart(5)}  ${r.hostsOk.join(', ')}`,
    );
  }
  console.log(`BENCH-JSON ${JSON.stringify({ hosts: hostCount, recipients: recipientCount, results })}`);
} finally {
  await Promise.all([fleet?.stop(), smtp?.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
