/** Writes fleetstat XML configs for a loopback sshd fleet (tests, demo, benchmarks). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdFleet, SshdInstance } from './sshd.js';

export interface FleetClient {
  host: Pick<SshdInstance, 'address' | 'port'>;
  /** How the client logs in; 'none' leaves it to `attributes` (e.g. password-env). */
  auth?: 'password' | 'key' | 'none';
  name?: string;
  mail?: string;
  alerts?: string[];
  /** Extra attributes, written verbatim (values are XML-escaped). */
  attributes?: Record<string, string>;
}

export interface FleetConfigOptions {
  dir: string;
  databaseUrl: string;
  clients: FleetClient[];
  smtp?: { host: string; port: number; from?: string };
  settings?: Record<string, string>;
  knownHostsPath?: string;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function attrs(values: Record<string, string | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${escapeXml(v!)}"`)
    .join(' ');
}

/** Writes `config.xml` into `dir` and returns its path. */
export function writeFleetConfig(
  fleet: Pick<SshdFleet, 'user' | 'passwordFile' | 'clientKeyPath' | 'knownHostsPath'>,
  options: FleetConfigOptions,
): string {
  const settings = attrs({
    database: options.databaseUrl,
    'known-hosts': options.knownHostsPath ?? fleet.knownHostsPath,
    'cpu-sample': '200',
    ...options.settings,
  });
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<clients>', `  <settings ${settings}/>`];
  if (options.smtp)
    lines.push(
      `  <smtp ${attrs({ host: options.smtp.host, port: String(options.smtp.port), from: options.smtp.from ?? 'fleetstat@localhost' })}/>`,
    );
  for (const client of options.clients) {
    const auth =
      client.auth === 'key'
        ? { key: fleet.clientKeyPath }
        : client.auth === 'none'
          ? {}
          : { 'password-file': fleet.passwordFile };
    const head = attrs({
      ip: client.host.address,
      port: String(client.host.port),
      username: fleet.user,
      name: client.name,
      mail: client.mail,
      ...auth,
      ...client.attributes,
    });
    lines.push(`  <client ${head}>`);
    for (const alert of client.alerts ?? []) lines.push(`    ${alert}`);
    lines.push('  </client>');
  }
  lines.push('</clients>', '');
  const path = join(options.dir, 'config.xml');
  writeFileSync(path, lines.join('\n'), { mode: 0o600 });
  return path;
}
