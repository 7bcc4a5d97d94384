/**
 * Authentication and privilege faults in a real round: a wrong password, a key the host does
 * not accept, a locked account (a second local account, locked with usermod -L between two
 * rounds, so the first round proves it works when unlocked), and sudo asking for a password
 * that is wrong (a sudoers rule requiring a password, removed afterwards). A sudo run with the
 * right password is the control.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetClient } from './support/fleet-config.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound } from './support/hostile-round.js';
import { TEST_USER } from './support/sshd.js';

const LOCKED_USER = 'fleetstat-locked';
const SUDOERS_FILE = '/etc/sudoers.d/fleetstat-faults';
const WRONG_PASSWORD_ENV = 'FLEETSTAT_FAULTS_WRONG_PASSWORD';
const WRONG_PASSWORD = 'not-the-password-9f2c';

function removeLockedUser(): void {
  try {
    execFileSync('userdel', [LOCKED_USER], { stdio: 'ignore' });
  } catch {
    // absent already
  }
}

describe('authentication and sudo faults', () => {
  let fleet: FaultFleet;
  let dir: string;
  let clients: FleetClient[];

  beforeAll(async () => {
    removeLockedUser();
    execFileSync('useradd', ['--no-create-home', '--shell', '/bin/sh', LOCKED_USER]);
    execFileSync('chpasswd', { input: `${LOCKED_USER}:${WRONG_PASSWORD}x\n` });
    // sudo for the test account, with its password required (no NOPASSWD).
    writeFileSync(SUDOERS_FILE, `${TEST_USER} ALL=(root) ALL\n`, { mode: 0o440 });
    execFileSync('visudo', ['-c', '-q', '-f', SUDOERS_FILE]);
    process.env[WRONG_PASSWORD_ENV] = WRONG_PASSWORD;

    fleet = await startFaultFleet(6, { firstIndex: 80, extraConfig: [`AllowUsers ${LOCKED_USER}`] });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-auth-'));
    const otherKey = join(dir, 'not_authorized_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const [healthy, wrongPassword, refusedKey, locked, sudoWrong, sudoRight] = fleet.hosts;
    clients = [
      { host: healthy!, auth: 'key', name: 'healthy' },
      {
        host: wrongPassword!,
        auth: 'none',
        name: 'wrong-password',
        attributes: { 'password-env': WRONG_PASSWORD_ENV },
      },
      { host: refusedKey!, auth: 'none', name: 'refused-key', attributes: { key: otherKey } },
      { host: locked!, auth: 'key', name: 'locked', attributes: { username: LOCKED_USER } },
      // The key logs in; sudo then gets the wrong password on stdin.
      {
        host: sudoWrong!,
        auth: 'key',
        name: 'sudo-wrong',
        attributes: { sudo: 'true', 'password-env': WRONG_PASSWORD_ENV, timeout: '20' },
      },
      { host: sudoRight!, auth: 'password', name: 'sudo-right', attributes: { sudo: 'true', timeout: '20' } },
    ];
  });
  afterAll(async () => {
    await fleet?.stop();
    if (existsSync(SUDOERS_FILE)) rmSync(SUDOERS_FILE);
    removeLockedUser();
    delete process.env[WRONG_PASSWORD_ENV];
    rmSync(dir, { recursive: true, force: true });
  });

  it('records auth failures per host; the locked account worked until it was locked', async () => {
    const first = await runFaultRound(fleet, { dir, clients });
    expect(first.stored).toEqual(['healthy', 'locked', 'sudo-right']);

    execFileSync('usermod', ['-L', LOCKED_USER]);
    const { summary, summaryErrors, tableErrors, stored } = await runFaultRound(fleet, { dir, clients });
    expect(stored).toEqual(['healthy', 'sudo-right']);
    expect(summary).toMatchObject({ hostsOk: 2, hostsFailed: 4 });

    const authFailure = (user: string) =>
      new RegExp(
        `^authentication as ${user} failed on 127\\.0\\.\\d+\\.\\d+:\\d+ .*\\(check the password, key or account\\)$`,
      );
    expect(summaryErrors.get('wrong-password')).toMatchObject({
      stage: 'auth',
      message: expect.stringMatching(authFailure(TEST_USER)),
    });
    expect(summaryErrors.get('refused-key')).toMatchObject({
      stage: 'auth',
      message: expect.stringMatching(authFailure(TEST_USER)),
    });
    expect(summaryErrors.get('locked')).toMatchObject({
      stage: 'auth',
      message: expect.stringMatching(authFailure(LOCKED_USER)),
    });
    // One attempt only: sudo never got the probe's input line (the run key) as a second password.
    expect(summaryErrors.get('sudo-wrong')).toMatchObject({
      stage: 'run',
      message: expect.stringMatching(
        new RegExp(
          `^sudo refused the password of ${TEST_USER}: .*sudo: 1 incorrect password attempt .*check the client's password`,
        ),
      ),
    });
    for (const name of ['wrong-password', 'refused-key', 'locked', 'sudo-wrong']) {
      expect(tableErrors.get(name), name).toEqual(summaryErrors.get(name));
      expect(summaryErrors.get(name)!.message).not.toContain(WRONG_PASSWORD);
    }
  });
});
