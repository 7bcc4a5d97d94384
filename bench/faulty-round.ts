/**
 * One round over a loopback fleet where a fifth of the hosts misbehave, the way test/faults*
 * make them misbehave: down, tarpits, stalled handshakes, stalled runs, sessions killed
 * mid-reply, wrong passwords, no openssl, a read-only temp area, garbage, foreign, absurd,
 * deeply nested and 100 MB replies. Every host has an alert that mails (healthy: memory over
 * 0 %; faulty: unreachable). Prints the round's wall time and bound, the share of healthy hosts
 * stored (must be 100 %), faults recorded with the expected stage, and mails lost (must be 0).
 *
 *   npx tsx bench/faulty-round.ts [--hosts 100] [--faulty-share 0.22]     (root: real sshd hosts)
 *
 * Exits 1 when a healthy host was not stored, a fault got the wrong stage, or a mail was lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-config.js';
import { collectRound } from '../src/collect/round.js';
import { outcomeFailure } from '../src/collect/host-outcome.js';
import { deliverQueuedMail } from '../src/cli/deliver-mail.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { closedPort, startBannerStall, startTarpit, type FaultEndpoint } from '../test/support/fault-servers.js';
import { writeFleetConfig, type FleetClient } from '../test/support/fleet-config.js';
import { pathWithout, readOnlyDir, startFaultFleet, type HostMode } from '../test/support/hostile-fleet.js';
import { startSmtpCatcher } from '../test/support/smtp-catcher.js';

const CONNECT_TIMEOUT_S = 3;
const HOST_TIMEOUT_S = 10;

/** A kind of fault: how to make it, and the stage it must be recorded with. */
interface FaultKind {
  name: string;
  stage: string;
  /** Either an sshd mode or a TCP endpoint standing for the host. */
  mode?: HostMode | ((faultDir: string) => HostMode);
  endpoint?: (address: string) => Promise<FaultEndpoint>;
  wrongPassword?: boolean;
  /** Extra client attributes (sudo: the probe goes through a temp file, where a temp area can fail). */
  attributes?: Record<string, string>;
}

