/**
 * known_hosts parsing and judging (src/ssh/known-hosts.ts) at its edges, with key blobs built
 * here rather than by ssh-keygen, so each claim names exactly the line or pattern it is about:
 * mutants of the parser, the pattern matcher and the verdict order survived the ssh-keygen
 * tests (docs/mutation.md).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  entriesFor,
  fingerprint,
  judgeAmong,
  judgeHostKey,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
  readKnownHosts,
  readKnownHostsText,
  recordFirstSeenKey,
} from '../src/ssh/known-hosts.js';

/** An SSH public key blob: the length-prefixed type name, then some key bytes. */
function blob(type: string, body = randomBytes(32)): Buffer {
  const name = Buffer.from(type, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, body]);
}
const b64 = (key: Buffer) => key.toString('base64');
const hashedName = (name: string, salt = randomBytes(20)) =>
  `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-khm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('names, fingerprints and key types', () => {
  it('names a host as OpenSSH does: bare on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('web1', 22)).toBe('web1');
    expect(knownHostsName('web1', 2222)).toBe('[web1]:2222');
  });
  it('prints SHA256 fingerprints without base64 padding', () => {
    const key = Buffer.from('abc');
    // sha256("abc") in base64 ends with one "=".
    expect(fingerprint(key)).toBe('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });
  it('reads the type from the blob, capped, and "unknown" for a blob too short to hold one', () => {
    expect(keyTypeOf(blob('ssh-ed25519'))).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.from([0, 0, 0]))).toBe('unknown');
    expect(keyTypeOf(blob('x'.repeat(100)))).toBe('x'.repeat(64));
  });
});

describe('parseKnownHosts', () => {
  it('keeps usable lines with their line numbers and skips the rest as OpenSSH does', () => {
    const ed = blob('ssh-ed25519');
    const text = [
      '# a comment',
      '',
      `   web1,web2 ssh-ed25519 ${b64(ed)} comment words`,
      `@revoked web3 ssh-ed25519 ${b64(ed)}`,
      `@cert-authority *.example ssh-ed25519 ${b64(ed)}`,
      `web4 sk-ssh-ed25519@openssh.com ${b64(ed)}`,
      'web5 ssh-ed25519',
      'web6',
      `web7 ssh-ed25519 ${'!!!!'}`,
      `|1|onlysalt ssh-ed25519 ${b64(ed)}`,
      `|1|${randomBytes(20).toString('base64')}| ssh-ed25519 ${b64(ed)}`,
      `web8\tssh-rsa\t${b64(ed)}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.hostPatterns, e.revoked, e.keyType])).toEqual([
      [3, ['web1', 'web2'], false, 'ssh-ed25519'],
      [4, ['web3'], true, 'ssh-ed25519'],
      [12, ['web8'], false, 'ssh-rsa'],
    ]);
    expect(entries[0]!.key.equals(ed)).toBe(true);
    expect(entries[0]!.hashed).toBeUndefined();
  });
  it('skips a commented-out entry, reads fields split by runs of blanks, and a 4-byte blob as an empty type', () => {
    const key = b64(blob('ssh-ed25519'));
    expect(parseKnownHosts(`#web1 ssh-ed25519 ${key}`)).toEqual([]);
    expect(parseKnownHosts(`web1  ssh-ed25519 \t ${key}`).map((e) => e.hostPatterns)).toEqual([['web1']]);
    expect(keyTypeOf(Buffer.from([0, 0, 0, 0]))).toBe('');
  });

  it('keeps a hashed name as salt and hash, with no plain patterns', () => {
    const salt = randomBytes(20);
    const [entry] = parseKnownHosts(`${hashedName('web1', salt)} ssh-ed25519 ${b64(blob('ssh-ed25519'))}`);
    expect(entry!.hostPatterns).toEqual([]);
    expect(entry!.hashed!.salt.equals(salt)).toBe(true);
    expect(entry!.hashed!.hash.equals(createHmac('sha1', salt).update('web1').digest())).toBe(true);
  });
});

