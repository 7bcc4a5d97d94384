/**
 * docs/examples/300-hosts is a working configuration: it loads to 300 clients, means exactly
 * what the same fleet written one block per host means, and its README states the real sizes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig, type ClientConfig, type Config } from '../src/config/index.js';
import { flatClientLines } from './support/flat-config.js';

const example = new URL('../docs/examples/300-hosts/', import.meta.url).pathname;
const env = {
  FLEETSTAT_DB_URL: 'postgres://fleetstat@db.corp.example/fleetstat',
  FLEETSTAT_SMTP_PASSWORD: 's',
  FLEETSTAT_WEB_PASSWORD: 'w',
  FLEETSTAT_WINDOWS_PASSWORD: 'p',
};
const dir = mkdtempSync(join(tmpdir(), 'fleetstat-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lineCount(file: string): number {
  return readFileSync(file, 'utf8').replace(/\n$/, '').split('\n').length;
}

function exampleLines(): number {
  const files = [
    join(example, 'config.xml'),
    ...readdirSync(join(example, 'conf.d')).map((f) => join(example, 'conf.d', f)),
    ...readdirSync(join(example, 'hosts')).map((f) => join(example, 'hosts', f)),
  ];
  return files.reduce((sum, file) => sum + lineCount(file), 0);
}

/** What a client means, without where it was written. */
function meaning(client: ClientConfig): object {
  return { ...client, line: 0, password: client.password, alerts: client.alerts.map((a) => ({ ...a, line: 0 })) };
}

async function load(path: string): Promise<Config> {
  const result = await checkConfig(path, { env });
  const errors = result.issues.filter((i) => i.severity === 'error');
  expect(errors).toEqual([]);
  return result.config!;
}

describe('docs/examples/300-hosts', () => {
  it('loads 300 clients with unique names', async () => {
    const config = await load(join(example, 'config.xml'));
    expect(config.clients).toHaveLength(300);
    expect(new Set(config.clients.map((c) => c.name)).size).toBe(300);
  });

  it('means the same as one block per host, and the README gives both sizes', async () => {
    const config = await load(join(example, 'config.xml'));
    const main = readFileSync(join(example, 'config.xml'), 'utf8').split('\n');
    const header = main.slice(
      0,
      main.findIndex((l) => l.includes('<defaults')),
    );
    const flat = [...header, ...flatClientLines(config), '</clients>'];
    const flatPath = join(dir, 'flat.xml');
    writeFileSync(flatPath, `${flat.join('\n')}\n`, { mode: 0o600 });
    const flatConfig = await load(flatPath);
    expect(flatConfig.clients.map(meaning)).toEqual(config.clients.map(meaning));

    const readme = readFileSync(join(example, 'README.md'), 'utf8');
    expect(readme).toContain(`one block per host: **${flat.length} lines**`);
    expect(readme).toContain(`this example: **${exampleLines()} lines**`);
  });
});
