/**
 * Host key verification for a round: the known_hosts file is read once, each presented key
 * is judged, and under the explicit `accept-new` policy a first-seen key is recorded (a changed
 * key is refused under every policy: it may be an attack).
 */
import type { HostKeyPolicy } from '../config/types.js';
import { StageError } from '../collect/stage-error.js';
import {
  appendKnownHost, entriesFor, fingerprint, judgeHostKey, keyTypeOf, knownHostsName,
  readKnownHosts, type KnownHostEntry,
} from './known-hosts.js';

export class HostKeyStore {
  private appendQueue: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, private entries: KnownHostEntry[]) {}

  /** Loads the known_hosts file at `path` (a missing file is empty). */
  static async load(path: string): Promise<HostKeyStore> {
    return new HostKeyStore(path, await readKnownHosts(path));
  }

  /** Key types recorded for the host, in file order: offered first so the server picks a known one. */
  knownKeyTypes(host: string, port: number): string[] {
    return [...new Set(entriesFor(this.entries, host, port).filter((e) => !e.revoked).map((e) => e.keyType))];
  }

  /**
   * Checks a presented key. Returns normally when it may be trusted; throws a `hostkey`
   * StageError naming the host and the fingerprint otherwise.
   */
  async verify(host: string, port: number, key: Buffer, policy: HostKeyPolicy): Promise<void> {
    const verdict = judgeHostKey(this.entries, host, port, key);
    const name = knownHostsName(host, port);
    const print = `${keyTypeOf(key)} ${fingerprint(key)}`;
    switch (verdict.kind) {
      case 'match':
        return;
      case 'revoked':
        throw new StageError('hostkey', `host key of ${name} is marked @revoked in ${this.path}:${verdict.line} (${print})`);
      case 'changed':
        throw new StageError('hostkey',
          `HOST KEY CHANGED for ${name}: it presented ${print}, ${this.path}:${verdict.line} records a different ${verdict.expectedTypes.join('/')} key — possible man-in-the-middle attack; refused`,
          `if the host was really reinstalled, remove the old line with: ssh-keygen -R '${name}' -f ${this.path}`);
      case 'unknown':
        if (policy === 'accept-new') {
          await this.record(host, port, key);
          return;
        }
        throw new StageError('hostkey', `unknown host key for ${name}: ${print} is not in ${this.path}`,
          `verify the fingerprint, then add it (ssh-keyscan -p ${port} ${host} >> ${this.path}) or set host-key="accept-new" on this client`);
    }
  }

  private async record(host: string, port: number, key: Buffer): Promise<void> {
    // Appends are serialised so concurrent first connections never interleave lines.
    const write = this.appendQueue.then(() => appendKnownHost(this.path, host, port, key));
    this.appendQueue = write.catch(() => undefined);
    await write;
    this.entries.push({ hostPatterns: [knownHostsName(host, port)], keyType: keyTypeOf(key), key, revoked: false, line: 0 });
  }
}
