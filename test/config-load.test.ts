import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, afterAll } from 'vitest';
import { checkConfig, ConfigError, loadConfig, parseConfig } from '../src/config/index.js';

// Every temp dir a test makes is removed after the file's tests.
const madeDirs: string[] = [];
afterAll(() => madeDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'config');

/** A private temp dir holding the given files (mode 0600), so no mode warnings appear. */
function workDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-config-'));
  madeDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content, { mode: 0o600 });
  }
  return dir;
}

const agentClient = (ip: string, extra = ''): string => `<client ip="${ip}" username="ops" agent="true"${extra}/>`;

describe('loading a valid config', () => {
  it('parses the mission example exactly', async () => {
    const config = await loadConfig(join(fixtures, 'mission-example.xml'));
    expect(config.clients).toHaveLength(1);
    const client = config.clients[0]!;
    expect(client).toMatchObject({
      ip: '10.0.0.5',
      port: 22,
      username: 'ops',
      mail: 'ops@corp',
      name: '10.0.0.5',
      line: 2,
    });
    expect(client.password).toBe('x');
    expect(client.alerts.map((a) => [a.type, a.limit])).toEqual([
      ['memory', 50],
      ['cpu', 20],
    ]);
  });

  it('fills in every default', () => {
    const config = parseConfig(
      `<clients>${agentClient('10.0.0.1')}<client ip="10.0.0.2" username="u" agent="true"><alert type="cpu" limit="80"/></client></clients>`,
      '/etc/fleetstat/config.xml',
      { homeDir: '/home/ops', env: {} },
    );
    expect(config.settings).toMatchObject({
      knownHostsPath: '/home/ops/.ssh/known_hosts',
      concurrency: 50,
      connectTimeoutSeconds: 10,
      cpuSampleMs: 1000,
      intervalSeconds: 60,
      eventCap: 500,
    });
    expect(config.settings.databaseUrl).toBe('sqlite:/etc/fleetstat/fleetstat.sqlite');
    expect(config.smtp).toBeUndefined();
    expect(config.clients[0]).toMatchObject({
      port: 22,
      hostKey: 'strict',
      timeoutSeconds: 60,
      sudo: false,
      agent: true,
      alerts: [],
    });
    expect(config.clients[1]!.alerts[0]).toMatchObject({ forSeconds: 0, repeatSeconds: 4 * 3600, notify: 'on-change' });
  });

  it('reads every attribute of the full example and resolves relative paths against the config directory', async () => {
    const dir = workDir({ 'secrets/web1.pw': 'pw-from-file\n', 'keys/id_ed25519': 'KEY' });
    copyFileSync(join(fixtures, 'full.xml'), join(dir, 'full.xml'));
    chmodSync(join(dir, 'full.xml'), 0o600);
    const config = await loadConfig(join(dir, 'full.xml'), {
      env: { SMTP_PASSWORD: 'smtp-pw', KEY_PASSPHRASE: 'pp' },
      homeDir: '/home/x',
    });

    expect(config.settings).toMatchObject({
      knownHostsPath: join(dir, 'known_hosts'),
      concurrency: 200,
      connectTimeoutSeconds: 15,
      cpuSampleMs: 500,
      intervalSeconds: 300,
      eventCap: 1000,
    });
    expect(config.settings.databaseUrl).toBe(`sqlite:${join(dir, 'data/fleet.sqlite')}`);
    expect(config.smtp).toMatchObject({
      host: 'mail.example.com',
      port: 587,
      secure: false,
      requireTls: true,
      user: 'fleetstat',
      from: 'fleetstat@example.com',
    });
    expect(config.smtp!.password).toBe('smtp-pw');

    const [web1, v6, db1] = config.clients;
    expect(web1).toMatchObject({
      name: 'web1',
      timeoutSeconds: 90,
      sudo: true,
      mail: 'ops@example.com, oncall@example.com',
    });
    expect(web1!.password).toBe('pw-from-file');
    expect(web1!.alerts.map((a) => [a.type, a.limit, a.forSeconds, a.repeatSeconds, a.notify])).toEqual([
      ['memory', 50, 0, 14400, 'on-change'],
      ['cpu', 20, 300, 14400, 'every-run'],
      ['disk', 90, 0, 14400, 'on-change'],
      ['swap', 12.5, 0, 14400, 'on-change'],
      ['load', 4, 0, 14400, 'on-change'],
      ['unreachable', 0, 600, 14400, 'on-change'],
    ]);
    expect(v6).toMatchObject({
      ip: '2001:db8::7',
      port: 2222,
      keyPath: join(dir, 'keys/id_ed25519'),
      hostKey: 'accept-new',
    });
    expect(v6!.passphrase).toBe('pp');
    expect(v6!.password).toBeUndefined();
    expect(db1).toMatchObject({ ip: 'db1.example.com', agent: true });
  });

  it('expands ~ in known-hosts and keeps absolute paths', () => {
    const home = parseConfig(
      `<clients><settings known-hosts="~/kh"/>${agentClient('10.0.0.1')}</clients>`,
      '/cfg/c.xml',
      { homeDir: '/home/ops' },
    );
    expect(home.settings.knownHostsPath).toBe('/home/ops/kh');
    const abs = parseConfig(
      `<clients><settings known-hosts="/etc/ssh/kh" database="sqlite:/var/lib/f.db"/>${agentClient('10.0.0.1')}</clients>`,
      '/cfg/c.xml',
    );
    expect(abs.settings.knownHostsPath).toBe('/etc/ssh/kh');
    expect(abs.settings.databaseUrl).toBe('sqlite:/var/lib/f.db');
  });

  it('takes the database URL from <database url-env> and keeps server URLs as given', () => {
    const url = 'postgres://fleet:pw@db.example.com:5432/fleet';
    const config = parseConfig(
      `<clients><database url-env="DB_URL"/>${agentClient('10.0.0.1')}</clients>`,
      '/cfg/c.xml',
      { env: { DB_URL: url } },
    );
    expect(config.settings.databaseUrl).toBe(url);
  });

  it('reads every client, not only the first', () => {
    const xml = `<clients>\n${Array.from({ length: 300 }, (_, i) => agentClient(`10.0.${i >> 8}.${i & 255}`)).join('\n')}\n</clients>`;
    const config = parseConfig(xml, '/cfg/c.xml');
    expect(config.clients).toHaveLength(300);
    expect(config.clients[299]).toMatchObject({ ip: '10.0.1.43', line: 301 });
    expect(new Set(config.clients.map((c) => c.ip)).size).toBe(300);
  });

  it('parses limits into numbers, so 9% is below 10% (not compared as strings)', () => {
    const config = parseConfig(
      `<clients><client ip="10.0.0.1" username="u" agent="true">
      <alert type="memory" limit="9%"/><alert type="cpu" limit="10%"/><alert type="load" limit="10"/><alert type="disk" limit="9"/>
    </client></clients>`,
      '/cfg/c.xml',
    );
    const [nine, ten, load, disk] = config.clients[0]!.alerts;
    expect(typeof nine!.limit).toBe('number');
    expect(nine!.limit).toBeLessThan(ten!.limit);
    expect(disk!.limit).toBeLessThan(load!.limit);
    expect('9' < '10').toBe(false); // the trap string comparison would fall into
  });

  it('accepts durations in every unit', () => {
    const config = parseConfig(
      `<clients><client ip="10.0.0.1" username="u" agent="true" timeout="90s">
      <alert type="cpu" limit="5" for="90" repeat="1d"/><alert type="cpu" limit="5" for="4h" repeat="5m" severity="critical"/>
    </client></clients>`,
      '/cfg/c.xml',
    );
    const client = config.clients[0]!;
    expect(client.timeoutSeconds).toBe(90);
    expect(client.alerts.map((a) => [a.forSeconds, a.repeatSeconds])).toEqual([
      [90, 86400],
      [14400, 300],
    ]);
  });

  it('accepts a smtp secure port default of 465', () => {
    const config = parseConfig(
      `<clients><smtp host="smtp.example.com" secure="true" from="a@b"/>${agentClient('10.0.0.1')}</clients>`,
      '/c/c.xml',
    );
    expect(config.smtp).toMatchObject({ port: 465, secure: true });
  });
});

