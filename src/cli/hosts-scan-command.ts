/**
 * `fleetstat hosts scan [HOST…]`: shows each client's host key fingerprint (SHA256, as
 * ssh-keygen prints it) next to what known_hosts says, and records new keys only after
 * confirmation (or --yes). A key that differs from a recorded one is never replaced.
 */
import { createInterface } from 'node:readline';
import { forEachConcurrently } from '../collect/pool.js';
import type { ClientConfig } from '../config/types.js';
import { fetchHostKey } from '../ssh/fetch-host-key.js';
import {
  entriesFor,
  fingerprint,
  judgeHostKey,
  keyTypeOf,
  knownHostsName,
  readKnownHosts,
  recordFirstSeenKey,
  type KnownHostEntry,
} from '../ssh/known-hosts.js';
import { EXIT } from './exit-codes.js';
import { loadConfigOrFail, runCommand, chooseClients } from './command-context.js';

export interface HostsScanOptions {
  config: string;
  hosts: string[];
  /** Record new keys without asking. */
  yes?: boolean;
}

/** What one host showed, judged against known_hosts. */
export type ScanResult =
  | { status: 'known'; client: ClientConfig; print: string }
  | { status: 'new'; client: ClientConfig; print: string; key: Buffer }
  | { status: 'changed'; client: ClientConfig; print: string; recorded: string }
  | { status: 'revoked'; client: ClientConfig; print: string; recorded: string }
  | { status: 'failed'; client: ClientConfig; message: string };

/** Scans, prints, asks, records; resolves with ok, hostsFailed (changed/failed keys) or allHostsFailed. */
export function hostsScanCommand(options: HostsScanOptions): Promise<number> {
  return runCommand(async () => {
    const config = await loadConfigOrFail(options.config);
    const clients = chooseClients(config, options.hosts, options.config);
    const path = config.settings.knownHostsPath;
    const entries = await readKnownHosts(path);
    const results = await scanClients(
      clients,
      entries,
      config.settings.connectTimeoutSeconds * 1000,
      config.settings.concurrency,
    );
    for (const result of results) process.stdout.write(`${describeResult(result, path)}\n`);

    const fresh = results.filter((r): r is Extract<ScanResult, { status: 'new' }> => r.status === 'new');
    if (fresh.length > 0) {
      const confirmed =
        options.yes ||
        (await ask(
          `Record ${fresh.length} new host key${fresh.length === 1 ? '' : 's'} in ${path}? Compare the fingerprints above with the hosts' own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) first. [y/N] `,
        ));
      if (confirmed) {
        // Under the known_hosts lock, re-judged: another process may have recorded a key meanwhile.
        let recorded = 0;
        for (const r of fresh) {
          const verdict = await recordFirstSeenKey(path, r.client.ip, r.client.port, r.key);
          if (verdict.kind === 'unknown') recorded += 1;
          else if (verdict.kind !== 'match')
            process.stdout.write(`${r.client.name}: not recorded: ${path} meanwhile holds another key for it\n`);
        }
        process.stdout.write(`recorded ${recorded} host key${recorded === 1 ? '' : 's'} in ${path}\n`);
      } else process.stdout.write(`nothing recorded (answer y, or pass --yes)\n`);
    }
    const bad = results.filter((r) => r.status === 'changed' || r.status === 'revoked' || r.status === 'failed').length;
    if (bad === 0) return EXIT.ok;
    return bad === results.length ? EXIT.allHostsFailed : EXIT.hostsFailed;
  });
}

/** Fetches and judges every client's key, in config order. */
export async function scanClients(
  clients: ClientConfig[],
  entries: KnownHostEntry[],
  timeoutMs: number,
  concurrency: number,
): Promise<ScanResult[]> {
  const results = new Map<ClientConfig, ScanResult>();
  await forEachConcurrently(clients, concurrency, async (client) => {
    const types = [
      ...new Set(
        entriesFor(entries, client.ip, client.port)
          .filter((e) => !e.revoked)
          .map((e) => e.keyType),
      ),
    ];
    const fetched = await fetchHostKey(client.ip, client.port, timeoutMs, types);
    if (!fetched.ok) {
      results.set(client, { status: 'failed', client, message: fetched.message });
      return;
    }
    const print = `${keyTypeOf(fetched.key)} ${fingerprint(fetched.key)}`;
    const verdict = judgeHostKey(entries, client.ip, client.port, fetched.key);
    const recordedAt = (line: number): string => {
      const entry = entries.find((e) => e.line === line);
      return `line ${line}${entry ? ` (${entry.keyType} ${fingerprint(entry.key)})` : ''}`;
    };
    switch (verdict.kind) {
      case 'match':
        results.set(client, { status: 'known', client, print });
        break;
      case 'unknown':
        results.set(client, { status: 'new', client, print, key: fetched.key });
        break;
      case 'changed':
        results.set(client, { status: 'changed', client, print, recorded: recordedAt(verdict.line) });
        break;
      case 'revoked':
        results.set(client, { status: 'revoked', client, print, recorded: recordedAt(verdict.line) });
        break;
    }
  });
  return clients.map((client) => results.get(client)!);
}

function describeResult(result: ScanResult, path: string): string {
  const who = `${result.client.name} (${knownHostsName(result.client.ip, result.client.port)})`;
  switch (result.status) {
    case 'known':
      return `known    ${who} ${result.print}`;
    case 'new':
      return `NEW      ${who} ${result.print}`;
    case 'changed':
      return `CHANGED  ${who} presents ${result.print}, but ${path} ${result.recorded} records another key — possible man-in-the-middle; not replaced (if the host was reinstalled: ssh-keygen -R '${knownHostsName(result.client.ip, result.client.port)}' -f ${path}, then scan again)`;
    case 'revoked':
      return `REVOKED  ${who} presents ${result.print}, marked @revoked in ${path} ${result.recorded}; not recorded`;
    case 'failed':
      return `FAILED   ${who} ${result.message}`;
  }
}

/** Asks on stderr and reads one line from stdin; no answer (end of input) is no. */
async function ask(question: string): Promise<boolean> {
  process.stderr.write(question);
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return /^\s*y(es)?\s*$/i.test(line);
    return false;
  } finally {
    lines.close();
  }
}