describe('entriesFor: which lines name a host', () => {
  const key = b64(blob('ssh-ed25519'));
  const lines = (...hosts: string[]) => parseKnownHosts(hosts.map((h) => `${h} ssh-ed25519 ${key}`).join('\n'));
  const names = (hosts: string[], host: string, port = 22) =>
    entriesFor(lines(...hosts), host, port).map((e) => e.line);

  it('matches plain names case-insensitively, and the port form exactly', () => {
    expect(names(['WEB1.Example'], 'web1.example')).toEqual([1]);
    expect(names(['web1'], 'web1', 2222)).toEqual([]);
    expect(names(['[web1]:2222'], 'web1', 2222)).toEqual([1]);
    expect(names(['[web1]:2222'], 'web1')).toEqual([]);
  });
  it('expands * and ? only, case-insensitively, over the whole name', () => {
    expect(names(['*.example'], 'web1.EXAMPLE')).toEqual([1]);
    expect(names(['*.example'], 'web1.example.org')).toEqual([]);
    expect(names(['*.example'], 'x.web1example')).toEqual([]);
    expect(names(['web?.example'], 'web1.example')).toEqual([1]);
    expect(names(['web?.example'], 'web12.example')).toEqual([]);
    expect(names(['web?.example'], 'web1xexample')).toEqual([]);
    expect(names(['w+b?'], 'wwb1')).toEqual([]);
    expect(names(['w+b?'], 'w+b1')).toEqual([1]);
  });
  it('lets a negated pattern exclude a name another pattern of the line matches', () => {
    expect(names(['*.example,!db.example'], 'db.example')).toEqual([]);
    expect(names(['*.example,!db.example'], 'web.example')).toEqual([1]);
    expect(names(['!db.example'], 'web.example')).toEqual([]);
    expect(names(['!db.example'], 'db.example')).toEqual([]);
    // Only a leading "!" negates: "xweb1" is a plain pattern that does not name web1.
    expect(names(['web1,xweb1'], 'web1')).toEqual([1]);
  });
  it('matches a hashed line by HMAC of the name OpenSSH would record', () => {
    expect(names([hashedName('[web1]:2222')], 'web1', 2222)).toEqual([1]);
    expect(names([hashedName('web1')], 'web1', 2222)).toEqual([]);
    expect(names([hashedName('web1')], 'web2')).toEqual([]);
  });
});

describe('judging a presented key', () => {
  const ed = blob('ssh-ed25519');
  const ed2 = blob('ssh-ed25519');
  const rsa = blob('ssh-rsa');
  const ecdsa = blob('ecdsa-sha2-nistp256');

  it('says revoked first, even when a live line has the same key', () => {
    const entries = parseKnownHosts(`web1 ssh-ed25519 ${b64(ed)}\n@revoked web1 ssh-ed25519 ${b64(ed)}`);
    expect(judgeHostKey(entries, 'web1', 22, ed)).toEqual({ kind: 'revoked', line: 2 });
  });
  it('matches a live line, ignoring revoked lines of other keys', () => {
    const entries = parseKnownHosts(`@revoked web1 ssh-ed25519 ${b64(ed2)}\nweb1 ssh-ed25519 ${b64(ed)}`);
    expect(judgeHostKey(entries, 'web1', 22, ed)).toEqual({ kind: 'match' });
  });
  it('reports a changed key of the same type with that line', () => {
    const entries = parseKnownHosts(`web1 ssh-rsa ${b64(rsa)}\nweb1 ssh-ed25519 ${b64(ed2)}`);
    expect(judgeHostKey(entries, 'web1', 22, ed)).toEqual({ kind: 'changed', expectedTypes: ['ssh-ed25519'], line: 2 });
  });
  it('reports a new key type of a known host as changed, listing each known type once', () => {
    const entries = parseKnownHosts(
      `web1 ssh-rsa ${b64(rsa)}\nweb1 ssh-rsa ${b64(blob('ssh-rsa'))}\nweb1 ecdsa-sha2-nistp256 ${b64(ecdsa)}`,
    );
    expect(judgeHostKey(entries, 'web1', 22, ed)).toEqual({
      kind: 'changed',
      expectedTypes: ['ssh-rsa', 'ecdsa-sha2-nistp256'],
      line: 1,
    });
  });
  it('calls a host known only by revoked lines unknown for another key', () => {
    const entries = parseKnownHosts(`@revoked web1 ssh-ed25519 ${b64(ed2)}`);
    expect(judgeAmong(entriesFor(entries, 'web1', 22), ed)).toEqual({ kind: 'unknown' });
    expect(judgeHostKey([], 'web1', 22, ed)).toEqual({ kind: 'unknown' });
  });
});

describe('recordFirstSeenKey', () => {
  it('appends the first key in OpenSSH form to a 0600 file in a new directory, then matches it', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    const key = blob('ssh-ed25519');
    expect(await recordFirstSeenKey(file, 'web1', 2222, key)).toEqual({ kind: 'unknown' });
    expect(readFileSync(file, 'utf8')).toBe(`[web1]:2222 ssh-ed25519 ${b64(key)}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await recordFirstSeenKey(file, 'web1', 2222, key)).toEqual({ kind: 'match' });
    expect(await recordFirstSeenKey(file, 'web1', 2222, blob('ssh-ed25519'))).toMatchObject({
      kind: 'changed',
      line: 1,
    });
    expect(await readKnownHosts(file)).toHaveLength(1);
  });
  it('reads a missing file as empty and refuses a path that is a directory', async () => {
    expect(await readKnownHosts(join(dir, 'absent'))).toEqual([]);
    expect(await readKnownHostsText(join(dir, 'absent'))).toBe('');
    await expect(readKnownHosts(dir)).rejects.toThrow(/EISDIR/);
  });
});