describe('checkConfig and loadConfig on files', () => {
  it('loadConfig throws a ConfigError with every error, one file:line per line', async () => {
    const dir = workDir({
      'bad.xml':
        '<clients>\n<client ip="1.2.3" username="u" agent="true"/>\n<client ip="10.0.0.1" port="0" agent="true"/>\n</clients>\n',
    });
    const file = join(dir, 'bad.xml');
    const error = await loadConfig(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message.split('\n')).toEqual([
      `${file}:2: client ip "1.2.3" is not an IPv4 or IPv6 address or a host name`,
      `${file}:3: client is missing username`,
      `${file}:3: client port "0" is not a port (a whole number from 1 to 65535)`,
    ]);
    expect((error as ConfigError).issues.every((i) => i.file === file && i.severity === 'error')).toBe(true);
  });

  it('checkConfig reports a config file others can read, and still returns the config', async () => {
    const dir = workDir({ 'c.xml': `<clients>${agentClient('10.0.0.1')}</clients>` });
    const file = join(dir, 'c.xml');
    chmodSync(file, 0o644);
    const result = await checkConfig(file);
    expect(result.config?.clients).toHaveLength(1);
    expect(result.issues).toEqual([
      {
        file,
        line: 0,
        severity: 'warning',
        message: 'config file is readable by group or others (mode 0644); chmod 600 it',
      },
    ]);
    chmodSync(file, 0o600);
    expect((await checkConfig(file)).issues).toEqual([]);
  });

  it('loadConfig hands warnings of a valid config to onWarning', async () => {
    const dir = workDir({ 'c.xml': '<clients>\n<client ip="10.0.0.1" username="ops" password="x"/>\n</clients>' });
    const warnings: string[] = [];
    const config = await loadConfig(join(dir, 'c.xml'), {
      onWarning: (issue) => warnings.push(`${issue.severity} ${issue.line}`),
    });
    expect(config.clients).toHaveLength(1);
    expect(warnings).toEqual(['warning 2']);
  });

  it('loadConfig throws a ConfigError for a missing file', async () => {
    const file = join(workDir(), 'nope.xml');
    await expect(loadConfig(file)).rejects.toThrow(`${file}: cannot read config file (ENOENT)`);
  });

  it('checkConfig reports a missing file without throwing', async () => {
    const file = join(workDir(), 'nope.xml');
    expect(await checkConfig(file)).toEqual({
      issues: [{ file, line: 0, severity: 'error', message: 'cannot read config file (ENOENT)' }],
    });
  });
});
