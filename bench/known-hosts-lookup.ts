/**
 * Host key lookups against a large hashed known_hosts file (`ssh-keygen -H` style, every name
 * `|1|salt|hmac`): the CPU a round spends finding each host's entries, all of it on the event
 * loop. Builds a file of `--entries` hashed lines (the first `--hosts` name the hosts looked up),
 * then runs `--rounds` rounds the way collectRound and openSession do: load the file once, and
 * per host ask for its known key types (before connecting) and verify the key it presents.
 *
 *   npx tsx bench/known-hosts-lookup.ts --hosts 1000 --entries 1000 --rounds 3
 *
 * Prints one JSON object: per round, the load time, the lookup CPU of all hosts, and the slowest
 * single host (the longest the event loop was blocked by one lookup). No network is used.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HostKeyStore } from '../src/ssh/host-key-policy.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    entries: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const hosts = Number(values.hosts);
const entries = Math.max(Number(values.entries), hosts);
const rounds = Number(values.rounds);

/** An ed25519-shaped public key blob (type string + 32 bytes). */
function keyBlob(): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(type.length);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(32);
  return Buffer.concat([head, type, len, randomBytes(32)]);
}

/** The name looked up for host i: a loopback address on port 22 (no network is used). */
const hostName = (i: number) => `127.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function hashedLine(name: string, key: Buffer): string {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')} ssh-ed25519 ${key.toString('base64')}`;
}

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-kh-bench-'));
try {
  const keys = Array.from({ length: hosts }, keyBlob);
  const lines = [
    ...keys.map((key, i) => hashedLine(hostName(i), key)),
    ...Array.from({ length: entries - hosts }, (_, i) => hashedLine(`other-${i}.example`, keyBlob())),
  ];
  const path = join(dir, 'known_hosts');
  writeFileSync(path, `${lines.join('\n')}\n`);

  const results = [];
  for (let round = 0; round < rounds; round++) {
    const loadStart = process.hrtime.bigint();
    const store = await HostKeyStore.load(path);
    const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    let slowestMs = 0;
    for (let i = 0; i < hosts; i++) {
      const one = process.hrtime.bigint();
      store.knownKeyTypes(hostName(i), 22);
      await store.verify(hostName(i), 22, keys[i]!, 'strict');
      slowestMs = Math.max(slowestMs, Number(process.hrtime.bigint() - one) / 1e6);
    }
    const cpu = process.cpuUsage(cpuStart);
    results.push({
      round: round + 1,
      loadMs: Math.round(loadMs * 10) / 10,
      lookupWallMs: Math.round(Number(process.hrtime.bigint() - wallStart) / 1e5) / 10,
      lookupCpuMs: Math.round((cpu.user + cpu.system) / 100) / 10,
      slowestHostMs: Math.round(slowestMs * 100) / 100,
    });
  }
  process.stdout.write(`${JSON.stringify({ hosts, entries, node: process.version, results }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
