/**
 * sshd instances on consecutive loopback addresses that share one port, so a config can name
 * them as a range (`127.0.77.1-127.0.77.4`) or a CIDR block, as an operator would a subnet.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startFleet, startSshd, type SshdFleet, type SshdInstance } from './sshd.js';

/** `count` sshd on `prefix.first` … on one free port; known_hosts lists them all. */
export async function startRangeFleet(prefix: string, first: number, count: number): Promise<SshdFleet> {
  const base = await startFleet(0);
  const port = await freePort(`${prefix}.${first}`);
  const hosts: SshdInstance[] = [];
  try {
    for (let i = 0; i < count; i++) {
      hosts.push(
        await startSshd({
          address: `${prefix}.${first + i}`,
          port,
          dir: base.dir,
          authorizedKeysPath: join(base.dir, 'authorized_keys'),
        }),
      );
    }
  } catch (error) {
    await Promise.all(hosts.map((h) => h.stop()));
    await base.stop();
    throw error;
  }
  writeFileSync(base.knownHostsPath, hosts.map((h) => h.knownHostsLine).join('\n') + '\n', { mode: 0o600 });
  return {
    ...base,
    hosts,
    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
      await base.stop();
    },
  };
}