const FAULT_KINDS: FaultKind[] = [
  { name: 'down', stage: 'connect', endpoint: closedPort },
  { name: 'tarpit', stage: 'connect', endpoint: startTarpit },
  { name: 'banner-stall', stage: 'connect', endpoint: startBannerStall },
  { name: 'stall-run', stage: 'run', mode: 'stall-run 60' },
  { name: 'kill-mid-reply', stage: 'run', mode: 'kill-mid-reply' },
  { name: 'wrong-password', stage: 'auth', wrongPassword: true },
  { name: 'no-openssl', stage: 'run', mode: (dir) => `path ${pathWithout(join(dir, 'bin-no-openssl'), 'openssl')}` },
  {
    name: 'read-only-tmp',
    stage: 'upload',
    mode: (dir) => `tmpdir ${readOnlyDir(join(dir, 'read-only-tmp'))}`,
    attributes: { sudo: 'true' },
  },
  { name: 'garbage', stage: 'decrypt', mode: 'reply garbage' },
  { name: 'foreign-run-id', stage: 'decrypt', mode: 'reply foreign-run-id' },
  { name: 'absurd', stage: 'validate', mode: 'reply absurd' },
  { name: 'deep-json', stage: 'validate', mode: 'reply deep-json' },
  { name: 'huge-reply', stage: 'run', mode: 'reply huge' },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { hosts: { type: 'string', default: '100' }, 'faulty-share': { type: 'string', default: '0.22' } },
  });
  const total = Number(values.hosts);
  const faultyCount = Math.ceil(total * Number(values['faulty-share']));
  const faults = Array.from({ length: faultyCount }, (_, i) => FAULT_KINDS[i % FAULT_KINDS.length]!);
  const endpointFaults = faults.filter((f) => f.endpoint);
  const sshdCount = total - endpointFaults.length;
  const healthyCount = total - faultyCount;

  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-faulty-round-'));
  process.stderr.write(`starting ${sshdCount} sshd hosts and ${endpointFaults.length} fault endpoints…\n`);
  const [fleet, smtp] = await Promise.all([startFaultFleet(sshdCount, { firstIndex: 300 }), startSmtpCatcher()]);
  const endpoints: FaultEndpoint[] = [];
  try {
    process.env.FLEETSTAT_BENCH_WRONG_PASSWORD = 'not-the-password';
    const expectedStage = new Map<string, string>();
    const clients: FleetClient[] = [];
    const sshdHosts = [...fleet.hosts];
    for (let i = 0; i < healthyCount; i += 1) {
      clients.push({
        host: sshdHosts.shift()!,
        auth: 'key',
        name: `healthy-${i}`,
        mail: 'ops@example.test',
        alerts: ['<alert type="memory" limit="0%"/>'],
      });
    }
    let endpointIndex = 0;
    for (const [i, fault] of faults.entries()) {
      const name = `${fault.name}-${i}`;
      expectedStage.set(name, fault.stage);
      const common = { name, mail: 'ops@example.test', alerts: ['<alert type="unreachable"/>'] };
      if (fault.endpoint) {
        const endpoint = await fault.endpoint(`127.0.10.${1 + endpointIndex++}`);
        endpoints.push(endpoint);
        clients.push({ host: endpoint, auth: 'key', ...common });
        continue;
      }
      const host = sshdHosts.shift()!;
      if (fault.mode) fleet.setMode(host, typeof fault.mode === 'function' ? fault.mode(fleet.faultDir) : fault.mode);
      clients.push(
        fault.wrongPassword
          ? { host, auth: 'none', attributes: { 'password-env': 'FLEETSTAT_BENCH_WRONG_PASSWORD' }, ...common }
          : { host, auth: 'key', ...common, ...(fault.attributes ? { attributes: fault.attributes } : {}) },
      );
    }

    const databaseUrl = `sqlite:${join(dir, 'bench.sqlite')}`;
    const configPath = writeFleetConfig(fleet, {
      dir,
      databaseUrl,
      clients: clients.map((c) => ({ ...c, attributes: { timeout: String(HOST_TIMEOUT_S), ...c.attributes } })),
      smtp: { host: smtp.host, port: smtp.port },
      settings: { 'connect-timeout': String(CONNECT_TIMEOUT_S), 'spool-dir': join(dir, 'spool') },
    });
    const config = await loadConfig(configPath);
    const store = await openStore(databaseUrl);
    await migrate(store);
    process.stderr.write(
      `round over ${clients.length} hosts (${faultyCount} faulty), concurrency ${config.settings.concurrency}…\n`,
    );
    const summary = await collectRound(config, store);
    const seconds = (summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000;
    const mail = await deliverQueuedMail(store, config.smtp);

    const storedNames = new Set(
      (
        await store.db
          .selectFrom('samples')
          .innerJoin('hosts', 'hosts.id', 'samples.host_id')
          .select('hosts.name')
          .where('samples.round_id', '=', summary.roundId)
          .execute()
      ).map((r) => r.name),
    );
    const tableStages = new Map(
      (
        await store.db
          .selectFrom('host_errors')
          .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
          .select(['hosts.name', 'host_errors.stage'])
          .where('host_errors.round_id', '=', summary.roundId)
          .execute()
      ).map((r) => [r.name, r.stage]),
    );
    const unsent = (await store.db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute()).length;
    const queued = (await store.db.selectFrom('outbox').select('id').execute()).length;
    await store.close();
    await smtp.waitForMessages(queued, 10_000).catch(() => undefined);

    const healthyStored = clients.filter((c) => c.name!.startsWith('healthy-') && storedNames.has(c.name!)).length;
    const summaryStages = new Map(
      summary.outcomes.flatMap((o) => {
        const failure = outcomeFailure(o);
        return failure ? [[o.client.name, failure.stage] as const] : [];
      }),
    );
    const wrongStage = [...expectedStage].filter(
      ([name, stage]) => summaryStages.get(name) !== stage || tableStages.get(name) !== stage,
    );
    const received = smtp.messages.length;
    const lost = queued - received;
    const batches = Math.ceil(clients.length / config.settings.concurrency);
    const bound = (CONNECT_TIMEOUT_S + HOST_TIMEOUT_S) * batches;

    const perKind = FAULT_KINDS.map((k) => {
      const names = [...expectedStage.keys()].filter((n) => n.startsWith(`${k.name}-`));
      return `${k.name} ${names.filter((n) => summaryStages.get(n) === k.stage).length}/${names.length} [${k.stage}]`;
    }).join(', ');
    const lines = [
      `hosts: ${clients.length} (${healthyCount} healthy, ${faultyCount} faulty = ${((100 * faultyCount) / clients.length).toFixed(0)} %), concurrency ${config.settings.concurrency}, connect timeout ${CONNECT_TIMEOUT_S} s, host timeout ${HOST_TIMEOUT_S} s`,
      `round wall time: ${seconds.toFixed(1)} s (bound (connect + host timeout) × batches = ${bound} s)`,
      `healthy hosts stored: ${healthyStored}/${healthyCount} (${((100 * healthyStored) / healthyCount).toFixed(1)} %)`,
      `faults recorded with the right stage (summary and host_errors): ${faultyCount - wrongStage.length}/${faultyCount}`,
      `  ${perKind}`,
      `mails: ${queued} queued, ${mail.sent} sent, ${received} received, ${unsent} unsent, lost ${lost}`,
    ];
    for (const o of summary.outcomes.filter((o) => o.client.name.startsWith('healthy-'))) {
      const failure = outcomeFailure(o);
      if (failure)
        lines.push(`  healthy host failed: ${o.client.name} [${failure.stage ?? 'not started'}] ${failure.message}`);
    }
    if (wrongStage.length > 0)
      lines.push(
        `  wrong stage: ${wrongStage.map(([n, s]) => `${n} expected ${s}, got ${summaryStages.get(n)}/${tableStages.get(n)}`).join('; ')}`,
      );
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exitCode = healthyStored === healthyCount && wrongStage.length === 0 && lost === 0 && unsent === 0 ? 0 : 1;
  } finally {
    await Promise.all([fleet.stop(), smtp.stop(), ...endpoints.map((e) => e.stop())]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
