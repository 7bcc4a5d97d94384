/**
 * The files that describe a running loopback fleet, so that `scripts/fleet.ts stop`, the
 * benchmark and the three tools it compares all see the same hosts:
 *
 *   fleet.json     manifest: user, key, known_hosts, every host with its address, port and PID
 *   pids           one sshd PID per line (for `kill` by hand)
 *   config.xml     fleetstat config, key auth (config-password.xml: password auth)
 *   inventory.ini  Ansible inventory with the same hosts, key and known_hosts
 *   ssh_config     OpenSSH client config for the plain-ssh floor (`ssh -F ssh_config ADDRESS`)
 *   hosts.txt      one address per line (xargs input for the floor)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet } from '../test/support/sshd.js';
import { writeFleetConfig } from '../test/support/fleet-config.js';

export interface FleetHost {
  address: string;
  port: number;
  pid: number;
}

export interface FleetManifest {
  dir: string;
  user: string;
  passwordFile: string;
  clientKeyPath: string;
  knownHostsPath: string;
  hosts: FleetHost[];
}

export const MANIFEST_FILE = 'fleet.json';

/** The manifest of a fleet started by startFleet. */
export function manifestOf(fleet: SshdFleet): FleetManifest {
  return {
    dir: fleet.dir,
    user: fleet.user,
    passwordFile: fleet.passwordFile,
    clientKeyPath: fleet.clientKeyPath,
    knownHostsPath: fleet.knownHostsPath,
    hosts: fleet.hosts.map((h) => ({ address: h.address, port: h.port, pid: h.pid })),
  };
}

/** Reads `dir/fleet.json`; throws a message that says how to make one. */
export function readManifest(dir: string): FleetManifest {
  try {
    return JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as FleetManifest;
  } catch (error) {
    throw new Error(
      `no fleet in ${dir} (${(error as Error).message}); start one with: npx tsx scripts/fleet.ts start N --dir ${dir}`,
      { cause: error },
    );
  }
}

/** Options of the fleetstat config written for a fleet. */
export interface FleetstatConfigOptions {
  auth: 'key' | 'password';
  cpuSampleMs: number;
  concurrency: number;
  /** File name inside `dir`. */
  fileName: string;
  /** Where the config goes (default: the fleet dir). */
  dir?: string;
  databaseUrl?: string;
}

/** Writes a fleetstat config listing every host of the fleet; returns its path. */
export function writeFleetstatConfig(fleet: FleetManifest, options: FleetstatConfigOptions): string {
  const dir = options.dir ?? fleet.dir;
  const written = writeFleetConfig(fleet, {
    dir,
    databaseUrl: options.databaseUrl ?? `sqlite:${join(dir, 'fleetstat.sqlite')}`,
    settings: { 'cpu-sample': String(options.cpuSampleMs), concurrency: String(options.concurrency) },
    clients: fleet.hosts.map((host, i) => ({ host, auth: options.auth, name: `host-${i + 1}` })),
  });
  // writeFleetConfig always writes config.xml; keep each variant under its own name.
  const path = join(dir, options.fileName);
  if (path !== written) writeFileSync(path, readFileSync(written), { mode: 0o600 });
  return path;
}

/** Ansible inventory: one line per host, key auth, host keys checked against known_hosts. */
export function writeAnsibleInventory(fleet: FleetManifest, dir = fleet.dir): string {
  const lines = ['[fleet]'];
  fleet.hosts.forEach((h, i) => lines.push(`host-${i + 1} ansible_host=${h.address} ansible_port=${h.port}`));
  lines.push(
    '',
    '[fleet:vars]',
    `ansible_user=${fleet.user}`,
    `ansible_ssh_private_key_file=${fleet.clientKeyPath}`,
    `ansible_ssh_common_args='-o UserKnownHostsFile=${fleet.knownHostsPath} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'`,
    // Named, so interpreter discovery (one more ssh command per host) is not counted against Ansible.
    'ansible_python_interpreter=/usr/bin/python3',
    '',
  );
  const path = join(dir, 'inventory.ini');
  writeFileSync(path, lines.join('\n'));
  return path;
}

/** OpenSSH client config for the floor: `ssh -F ssh_config 127.0.1.7 CMD` reaches that host. */
export function writeSshClientConfig(fleet: FleetManifest, dir = fleet.dir): { configPath: string; hostsPath: string } {
  const lines: string[] = [];
  for (const h of fleet.hosts) lines.push(`Host ${h.address}`, `  Port ${h.port}`);
  lines.push(
    'Host *',
    `  User ${fleet.user}`,
    `  IdentityFile ${fleet.clientKeyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${fleet.knownHostsPath}`,
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  LogLevel ERROR',
    '',
  );
  const configPath = join(dir, 'ssh_config');
  writeFileSync(configPath, lines.join('\n'));
  const hostsPath = join(dir, 'hosts.txt');
  writeFileSync(hostsPath, fleet.hosts.map((h) => h.address).join('\n') + '\n');
  return { configPath, hostsPath };
}

/** Writes the manifest, the PID list and every client file; returns the manifest path. */
export function writeFleetFiles(fleet: FleetManifest): string {
  const path = join(fleet.dir, MANIFEST_FILE);
  writeFileSync(path, JSON.stringify(fleet, null, 2) + '\n');
  writeFileSync(join(fleet.dir, 'pids'), fleet.hosts.map((h) => h.pid).join('\n') + '\n');
  writeFleetstatConfig(fleet, { auth: 'key', cpuSampleMs: 1000, concurrency: 50, fileName: 'config.xml' });
  writeFleetstatConfig(fleet, {
    auth: 'password',
    cpuSampleMs: 1000,
    concurrency: 50,
    fileName: 'config-password.xml',
  });
  writeAnsibleInventory(fleet);
  writeSshClientConfig(fleet);
  return path;
}
