/**
 * known_hosts parsing and host key judgement, on lines written by the real ssh-keygen and
 * ssh-keyscan formats (plain, [host]:port, hashed, wildcards, @revoked), and the accept-new
 * policy recording a first-seen key and then refusing a changed one.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  entriesFor,
  fingerprint,
  judgeHostKey,
  keyTypeOf,
  knownHostsLookup,
  knownHostsName,
  parseKnownHosts,
} from '../src/ssh/known-hosts.js';
import { HostKeyStore } from '../src/ssh/host-key-policy.js';
import { StageError } from '../src/errors/stage-error.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh public key from the real ssh-keygen: [type, base64 blob, blob bytes]. */
function newKey(type = 'ed25519'): { line: string; blob: Buffer; type: string } {
  const path = join(dir, `k${Math.random().toString(16).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
  const [keyType, base64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  return { line: `${keyType} ${base64}`, blob: Buffer.from(base64!, 'base64'), type: keyType! };
}

describe('known_hosts', () => {
  const a = newKey();
  const b = newKey();
  const rsa = newKey('rsa');

  it('names hosts as OpenSSH does and fingerprints like ssh-keygen -l', () => {
    expect(knownHostsName('10.0.0.5', 22)).toBe('10.0.0.5');
    expect(knownHostsName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
    const pub = join(dir, 'fp.pub');
    writeFileSync(pub, `${a.line}\n`);
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub]).toString().split(' ')[1];
    expect(fingerprint(a.blob)).toBe(expected);
    expect(keyTypeOf(a.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
  });

  it('matches plain, port-qualified, comma lists and wildcard patterns', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        '',
        `10.0.0.5,web1 ${a.line}`,
        `[10.0.0.6]:2222 ${b.line}`,
        `10.0.1.* ${a.line}`,
        `*.corp,!bad.corp ${b.line}`,
      ].join('\n'),
    );
    expect(judgeHostKey(entries, '10.0.0.5', 22, a.blob).kind).toBe('match');
    expect(judgeHostKey(entries, '10.0.0.6', 2222, b.blob).kind).toBe('match');
    expect(judgeHostKey(entries, '10.0.0.6', 22, b.blob).kind).toBe('unknown'); // port matters
    expect(judgeHostKey(entries, '10.0.1.77', 22, a.blob).kind).toBe('match');
    expect(judgeHostKey(entries, 'x.corp', 22, b.blob).kind).toBe('match');
    expect(judgeHostKey(entries, 'bad.corp', 22, b.blob).kind).toBe('unknown'); // negated
    expect(judgeHostKey(entries, '10.0.0.5', 22, b.blob)).toMatchObject({ kind: 'changed', line: 3 });
    expect(judgeHostKey(entries, '10.0.0.7', 22, a.blob).kind).toBe('unknown');
  });

  it('finds by its name index the same entries as a scan of every line, in file order', () => {
    const hashed = (name: string) => {
      const salt = randomBytes(20);
      return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    };
    const entries = parseKnownHosts(
      [
        `10.0.0.5,Web1 ${a.line}`,
        `[10.0.0.6]:2222 ${b.line}`,
        `10.0.1.* ${a.line}`,
        `${hashed('10.0.0.5')} ${b.line}`,
        `*.corp,!bad.corp ${b.line}`,
        `web1,10.0.0.5 ${rsa.line}`,
        `@revoked [10.0.0.6]:2222 ${a.line}`,
        `bad.corp ${a.line}`,
        `${hashed('[10.0.0.6]:2222')} ${a.line}`,
        ...Array.from({ length: 300 }, (_, i) => `[127.9.${i >> 8}.${i & 255}]:22 ${a.line}`),
      ].join('\n'),
    );
    const lookup = knownHostsLookup(entries);
    const queries: [string, number][] = [
      ['10.0.0.5', 22],
      ['WEB1', 22],
      ['web1', 22],
      ['10.0.0.6', 2222],
      ['10.0.0.6', 22],
      ['10.0.1.9', 22],
      ['x.corp', 22],
      ['bad.corp', 22],
      ['127.9.1.20', 22],
      ['127.9.0.7', 2200],
      ['nowhere', 22],
    ];
    for (const [host, port] of queries) {
      expect(
        lookup(host, port).map((e) => e.line),
        `${host}:${port}`,
      ).toEqual(entriesFor(entries, host, port).map((e) => e.line));
    }
    expect(lookup('10.0.0.5', 22).map((e) => e.line)).toEqual([1, 4, 6]);
  });

  it('matches hashed names made by ssh-keygen -H', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `[127.0.0.9]:2200 ${a.line}\n10.9.9.9 ${b.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file]);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    const entries = parseKnownHosts(text);
    expect(judgeHostKey(entries, '127.0.0.9', 2200, a.blob).kind).toBe('match');
    expect(judgeHostKey(entries, '10.9.9.9', 22, b.blob).kind).toBe('match');
    expect(judgeHostKey(entries, '10.9.9.9', 22, a.blob).kind).toBe('changed');
    expect(judgeHostKey(entries, '10.9.9.8', 22, b.blob).kind).toBe('unknown');
  });

  it('refuses a revoked key and treats a new key type for a known host as changed', () => {
    const entries = parseKnownHosts(`@revoked * ${b.line}\n10.0.0.5 ${a.line}\n`);
    expect(judgeHostKey(entries, '10.0.0.5', 22, b.blob)).toMatchObject({ kind: 'revoked', line: 1 });
    expect(judgeHostKey(entries, '10.0.0.5', 22, rsa.blob)).toMatchObject({
      kind: 'changed',
      expectedTypes: ['ssh-ed25519'],
    });
  });

  it('skips malformed lines and @cert-authority lines', () => {
    const entries = parseKnownHosts(`garbage\nhost-only\n@cert-authority *.corp ${a.line}\n10.0.0.5 ${a.line}\n`);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.line).toBe(4);
  });

  it('skips lines with key types ssh2 cannot use (FIDO sk-* keys, certificates), so they neither match nor make a key "changed"', () => {
    const sk = Buffer.concat([
      Buffer.from([0, 0, 0, 26]),
      Buffer.from('sk-ssh-ed25519@openssh.com'),
      Buffer.alloc(40, 1),
    ]).toString('base64');
    const entries = parseKnownHosts(
      [
        `10.0.0.5 sk-ssh-ed25519@openssh.com ${sk}`,
        `10.0.0.5 sk-ecdsa-sha2-nistp256@openssh.com ${sk}`,
        `10.0.0.5 ssh-ed25519-cert-v01@openssh.com ${sk}`,
        `10.0.0.6 sk-ssh-ed25519@openssh.com ${sk}`,
        `10.0.0.5 ${a.line}`,
      ].join('\n'),
    );
    expect(entries.map((e) => e.line)).toEqual([5]);
    expect(judgeHostKey(entries, '10.0.0.5', 22, a.blob).kind).toBe('match');
    expect(judgeHostKey(entries, '10.0.0.6', 22, b.blob).kind).toBe('unknown');
  });

  it('accept-new records a first-seen key once, then refuses a changed one; strict never writes', async () => {
    const file = join(dir, 'accept-new');
    const store = await HostKeyStore.load(file); // missing file = empty
    await expect(store.verify('127.0.0.9', 2200, a.blob, 'strict')).rejects.toThrow(
      /unknown host key for \[127\.0\.0\.9\]:2200: ssh-ed25519 SHA256:/,
    );
    // verify only allows a first-seen key; the session records it after the server's proof.
    expect(await store.verify('127.0.0.9', 2200, a.blob, 'accept-new')).toEqual({ kind: 'first-seen' });
    expect(existsSync(file)).toBe(false);
    await Promise.all([
      store.recordFirstSeen('127.0.0.9', 2200, a.blob),
      store.recordFirstSeen('127.0.0.8', 22, b.blob),
    ]);
    expect(await store.verify('127.0.0.9', 2200, a.blob, 'strict')).toEqual({ kind: 'trusted' });
    const error = await store.verify('127.0.0.9', 2200, b.blob, 'accept-new').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StageError);
    expect((error as StageError).stage).toBe('hostkey');
    expect((error as StageError).message).toMatch(/HOST KEY CHANGED/);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.sort()).toEqual([`127.0.0.8 ${b.line}`, `[127.0.0.9]:2200 ${a.line}`].sort());
    // What accept-new wrote is what OpenSSH itself reads.
    const reloaded = await HostKeyStore.load(file);
    await reloaded.verify('127.0.0.8', 22, b.blob, 'strict');
    expect(execFileSync('ssh-keygen', ['-F', '[127.0.0.9]:2200', '-f', file]).toString()).toContain(a.line);
  });
});
