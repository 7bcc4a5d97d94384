/**
 * The private key is parsed by the collector (once per file read, not by ssh2 per connection):
 * a key that cannot be used is an `auth` failure naming the file, and an encrypted key with its
 * passphrase gets past authentication setup to the connection itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClientConfig } from '../src/config/types.js';
import { StageError } from '../src/errors/stage-error.js';
import { HostKeyStore } from '../src/ssh/host-key-policy.js';
import { openSession } from '../src/ssh/session.js';
import { closedPort } from './support/fault-servers.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyPath = join(dir, 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right passphrase', '-f', keyPath]);

function client(port: number, passphrase?: string): ClientConfig {
  return {
    name: 'k',
    ip: '127.0.0.1',
    port,
    username: 'nobody',
    keyPath,
    passphrase,
    agent: false,
    alerts: [],
    timeoutSeconds: 10,
    hostKey: 'strict',
    sudo: false,
    line: 1,
  };
}

async function failure(config: ClientConfig): Promise<StageError> {
  const hostKeys = await HostKeyStore.load(join(dir, 'known_hosts'));
  const error = await openSession(config, { hostKeys, connectTimeoutMs: 5000 }).then(
    (session) => {
      session.close();
      throw new Error('connected');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(StageError);
  return error as StageError;
}

describe('private key', () => {
  it('is an auth failure naming the file when its passphrase is missing or wrong', async () => {
    const { port } = await closedPort('127.0.0.1');
    const missing = await failure(client(port));
    expect(missing.stage).toBe('auth');
    expect(missing.message).toContain(`cannot use private key ${keyPath}`);
    const wrong = await failure(client(port, 'wrong passphrase'));
    expect(wrong.stage).toBe('auth');
    expect(wrong.message).toContain(`cannot use private key ${keyPath}`);
    expect(wrong.message).not.toContain('wrong passphrase');
  });

  it('with its passphrase, goes on to connect', async () => {
    const { port } = await closedPort('127.0.0.1');
    const refused = await failure(client(port, 'right passphrase'));
    expect(refused.stage).toBe('connect');
    expect(refused.message).toContain('connection refused');
  });
});
