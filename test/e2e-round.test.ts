/**
 * End to end through the real CLI: real sshd hosts on loopback, the real probe, SQLite on disk,
 * a real SMTP server. Checks what was stored against this machine's own /proc, the alert mails,
 * the per-host failures (unknown key, changed key, wrong password) and that nothing is left on
 * the targets.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meminfoBytes } from './support/this-machine.js';
import { fleetstat } from './support/cli.js';
import { startFleet, TEST_USER, type SshdFleet } from './support/sshd.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { openStore } from '../src/store/open-store.js';

/** fleetstat.* directories in /tmp that belong to the test account. */
function leftoverTempDirs(): string[] {
  const uid = Number(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${TEST_USER}:`))!
      .split(':')[2],
  );
  return readdirSync('/tmp').filter(
    (name) => name.startsWith('fleetstat.') && statSync(join('/tmp', name)).uid === uid,
  );
}

describe('fleetstat collect, end to end', () => {
  let fleet: SshdFleet;
  let smtp: SmtpCatcher;
  let dir: string;

  beforeAll(async () => {
    [fleet, smtp] = await Promise.all([startFleet(5), startSmtpCatcher()]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-e2e-'));
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores one sample per host with the right values and mails only the crossed limit', async () => {
    const [h0, h1, h2] = fleet.hosts;
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'ok.sqlite')}`,
      smtp: { host: smtp.host, port: smtp.port },
      clients: [
        {
          host: h0!,
          auth: 'password',
          name: 'alpha',
          mail: 'alpha-ops@example.test',
          alerts: ['<alert type="memory" limit="0%"/>'],
        },
        {
          host: h1!,
          auth: 'key',
          name: 'beta',
          mail: 'beta-ops@example.test',
          alerts: ['<alert type="memory" limit="100%"/>', '<alert type="disk" limit="100%"/>'],
        },
        { host: h2!, auth: 'password', name: 'gamma' },
      ],
    });
    const before = leftoverTempDirs();
    const result = await fleetstat(['collect', '--config', config, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ hosts_ok: 3, hosts_failed: 0, mail: { sent: 1, failed: 0 } });

    const store = await openStore(`sqlite:${join(dir, 'ok.sqlite')}`);
    try {
      const rows = await store.db
        .selectFrom('samples')
        .innerJoin('hosts', 'hosts.id', 'samples.host_id')
        .select([
          'hosts.ip',
          'hosts.port',
          'hosts.name',
          'hosts.os',
          'samples.mem_total',
          'samples.mem_percent',
          'samples.uptime_seconds',
          'samples.cpu_percent',
          'samples.id',
        ])
        .orderBy('hosts.name')
        .execute();
      expect(rows.map((r) => r.name)).toEqual(['alpha', 'beta', 'gamma']);
      expect(rows.map((r) => `${r.ip}:${r.port}`)).toEqual([h0, h1, h2].map((h) => `${h!.address}:${h!.port}`));
      const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
      for (const row of rows) {
        expect(row.os).toBe('linux');
        expect(Number(row.mem_total)).toBe(meminfoBytes('MemTotal'));
        expect(row.mem_percent).toBeGreaterThan(0);
        expect(row.mem_percent).toBeLessThan(100);
        expect(Math.abs(Number(row.uptime_seconds) - uptime)).toBeLessThan(30);
        expect(row.cpu_percent).toBeGreaterThanOrEqual(0);
        expect(row.cpu_percent).toBeLessThanOrEqual(100);
      }
      const disks = await store.db
        .selectFrom('disk_usage')
        .select(['mount', 'size_bytes'])
        .where('sample_id', '=', rows[0]!.id)
        .execute();
      expect(disks.some((d) => d.mount === '/' && Number(d.size_bytes) > 0)).toBe(true);
      const nics = await store.db.selectFrom('net_io').select('name').where('sample_id', '=', rows[0]!.id).execute();
      expect(nics.map((n) => n.name)).toContain('lo');
      const round = await store.db.selectFrom('rounds').selectAll().executeTakeFirstOrThrow();
      expect(round).toMatchObject({ hosts_ok: 3, hosts_failed: 0 });
    } finally {
      await store.close();
    }

    const mails = await smtp.waitForMessages(1);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.envelope.to).toEqual(['alpha-ops@example.test']);
    expect(mails[0]!.subject).toMatch(/memory/i);
    expect(mails[0]!.body).toContain(h0!.address);
    // Every run removes its private directory on the target. Other test files running beside
    // this one may own a fleetstat.* directory for a moment; one this run left stays for good.
    await expect
      .poll(() => leftoverTempDirs().filter((name) => !before.includes(name)), { timeout: 60_000, interval: 500 })
      .toEqual([]);
  });

  it('reports unknown and changed host keys and a wrong password per host, and stores the healthy host', async () => {
    const [h0, h1, h2, h3, h4] = fleet.hosts;
    // h3's key is missing from this known_hosts; h4 is recorded with another host's key (a changed key).
    const knownHosts = join(dir, 'known_hosts_partial');
    const h4Forged = h4!.knownHostsLine.replace(/\S+$/, h0!.hostPublicKey.split(/\s+/)[1]!);
    writeFileSync(
      knownHosts,
      [h0, h1, h2]
        .map((h) => h!.knownHostsLine)
        .concat(h4Forged)
        .join('\n') + '\n',
    );
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'faults.sqlite')}`,
      knownHostsPath: knownHosts,
      clients: [
        { host: h0!, auth: 'key', name: 'healthy' },
        { host: h1!, name: 'wrong-password', auth: 'none', attributes: { 'password-env': 'FLEETSTAT_E2E_WRONG' } },
        { host: h3!, auth: 'key', name: 'unknown-key' },
        { host: h4!, auth: 'key', name: 'changed-key' },
      ],
    });
    const result = await fleetstat(['collect', '--config', config, '--json'], {
      FLEETSTAT_E2E_WRONG: 'not-the-password',
    });
    // Without a terminal, each failed host is one line on stderr (what cron mails).
    expect(result.stderr).toMatch(/^FAIL unknown-key \[hostkey\] /m);
    expect(result.stderr).toMatch(/^FAIL wrong-password \[auth\] /m);
    expect(result.code).toBe(1);
    const summary = JSON.parse(result.stdout);
    expect(summary.hosts_ok).toBe(1);
    const byHost = Object.fromEntries(summary.failures.map((f: { host: string }) => [f.host, f]));
    expect(byHost['wrong-password']).toMatchObject({ stage: 'auth' });
    expect(byHost['unknown-key']).toMatchObject({ stage: 'hostkey' });
    expect(byHost['unknown-key'].message).toMatch(/unknown host key .*SHA256:/);
    expect(byHost['changed-key']).toMatchObject({ stage: 'hostkey' });
    expect(byHost['changed-key'].message).toMatch(/HOST KEY CHANGED/);
    expect(result.stdout).not.toContain('not-the-password');
    // The known_hosts file is never modified under the default strict policy.
    expect(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean)).toHaveLength(4);

    const store = await openStore(`sqlite:${join(dir, 'faults.sqlite')}`);
    try {
      const samples = await store.db
        .selectFrom('samples')
        .innerJoin('hosts', 'hosts.id', 'samples.host_id')
        .select('hosts.name')
        .execute();
      expect(samples.map((s) => s.name)).toEqual(['healthy']);
      const errors = await store.db
        .selectFrom('host_errors')
        .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
        .select(['hosts.name', 'stage', 'message'])
        .execute();
      expect(errors.map((e) => `${e.name}:${e.stage}`).sort()).toEqual([
        'changed-key:hostkey',
        'unknown-key:hostkey',
        'wrong-password:auth',
      ]);
      expect(JSON.stringify(errors)).not.toContain('not-the-password');
    } finally {
      await store.close();
    }
  });

  it('with host-key="accept-new" records a first-seen key and collects the host', async () => {
    const [h0, , h2] = fleet.hosts;
    const knownHosts = join(dir, 'known_hosts_accept_new');
    writeFileSync(knownHosts, `${h0!.knownHostsLine}\n`);
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'accept-new.sqlite')}`,
      knownHostsPath: knownHosts,
      clients: [{ host: h2!, auth: 'key', name: 'first-seen', attributes: { 'host-key': 'accept-new' } }],
    });
    const result = await fleetstat(['collect', '--config', config, '--json']);
    expect(result.code).toBe(0);
    expect(readFileSync(knownHosts, 'utf8').trim().split('\n')).toEqual([h0!.knownHostsLine, h2!.knownHostsLine]);
  });

  it('collects a host whose shell start-up prints a banner on stdout', async () => {
    // A chatty login (a .bashrc that echoes, a ForceCommand wrapper with a banner) must not break parsing.
    const wrapper = join(dir, 'noisy-login.sh');
    writeFileSync(
      wrapper,
      '#!/bin/sh\necho "Welcome to $(hostname)! FLEETSTAT1 is not an envelope"\necho "motd: be nice"\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n',
      { mode: 0o755 },
    );
    chmodSync(dir, 0o755);
    const noisy = await startFleet(1, { firstIndex: 240, extraConfig: [`ForceCommand ${wrapper}`] });
    try {
      const config = writeFleetConfig(noisy, {
        dir,
        databaseUrl: `sqlite:${join(dir, 'noisy.sqlite')}`,
        clients: [{ host: noisy.hosts[0]!, auth: 'key', name: 'chatty' }],
      });
      const result = await fleetstat(['collect', '--config', config, '--json']);
      expect(result.stdout).toContain('"hosts_ok": 1');
      expect(result.code).toBe(0);
    } finally {
      await noisy.stop();
    }
  });

  it('hosts test collects without storing and names the failing stage', async () => {
    const [h0, h1] = fleet.hosts;
    const dbPath = join(dir, 'hosts-test-never.sqlite');
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${dbPath}`,
      clients: [
        { host: h0!, auth: 'key', name: 'probe-a' },
        { host: h1!, auth: 'key', name: 'probe-b' },
        { host: { address: '127.0.0.1', port: 1 }, auth: 'key', name: 'probe-down' },
      ],
    });
    const some = await fleetstat(['hosts', 'test', '--config', config, 'probe-a', 'probe-down']);
    expect(some.code).toBe(1);
    expect(some.stdout).toMatch(/^ok {5}probe-a \(127\.0\.1\.\d+:\d+\) [\d.]+s: Debian/m);
    expect(some.stdout).toMatch(/^FAILED probe-down \(127\.0\.0\.1:1\) \[connect\] connection refused/m);
    expect(some.stdout).not.toContain('probe-b');
    const json = await fleetstat(['hosts', 'test', '--config', config, '--json', 'probe-b']);
    expect(json.code).toBe(0);
    const [only] = JSON.parse(json.stdout);
    expect(only.report.memory.total_bytes).toBe(meminfoBytes('MemTotal'));
    expect((await fleetstat(['hosts', 'test', '--config', config, 'nobody'])).code).toBe(2);
    expect(existsSync(dbPath)).toBe(false); // nothing stored
  });

  it('shows a progress bar and the summary on a terminal', async () => {
    const [h0, h1] = fleet.hosts;
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'tty.sqlite')}`,
      clients: [
        { host: h0!, auth: 'key', name: 'tty-a' },
        { host: h1!, auth: 'key', name: 'tty-b' },
        { host: { address: '127.0.0.1', port: 1 }, auth: 'key', name: 'tty-down' },
      ],
    });
    // script(1) gives the CLI a real pseudo-terminal, as a sysadmin's shell would.
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(
      'script',
      [
        '-qec',
        `${process.execPath} ${new URL('../dist/cli/main.js', import.meta.url).pathname} collect --config ${config}`,
        '/dev/null',
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(1); // some hosts failed
    const out = run.stdout;
    expect(out).toMatch(/collect \[[^\]]*\] 3\/3 hosts \| ok 2 \| failed 1/);
    expect(out).toMatch(/round \d+: 2 ok, 1 failed/);
    expect(out).toMatch(/FAILED tty-down \(127\.0\.0\.1:1\) \[connect\] connection refused/);
  });

  it('never puts the probe key in the argv of anything run on the target', async () => {
    const [h0] = fleet.hosts;
    const trace = join(dir, 'execve.trace');
    // Follow every process the target's sshd forks for our session.
    const strace = spawn(
      'strace',
      ['-f', '-qq', '-e', 'trace=execve', '-s', '4096', '-o', trace, '-p', String(h0!.pid)],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 500));
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${join(dir, 'trace.sqlite')}`,
      clients: [{ host: h0!, auth: 'key', name: 'traced' }],
    });
    const result = await fleetstat(['collect', '--config', config, '--quiet']);
    expect(result.code).toBe(0);
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));
    const execs = readFileSync(trace, 'utf8');
    expect(execs).toMatch(/execve\(".*probe\.sh/); // the trace did see the probe run
    // Both per-run secrets are 64 hex characters; no exec'd argv may carry such a token.
    expect(execs).not.toMatch(/[0-9a-f]{64}/);
  });
});
