import { chmodSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it, afterAll } from 'vitest';
import { analyzeConfig, ConfigError, formatIssue, parseConfig } from '../src/config/index.js';

// Every temp dir a test makes is removed after the file's tests.
const madeDirs: string[] = [];
afterAll(() => madeDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const PASSWORD = 'Pl41n-S3cret!';
const PASSPHRASE = 'K3y-Passphrase?';
const SMTP_PASSWORD = 'Smtp-S3cret#';
const DB_PASSWORD = 'Db-S3cret%25';

function secretsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-secrets-'));
  madeDirs.push(dir);
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'id_ed25519'), 'KEY', { mode: 0o600 });
  return dir;
}

function loadAllSecrets(dir: string) {
  const xml = `<clients>
  <database url-env="DB_URL"/>
  <smtp host="127.0.0.1" user="fleet" password-env="SMTP_PW" from="f@corp"/>
  <client ip="10.0.0.1" username="ops" password="${PASSWORD}"/>
  <client ip="10.0.0.2" username="ops" password-file="pw"/>
  <client ip="10.0.0.3" username="ops" key="id_ed25519" passphrase-env="KEY_PP"/>
</clients>`;
  const env = { SMTP_PW: SMTP_PASSWORD, KEY_PP: PASSPHRASE, DB_URL: `postgres://fleet:${DB_PASSWORD}@db/fleet` };
  return parseConfig(xml, join(dir, 'config.xml'), { env });
}

describe('secrets', () => {
  it('are readable as plain strings by the code that needs them', () => {
    const config = loadAllSecrets(secretsDir());
    expect(config.clients.map((c) => c.password)).toEqual([PASSWORD, PASSWORD, undefined]);
    expect(config.clients[2]!.passphrase).toBe(PASSPHRASE);
    expect(config.smtp!.password).toBe(SMTP_PASSWORD);
    expect(config.settings.databaseUrl).toContain(DB_PASSWORD);
  });

  it('never show in JSON.stringify, util.inspect (even showHidden) or String()', () => {
    const config = loadAllSecrets(secretsDir());
    const renderings = [
      JSON.stringify(config),
      inspect(config, { depth: null }),
      inspect(config, { depth: null, showHidden: true }),
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the default stringification is one of the renderings checked
      String(config),
      `${JSON.stringify(config.clients[0])}${inspect(config.clients[0])}${inspect(config.smtp)}`,
    ];
    for (const text of renderings) {
      for (const secret of [PASSWORD, PASSPHRASE, SMTP_PASSWORD, DB_PASSWORD]) expect(text).not.toContain(secret);
    }
    expect(Object.keys(config.clients[0]!)).not.toContain('password');
  });

  it('never show in error messages or issues', () => {
    // Each line breaks something next to a secret; none of the messages may echo it.
    const xml = `<clients>
<client ip="10.0.0.1" username="ops" password="${PASSWORD}" password-env="X"/>
<client ip="10.0.0.2" username="ops" password="${PASSWORD}" passphrase="${PASSPHRASE}" port="nope"/>
<client ip="10.0.0.3" username="ops" password="${PASSWORD}">${PASSWORD}</client>
<database url="mysql://u:${DB_PASSWORD}@db"/>
<database url="oracle://u:${DB_PASSWORD}@db"/>
</clients>`;
    let error: unknown;
    try {
      parseConfig(xml, 'c.xml', { env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = `${(error as Error).message}\n${(error as ConfigError).issues.map(formatIssue).join('\n')}\n${inspect(error)}`;
    expect(text.split('\n').length).toBeGreaterThan(5);
    for (const secret of [PASSWORD, PASSPHRASE, DB_PASSWORD]) expect(text).not.toContain(secret);
  });

  it('are read from password-file without the final newline', () => {
    const dir = secretsDir();
    writeFileSync(join(dir, 'crlf'), 'with space \r\n', { mode: 0o600 });
    const config = parseConfig(
      '<clients><client ip="10.0.0.1" username="ops" password-file="crlf"/></clients>',
      join(dir, 'c.xml'),
    );
    expect(config.clients[0]!.password).toBe('with space ');
  });

  it('keep a plaintext password exactly as written, spaces included', () => {
    const config = parseConfig('<clients><client ip="10.0.0.1" username="ops" password=" a b "/></clients>', 'c.xml');
    expect(config.clients[0]!.password).toBe(' a b ');
  });

  it('reports an empty password-file', () => {
    const dir = secretsDir();
    writeFileSync(join(dir, 'empty'), '\n', { mode: 0o600 });
    const issues = analyzeConfig(
      '<clients>\n<client ip="10.0.0.1" username="ops" password-file="empty"/>\n</clients>',
      join(dir, 'c.xml'),
    ).issues;
    expect(issues.map(formatIssue)).toEqual([
      `${join(dir, 'c.xml')}:2: client 10.0.0.1: password-file ${join(dir, 'empty')} is empty`,
    ]);
  });
});

describe.skipIf(process.platform === 'win32')('file mode warnings', () => {
  it('warn when a password file or key file is readable by group or others', () => {
    const dir = secretsDir();
    chmodSync(join(dir, 'pw'), 0o640);
    chmodSync(join(dir, 'id_ed25519'), 0o604);
    const xml =
      '<clients>\n<client ip="10.0.0.1" username="ops" password-file="pw"/>\n<client ip="10.0.0.2" username="ops" key="id_ed25519"/>\n</clients>';
    const result = analyzeConfig(xml, join(dir, 'c.xml'));
    expect(result.config).toBeDefined();
    expect(result.issues.map((i) => [i.severity, formatIssue(i)])).toEqual([
      [
        'warning',
        `${join(dir, 'c.xml')}:2: password-file ${join(dir, 'pw')} is readable by group or others (mode 0640); chmod 600 it`,
      ],
      [
        'warning',
        `${join(dir, 'c.xml')}:3: key file ${join(dir, 'id_ed25519')} is readable by group or others (mode 0604); chmod 600 it`,
      ],
    ]);
  });

  it('stay quiet for 0600 files', () => {
    const dir = secretsDir();
    const xml =
      '<clients><client ip="10.0.0.1" username="ops" password-file="pw"/><client ip="10.0.0.2" username="ops" key="id_ed25519"/></clients>';
    expect(analyzeConfig(xml, join(dir, 'c.xml')).issues).toEqual([]);
  });
});
