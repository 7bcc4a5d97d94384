/**
 * Host key verification for a round: the known_hosts file is read once, each host's entries are
 * looked up once (hashed names cost an HMAC per entry), and each presented key is judged. Under
 * the explicit `accept-new` policy a first-seen key is only *allowed* by `verify`: the session
 * records it with `recordFirstSeen` once the server has proved it holds the key (the key
 * exchange signature verified), under a lock that re-reads the file (a changed key is refused
 * under every policy: it may be an attack).
 */
import { createHash } from 'node:crypto';
import type { HostKeyPolicy } from '../config/types.js';
import { StageError } from '../errors/stage-error.js';
import {
  entriesFor,
  fingerprint,
  judgeAmong,
  keyTypeOf,
  knownHostsLookup,
  knownHostsName,
  parseKnownHosts,
  readKnownHostsText,
  recordFirstSeenKey,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts.js';

/** What `verify` allows: a recorded key, or (accept-new) a first-seen one still to be recorded. */
export type HostKeyDecision = { kind: 'trusted' } | { kind: 'first-seen' };

/**
 * One known_hosts file's content, parsed, with each host's entries found at most once. Shared by
 * every round that loads the same content, so a serve process hashes each host once per change
 * of the file, not once per round.
 */
class KnownHostsIndex {
  private readonly byName = new Map<string, KnownHostEntry[]>();
  private readonly find: (host: string, port: number) => KnownHostEntry[];

  constructor(
    readonly digest: string,
    entries: readonly KnownHostEntry[],
  ) {
    this.find = knownHostsLookup(entries);
  }

  lookup(host: string, port: number): KnownHostEntry[] {
    const name = knownHostsName(host, port);
    let found = this.byName.get(name);
    if (!found) {
      found = this.find(host, port);
      this.byName.set(name, found);
    }
    return found;
  }
}

// The last index built per path: a file that did not change is not parsed or hashed again.
const indexes = new Map<string, KnownHostsIndex>();

export class HostKeyStore {
  private recordQueue: Promise<unknown> = Promise.resolve();
  /** Keys this store recorded (accept-new): the shared index holds the file as it was read. */
  private readonly recorded: KnownHostEntry[] = [];

  private constructor(
    readonly path: string,
    private readonly index: KnownHostsIndex,
  ) {}

  /** Loads the known_hosts file at `path` (a missing file is empty). */
  static async load(path: string): Promise<HostKeyStore> {
    const text = await readKnownHostsText(path);
    const digest = createHash('sha256').update(text).digest('hex');
    let index = indexes.get(path);
    if (index?.digest !== digest) {
      index = new KnownHostsIndex(digest, parseKnownHosts(text));
      indexes.set(path, index);
    }
    return new HostKeyStore(path, index);
  }

  private entriesOf(host: string, port: number): KnownHostEntry[] {
    const mine = this.index.lookup(host, port);
    if (this.recorded.length === 0) return mine;
    return [...mine, ...entriesFor(this.recorded, host, port)];
  }

  /** Key types recorded for the host, in file order: offered first so the server picks a known one. */
  knownKeyTypes(host: string, port: number): string[] {
    return [
      ...new Set(
        this.entriesOf(host, port)
          .filter((e) => !e.revoked)
          .map((e) => e.keyType),
      ),
    ];
  }

  /**
   * Checks a presented key. Resolves 'trusted' when it is recorded, 'first-seen' when the host
   * is unknown and the policy is accept-new (the caller records it after the server's proof,
   * with recordFirstSeen); throws a `hostkey` StageError naming the host and the fingerprint
   * otherwise.
   */
  async verify(host: string, port: number, key: Buffer, policy: HostKeyPolicy): Promise<HostKeyDecision> {
    const verdict = judgeAmong(this.entriesOf(host, port), key);
    if (verdict.kind === 'match') return { kind: 'trusted' };
    if (verdict.kind === 'unknown' && policy === 'accept-new') return { kind: 'first-seen' };
    throw this.refusal(verdict, host, port, key);
  }

  /**
   * Records a first-seen key (accept-new), to be called only after the server proved it holds
   * the key. The file is re-read under a lock: if another process recorded a different key for
   * the host meanwhile, this one is refused as a changed key.
   */
  async recordFirstSeen(host: string, port: number, key: Buffer): Promise<void> {
    // Serialised within the process too, so one store's records never interleave.
    const write = this.recordQueue.then(() => recordFirstSeenKey(this.path, host, port, key));
    // The queue only orders the writes: this write's failure is thrown to its caller below.
    this.recordQueue = write.catch(() => undefined);
    let verdict: HostKeyVerdict;
    try {
      verdict = await write;
    } catch (error) {
      throw new StageError(
        'hostkey',
        `cannot record the host key of ${knownHostsName(host, port)} in ${this.path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (verdict.kind !== 'unknown' && verdict.kind !== 'match') throw this.refusal(verdict, host, port, key);
    this.recorded.push({
      hostPatterns: [knownHostsName(host, port)],
      keyType: keyTypeOf(key),
      key,
      revoked: false,
      line: 0,
    });
  }

  private refusal(verdict: HostKeyVerdict, host: string, port: number, key: Buffer): StageError {
    const name = knownHostsName(host, port);
    const print = `${keyTypeOf(key)} ${fingerprint(key)}`;
    switch (verdict.kind) {
      case 'revoked':
        return new StageError(
          'hostkey',
          `host key of ${name} is marked @revoked in ${this.path}:${verdict.line} (${print})`,
        );
      case 'changed':
        return new StageError(
          'hostkey',
          `HOST KEY CHANGED for ${name}: it presented ${print}, ${this.path}:${verdict.line} records a different ${verdict.expectedTypes.join('/')} key — possible man-in-the-middle attack; refused`,
          `if the host was really reinstalled, remove the old line with: ssh-keygen -R '${name}' -f ${this.path}`,
        );
      default:
        return new StageError(
          'hostkey',
          `unknown host key for ${name}: ${print} is not in ${this.path}`,
          `verify the fingerprint, then add it (ssh-keyscan -p ${port} ${host} >> ${this.path}) or set host-key="accept-new" on this client`,
        );
    }
  }
}
