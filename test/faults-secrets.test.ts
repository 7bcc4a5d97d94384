/**
 * Secrets under faults: the SSH password, the sudo password and the per-run envelope keys never
 * appear in argv, environment or files on the targets (strace on every sshd of the fleet,
 * following each session's processes), nor in the collector's output (logs and round JSON),
 * its error messages, the SQLite file or the spool. A run key is 64 lowercase hex characters:
 * no such token may appear anywhere either.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFleetConfig } from './support/fleet-config.js';
import { fleetstat } from './support/cli.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { testPassword, TEST_USER } from './support/sshd.js';

const SUDOERS_FILE = '/etc/sudoers.d/fleetstat-faults-secrets';
const WRONG_PASSWORD = 'wrong-secret-7d41c9';
const HEX64 = /[0-9a-f]{64}/;

/** Every file under `dir`, recursively, as [path, bytes]. */
function filesUnder(dir: string): [string, Buffer][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => [path, readFileSync(path)]);
}

describe('secrets stay secret under faults', () => {
  let fleet: FaultFleet;
  let dir: string;

  beforeAll(async () => {
    writeFileSync(SUDOERS_FILE, `${TEST_USER} ALL=(root) ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', SUDOERS_FILE]);
    fleet = await startFaultFleet(5, { firstIndex: 130 });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-secrets-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    if (existsSync(SUDOERS_FILE)) rmSync(SUDOERS_FILE);
    rmSync(dir, { recursive: true, force: true });
  });

  it('never shows a password or a run key on the target, in output, errors, the database or the spool', async () => {
    const password = testPassword();
    const [plain, sudo, sudoWrong, wrongPassword, garbage] = fleet.hosts;
    fleet.setMode(garbage!, 'reply garbage');
    const databasePath = join(dir, 'secrets.sqlite');
    const config = writeFleetConfig(fleet, {
      dir,
      databaseUrl: `sqlite:${databasePath}`,
      settings: { 'connect-timeout': '3', 'spool-dir': join(dir, 'spool') },
      clients: [
        { host: plain!, auth: 'password', name: 'password-login' },
        { host: sudo!, auth: 'password', name: 'sudo-password', attributes: { sudo: 'true' } },
        {
          host: sudoWrong!,
          auth: 'key',
          name: 'sudo-wrong',
          attributes: { sudo: 'true', 'password-env': 'FLEETSTAT_SECRETS_WRONG' },
        },
        {
          host: wrongPassword!,
          auth: 'none',
          name: 'wrong-password',
          attributes: { 'password-env': 'FLEETSTAT_SECRETS_WRONG' },
        },
        {
          host: garbage!,
          auth: 'password',
          name: 'garbage-reply',
          mail: 'ops@example.test',
          alerts: ['<alert type="unreachable"/>'],
        },
      ],
    });

    // Follow every process each target sshd forks: argv (-s 4096), environment (-v), files opened.
    const trace = join(dir, 'trace');
    const strace = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-v',
        '-s',
        '4096',
        '-e',
        'trace=execve,openat',
        '-o',
        trace,
        ...fleet.hosts.flatMap((h) => ['-p', String(h.pid)]),
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 500));
    const result = await fleetstat(['collect', '--config', config, '--json'], {
      FLEETSTAT_SECRETS_WRONG: WRONG_PASSWORD,
    });
    strace.kill('SIGINT');
    await new Promise((r) => strace.once('exit', r));

    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ hosts_ok: 2, hosts_failed: 3 });
    const stages = Object.fromEntries(summary.failures.map((f: { host: string; stage: string }) => [f.host, f.stage]));
    expect(stages).toEqual({ 'sudo-wrong': 'run', 'wrong-password': 'auth', 'garbage-reply': 'decrypt' });

    const traced = readFileSync(trace, 'utf8');
    const execs = traced.split('\n').filter((l) => l.includes('execve('));
    expect(execs.some((l) => l.includes('probe.sh'))).toBe(true); // the trace did see the probes run
    expect(execs.some((l) => l.includes('"sudo"'))).toBe(true);
    // Files the target side opened for writing, and what is left in them.
    const written = [
      ...new Set(
        traced
          .split('\n')
          .filter((l) => /openat\(.*O_(WRONLY|RDWR)/.test(l))
          .map((l) => /openat\([^"]*"([^"]+)"/.exec(l)?.[1])
          .filter((p): p is string => !!p && !p.startsWith('/dev/')),
      ),
    ];
    const leftFiles = written
      .filter((p) => existsSync(p) && statSync(p).isFile())
      .map((p): [string, Buffer] => [p, readFileSync(p)]);

    const outputs: [string, string | Buffer][] = [
      ['stdout (round JSON)', result.stdout],
      ['stderr (log)', result.stderr],
      ['strace execve (argv, env)', execs.join('\n')],
      ...filesUnder(dir).filter(([p]) => p !== trace),
      // sudo's credential cache is opened relative to its directory: read it whole.
      ...leftFiles,
      ...filesUnder('/run/sudo/ts'),
      ...filesUnder(fleet.faultDir).filter(([p]) => !p.includes('/shim/') && !p.endsWith('.mjs')),
    ];
    expect(outputs.some(([name]) => name === databasePath)).toBe(true);
    for (const [name, content] of outputs) {
      const text = Buffer.isBuffer(content) ? content.toString('latin1') : content;
      expect(text.includes(password), `password in ${name}`).toBe(false);
      expect(text.includes(WRONG_PASSWORD), `wrong password in ${name}`).toBe(false);
      expect(HEX64.exec(text)?.[0], `64-hex token in ${name}`).toBeUndefined();
    }
  });
});
