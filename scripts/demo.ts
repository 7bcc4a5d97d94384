/**
 * `npm run demo`: one real round on this machine. Starts three throwaway OpenSSH servers on
 * 127.0.1.x and an SMTP catcher on loopback, writes a config, runs the real `fleetstat collect`
 * into .fleetstat-demo/fleetstat.sqlite, prints what was stored and the mails sent, and stops
 * everything it started.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startFleet } from '../test/support/sshd.js';
import { startSmtpCatcher } from '../test/support/smtp-catcher.js';
import { writeFleetConfig } from '../test/support/fleet-config.js';
import { openStore } from '../src/store/open-store.js';

const root = resolve(new URL('..', import.meta.url).pathname);
const dir = join(root, '.fleetstat-demo');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const dbPath = join(dir, 'fleetstat.sqlite');

console.log('starting 3 sshd hosts on loopback and an SMTP catcher …');
const [fleet, smtp] = await Promise.all([startFleet(3), startSmtpCatcher()]);
let exitCode: number;
try {
  const [a, b, c] = fleet.hosts;
  const config = writeFleetConfig(fleet, {
    dir,
    databaseUrl: `sqlite:${dbPath}`,
    smtp: { host: smtp.host, port: smtp.port },
    clients: [
      {
        host: a!,
        name: 'web-1',
        auth: 'password',
        mail: 'ops@example.test',
        alerts: ['<alert type="memory" limit="1%"/>', '<alert type="cpu" limit="90%"/>'],
      },
      { host: b!, name: 'db-1', auth: 'key', mail: 'dba@example.test', alerts: ['<alert type="disk" limit="99%"/>'] },
      {
        host: c!,
        name: 'build-1',
        auth: 'key',
        mail: 'ops@example.test',
        alerts: ['<alert type="swap" limit="100%"/>'],
      },
    ],
  });
  console.log(`config: ${config}\n$ fleetstat collect --config ${config}`);
  // Asynchronous on purpose: the SMTP catcher lives in this process and must keep answering.
  const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'collect', '--config', config], {
    stdio: 'inherit',
  });
  exitCode = await new Promise<number>((done) => child.once('exit', (code) => done(code ?? 70)));

  const store = await openStore(`sqlite:${dbPath}`);
  const rows = await store.db
    .selectFrom('samples')
    .innerJoin('hosts', 'hosts.id', 'samples.host_id')
    .select([
      'hosts.name',
      'hosts.ip',
      'hosts.os_name',
      'samples.cpu_percent',
      'samples.mem_percent',
      'samples.mem_total',
      'samples.swap_percent',
      'samples.uptime_seconds',
      'samples.users_count',
    ])
    .execute();
  await store.close();
  console.log(`\nstored in ${dbPath} (table samples, joined with hosts):`);
  console.table(
    rows.map((r) => ({
      host: r.name,
      ip: r.ip,
      os: r.os_name,
      'cpu %': r.cpu_percent.toFixed(1),
      'mem %': r.mem_percent.toFixed(1),
      'mem total GiB': (Number(r.mem_total) / 2 ** 30).toFixed(1),
      'swap %': r.swap_percent.toFixed(1),
      'uptime s': r.uptime_seconds,
      users: r.users_count,
    })),
  );
  const mails = await smtp.waitForMessages(1, 5000).catch(() => smtp.messages);
  console.log(`mails received by the SMTP catcher on ${smtp.host}:${smtp.port}: ${mails.length}`);
  for (const mail of mails)
    console.log(`\n--- to ${mail.envelope.to.join(', ')}\nSubject: ${mail.subject}\n\n${mail.body.trim()}`);
} finally {
  await Promise.all([fleet.stop(), smtp.stop()]);
  console.log('\nstopped the sshd hosts and the SMTP catcher');
}
process.exit(exitCode);
