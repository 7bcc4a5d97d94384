/**
 * Trusting host keys (issue 11, item 8), against real servers:
 * - accept-new records a first-seen key only after the server proved it holds it: an impostor
 *   (a real SSH server, ssh2's, that presents a victim's public key but signs with its own
 *   private key) fails the handshake and leaves known_hosts untouched, and no password reaches it;
 * - two HostKeyStores (two processes: `hosts test` while `serve` runs) recording different first
 *   keys for one host: exactly one is written, the other is refused as a changed key;
 * - a known_hosts line with a key type ssh2 cannot use (FIDO sk-* keys) is skipped as OpenSSH
 *   does: a real sshd that also has a usable line is still collected.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientConfig } from '../src/config/types.js';
import { StageError } from '../src/errors/stage-error.js';
import { HostKeyStore } from '../src/ssh/host-key-policy.js';
import { parseKnownHosts } from '../src/ssh/known-hosts.js';
import { openSession } from '../src/ssh/session.js';
import { startFleet, type SshdFleet } from './support/sshd.js';

const { Server, utils } = ssh2;
const IMPOSTOR_ADDRESS = '127.0.9.41';

function client(ip: string, port: number, fields: Partial<ClientConfig>): ClientConfig {
  return {
    name: ip,
    ip,
    port,
    username: 'nobody',
    agent: false,
    alerts: [],
    timeoutSeconds: 20,
    hostKey: 'accept-new',
    sudo: false,
    line: 1,
    ...fields,
  };
}

/**
 * A fresh ed25519 key pair, parsed. ssh2's generator writes a key that its own parser refuses
 * ("Malformed OpenSSH private key") about once in 200 draws: draw again.
 */
function freshEd25519(): ssh2.ParsedKey {
  for (let attempt = 0; attempt < 50; attempt++) {
    const key = utils.parseKey(utils.generateKeyPairSync('ed25519').private);
    if (!(key instanceof Error)) return key;
  }
  throw new Error('ssh2 refused 50 fresh ed25519 keys in a row');
}

/** An ed25519 public key blob from a fresh key pair. */
function newPublicBlob(): Buffer {
  return freshEd25519().getPublicSSH();
}

