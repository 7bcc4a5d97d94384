/**
 * OpenSSH known_hosts handling: parse entries (plain, wildcard-free patterns, [host]:port,
 * hashed |1|salt|hash names, @revoked markers), look a host up, and append a first-seen key
 * for the explicit accept-new policy under a lock. We never accept an unknown key silently.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { withFileLock } from './file-lock.js';

/**
 * Host key types ssh2 can verify. A line with any other type (a FIDO key such as
 * sk-ssh-ed25519@openssh.com, a certificate) is skipped, as OpenSSH skips lines it cannot use:
 * it must not make a host that also has a usable key uncollectable.
 */
export const USABLE_KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'ssh-dss',
]);

export interface KnownHostEntry {
  hostPatterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
  revoked: boolean;
  line: number;
}

export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'unknown' }
  | { kind: 'changed'; expectedTypes: string[]; line: number }
  | { kind: 'revoked'; line: number };

/** The name under which OpenSSH records a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH-style fingerprint of a public key blob: "SHA256:base64-without-padding". */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + Math.min(length, 64)).toString('latin1');
}

/** Parses known_hosts text; malformed lines and key types ssh2 cannot use are skipped like OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      const marker = fields.shift();
      if (marker === '@revoked') revoked = true;
      else return; // @cert-authority: certificates are not supported; ignore such lines
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) return;
    if (!USABLE_KEY_TYPES.has(keyType)) return;
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0) return;
    const entry: KnownHostEntry = { hostPatterns: [], keyType, key, revoked, line: index + 1 };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.hostPatterns = hosts.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('!')) return false;
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name.toLowerCase();
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

function entryNames(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.equals(entry.hashed.hash);
  }
  const negated = entry.hostPatterns.some((p) => p.startsWith('!') && patternMatches(p.slice(1), name));
  return !negated && entry.hostPatterns.some((p) => patternMatches(p, name));
}

/**
 * Entries that name this host and port. Each hashed entry costs an HMAC with its own salt, so
 * callers looking up many hosts keep the result (HostKeyStore does, once per host per file).
 */
export function entriesFor(entries: readonly KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter((e) => entryNames(e, name));
}

/**
 * A lookup giving the same answer as entriesFor, in file order, without trying every entry:
 * plain names go in a map and only hashed, wildcard and negated entries are tried one by one.
 * Scanning the whole file per host made a round over N hosts cost O(N²) (10,000 hosts, ~1 ms each).
 */
export function knownHostsLookup(entries: readonly KnownHostEntry[]): (host: string, port: number) => KnownHostEntry[] {
  const byName = new Map<string, KnownHostEntry[]>();
  const others: KnownHostEntry[] = [];
  for (const entry of entries) {
    const plain = !entry.hashed && entry.hostPatterns.every((p) => !p.startsWith('!') && !/[*?]/.test(p));
    if (!plain) {
      others.push(entry);
      continue;
    }
    for (const name of new Set(entry.hostPatterns.map((p) => p.toLowerCase()))) {
      const list = byName.get(name);
      if (list) list.push(entry);
      else byName.set(name, [entry]);
    }
  }
  return (host, port) => {
    const named = byName.get(knownHostsName(host, port).toLowerCase()) ?? [];
    const matched = others.length === 0 ? [] : entriesFor(others, host, port);
    return matched.length === 0 ? [...named] : [...named, ...matched].sort((a, b) => a.line - b.line);
  };
}

/** Decides whether the key a server presented is the one recorded for it. */
export function judgeHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  return judgeAmong(entriesFor(entries, host, port), key);
}

/** The same judgement over entries already known to name the host (see entriesFor). */
export function judgeAmong(mine: readonly KnownHostEntry[], key: Buffer): HostKeyVerdict {
  const revoked = mine.find((e) => e.revoked && e.key.equals(key));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const live = mine.filter((e) => !e.revoked);
  if (live.some((e) => e.key.equals(key))) return { kind: 'match' };
  const type = keyTypeOf(key);
  const sameType = live.find((e) => e.keyType === type);
  if (sameType) return { kind: 'changed', expectedTypes: [type], line: sameType.line };
  // A host known under other key types presenting a new type is still a changed identity.
  if (live.length > 0)
    return { kind: 'changed', expectedTypes: [...new Set(live.map((e) => e.keyType))], line: live[0]!.line };
  return { kind: 'unknown' };
}

/** Reads a known_hosts file's text; a missing file is empty. */
export async function readKnownHostsText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** Reads a known_hosts file; a missing file is an empty list. */
export async function readKnownHosts(path: string): Promise<KnownHostEntry[]> {
  return parseKnownHosts(await readKnownHostsText(path));
}

/**
 * Records a host's first-seen key (accept-new policy) unless the file already names the host:
 * under an exclusive lock the file is read again and judged, so two processes (`hosts test`
 * while `serve` runs) can never record two different first keys for one host. Resolves with
 * the verdict found under the lock: 'unknown' means the key was appended now (the file is
 * created with mode 0600), 'match' that someone recorded this very key meanwhile, 'changed' or
 * 'revoked' that the file now says otherwise.
 */
export async function recordFirstSeenKey(
  path: string,
  host: string,
  port: number,
  key: Buffer,
): Promise<HostKeyVerdict> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return withFileLock(`${path}.lock`, async () => {
    const verdict = judgeHostKey(await readKnownHosts(path), host, port, key);
    if (verdict.kind === 'unknown') {
      await appendFile(path, `${knownHostsName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`, {
        mode: 0o600,
      });
    }
    return verdict;
  });
}