describe('host key trust', () => {
  let dir: string;
  let fleet: SshdFleet;
  let impostor: ssh2.Server;
  let impostorPort: number;
  let passwordsSeen = 0;
  let victimBlob: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-hostkeys-'));
    fleet = await startFleet(1, { firstIndex: 160 });
    // The victim's public key is public; its private key is not the impostor's.
    const victim = freshEd25519();
    victimBlob = victim.getPublicSSH();
    const own = freshEd25519();
    own.getPublicSSH = () => victimBlob;
    impostor = new Server({ hostKeys: [{ key: own as never }] }, (connection) => {
      connection.on('authentication', (context) => {
        if (context.method === 'password') passwordsSeen++;
        context.reject();
      });
      connection.on('error', () => undefined); // the client hangs up on the bad signature
    });
    await new Promise<void>((resolve) => impostor.listen(0, IMPOSTOR_ADDRESS, resolve));
    impostorPort = (impostor.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => impostor?.close(resolve));
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accept-new does not record a key the server cannot sign with, and sends it no password', async () => {
    const knownHosts = join(dir, 'impostor_known_hosts');
    const hostKeys = await HostKeyStore.load(knownHosts);
    const error = await openSession(client(IMPOSTOR_ADDRESS, impostorPort, { password: 'not-for-impostors' }), {
      hostKeys,
      connectTimeoutMs: 10_000,
    }).then(
      (s) => {
        s.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).message).toMatch(/signature verification failed/);
    expect(existsSync(knownHosts) ? readFileSync(knownHosts, 'utf8') : '').toBe('');
    expect(passwordsSeen).toBe(0);
  });

  it('accept-new records the key of a real sshd after the handshake, once', async () => {
    const host = fleet.hosts[0]!;
    const knownHosts = join(dir, 'real_known_hosts');
    const hostKeys = await HostKeyStore.load(knownHosts);
    const session = await openSession(
      client(host.address, host.port, { username: fleet.user, keyPath: fleet.clientKeyPath }),
      { hostKeys, connectTimeoutMs: 20_000 },
    );
    session.close();
    const [type, base64] = host.hostPublicKey.split(/\s+/);
    expect(readFileSync(knownHosts, 'utf8')).toBe(`[${host.address}]:${host.port} ${type} ${base64}\n`);
    const again = await openSession(
      client(host.address, host.port, { username: fleet.user, keyPath: fleet.clientKeyPath }),
      { hostKeys, connectTimeoutMs: 20_000 },
    );
    again.close();
    expect(readFileSync(knownHosts, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('two processes recording different first keys for one host: one is written, the other refused', async () => {
    const knownHosts = join(dir, 'race_known_hosts');
    const [a, b] = await Promise.all([HostKeyStore.load(knownHosts), HostKeyStore.load(knownHosts)]);
    const [keyA, keyB] = [newPublicBlob(), newPublicBlob()];
    // Both see the host as unknown before either writes.
    expect(await a.verify('127.0.0.70', 22, keyA, 'accept-new')).toEqual({ kind: 'first-seen' });
    expect(await b.verify('127.0.0.70', 22, keyB, 'accept-new')).toEqual({ kind: 'first-seen' });
    const results = await Promise.allSettled([
      a.recordFirstSeen('127.0.0.70', 22, keyA),
      b.recordFirstSeen('127.0.0.70', 22, keyB),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(StageError);
    expect((refused.reason as StageError).message).toMatch(/HOST KEY CHANGED for 127\.0\.0\.70/);
    const entries = parseKnownHosts(readFileSync(knownHosts, 'utf8'));
    expect(entries).toHaveLength(1);
    expect(existsSync(`${knownHosts}.lock`)).toBe(false);
    // The same key recorded twice (both saw it first) is written once.
    await Promise.all([a.recordFirstSeen('127.0.0.71', 22, keyA), b.recordFirstSeen('127.0.0.71', 22, keyA)]);
    expect(parseKnownHosts(readFileSync(knownHosts, 'utf8'))).toHaveLength(2);
  });

  it('skips known_hosts lines with key types ssh2 cannot use, and still collects the host', async () => {
    const host = fleet.hosts[0]!;
    const name = `[${host.address}]:${host.port}`;
    const knownHosts = join(dir, 'sk_known_hosts');
    const skKey = Buffer.concat([
      Buffer.from([0, 0, 0, 26]),
      Buffer.from('sk-ssh-ed25519@openssh.com'),
      Buffer.alloc(40, 7),
    ]).toString('base64');
    const skEcdsa = Buffer.concat([
      Buffer.from([0, 0, 0, 34]),
      Buffer.from('sk-ecdsa-sha2-nistp256@openssh.com'),
      Buffer.alloc(40, 7),
    ]).toString('base64');
    writeFileSync(
      knownHosts,
      [
        `${name} sk-ssh-ed25519@openssh.com ${skKey}`,
        `${name} sk-ecdsa-sha2-nistp256@openssh.com ${skEcdsa}`,
        `${name} ${host.hostPublicKey}`,
      ].join('\n'),
    );
    expect(parseKnownHosts(readFileSync(knownHosts, 'utf8')).map((e) => e.keyType)).toEqual(['ssh-ed25519']);
    const hostKeys = await HostKeyStore.load(knownHosts);
    const session = await openSession(
      client(host.address, host.port, { username: fleet.user, keyPath: fleet.clientKeyPath, hostKey: 'strict' }),
      { hostKeys, connectTimeoutMs: 20_000 },
    );
    const result = await session.exec('echo ok');
    session.close();
    expect(result.stdout.toString()).toBe('ok\n');
  });
});
