/**
 * `config show` (effective values with file:line, secrets redacted, --json) and the original
 * assignment's example verbatim: accepted with a warning per line, rewritten by `config check --fix`.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { checkConfig, formatIssue, loadConfig } from '../src/config/index.js';
import { fixConfigText } from '../src/config/fix-config.js';
import { fleetstat } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-show-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ORIGINAL = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'config', 'original-example.xml');

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('the original example, verbatim', () => {
  it('loads with one warning per line saying what was assumed, and the lone <client> noted', async () => {
    const result = await checkConfig(ORIGINAL);
    const warnings = result.issues.map(formatIssue).map((line) => line.replace(ORIGINAL, 'original-example.xml'));
    expect(warnings.filter((w) => w.includes('typographic quotes')).map((w) => w.split(':')[1])).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect(warnings).toContain(
      'original-example.xml:1: root element is a lone <client>; read as <clients><client …/></clients> (standard form: wrap it in <clients>; `fleetstat config check --fix` does)',
    );
    expect(result.issues.every((i) => i.severity === 'warning')).toBe(true);
    const client = result.config!.clients[0]!;
    expect([client.ip, client.port, client.username, client.password, client.mail]).toEqual([
      '10.0.0.5',
      22,
      'ops',
      'x',
      'ops@corp',
    ]);
    expect(client.alerts.map((a) => [a.type, a.limit])).toEqual([
      ['memory', 50],
      ['cpu', 20],
    ]);
  });

  it('config check --fix rewrites it to standard XML that loads without those warnings, keeping the mode', async () => {
    const path = join(dir, 'original.xml');
    copyFileSync(ORIGINAL, path);
    chmodSync(path, 0o600);
    const before = readFileSync(path, 'utf8');
    const result = await fleetstat(['config', 'check', '--fix', path]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toContain(
      `${path}: rewrote: typographic quotes around attribute values made plain on lines 1, 2, 3; the lone <client> wrapped in <clients>`,
    );
    const after = readFileSync(path, 'utf8');
    expect(after).toBe(`<clients>\n${before.replace(/’/g, '"').trimEnd()}\n</clients>\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const check = await checkConfig(path);
    expect(check.issues.map((i) => i.message)).toEqual([
      'clients have mail or alerts but there is no <smtp>; no mail will be sent',
      'plaintext password for client 10.0.0.5; prefer password-file or password-env',
    ]);
    const again = await fleetstat(['config', 'check', '--fix', path]);
    expect(again.stdout).toContain('already in standard form');
  });

  it('--fix also rewrites included files that have typographic delimiters', async () => {
    const main = write('fixinc/config.xml', '<clients>\n<include path="conf.d/*.xml"/>\n</clients>\n');
    const inc = write(
      'fixinc/conf.d/a.xml',
      '<clients>\n<client ip=’10.0.0.7’ username=’ops’ agent="true"/>\n</clients>\n',
    );
    const result = await fleetstat(['config', 'check', '--fix', main]);
    expect(result.stdout).toContain(`${main}: already in standard form`);
    expect(result.stdout).toContain(`${inc}: rewrote: typographic quotes around attribute values made plain on line 2`);
    expect(readFileSync(inc, 'utf8')).toBe(
      '<clients>\n<client ip="10.0.0.7" username="ops" agent="true"/>\n</clients>\n',
    );
    expect(result.stderr).not.toContain('typographic');
  });

  it('keeps typographic quotes inside values, comments and text alone', () => {
    const text = '<!-- Bob’s “box” -->\n<clients><client ip=’10.0.0.1’ name="Bob’s box" password=’it’s’/></clients>\n';
    expect(fixConfigText(text).text).toBe(
      '<!-- Bob’s “box” -->\n<clients><client ip="10.0.0.1" name="Bob’s box" password="it’s"/></clients>\n',
    );
  });
});

describe('fleetstat config show', () => {
  const config = write(
    'show/config.xml',
    [
      '<clients>',
      '  <defaults username="ops" password-file="secrets/ops.pw" mail="ops@corp">',
      '    <alert type="unreachable"/>',
      '  </defaults>',
      '  <include path="conf.d/*.xml"/>',
      '</clients>',
    ].join('\n'),
  );
  write('show/secrets/ops.pw', 'never-print-me\n');
  write(
    'show/conf.d/web.xml',
    [
      '<clients>',
      '  <group name="web" port="2222">',
      '    <alert type="cpu" limit="80%" for="5m"/>',
      '    <client ip="127.0.0.10-127.0.0.11" name="web-{ip}"/>',
      '  </group>',
      '</clients>',
    ].join('\n'),
  );

  it('prints each value with the file:line it came from, and never the secret', async () => {
    const result = await fleetstat(['config', 'show', '-c', config, 'web-127.0.0.11']);
    expect(result.code).toBe(EXIT.ok);
    const web = join(dir, 'show/conf.d/web.xml');
    expect(result.stdout).toContain(`web-127.0.0.11 (127.0.0.11:2222)  ${web}:4  groups: web`);
    expect(result.stdout).toMatch(new RegExp(`port +2222 +${web}:2 \\(group web\\)`));
    expect(result.stdout).toMatch(new RegExp(`username +ops +${config}:2 \\(defaults\\)`));
    expect(result.stdout).toContain(`<redacted> (from file ${join(dir, 'show/secrets/ops.pw')})`);
    expect(result.stdout).toMatch(new RegExp(`password +<redacted> .* ${config}:2 \\(defaults\\)`));
    expect(result.stdout).toMatch(/timeout +60s +\(default\)/);
    expect(result.stdout).toMatch(
      new RegExp(`alert cpu +cpu > 80% for 300s, repeat 14400s, on-change +${web}:3 \\(group web\\)`),
    );
    expect(result.stdout).not.toContain('web-127.0.0.10');
    expect(result.stdout + result.stderr).not.toContain('never-print-me');
  });

  it('--json gives the same, machine-readable; an unknown host is a usage error', async () => {
    const result = await fleetstat(['config', 'show', '-c', config, '--json']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).not.toContain('never-print-me');
    const clients = JSON.parse(result.stdout);
    expect(clients.map((c: { name: string }) => c.name)).toEqual(['web-127.0.0.10', 'web-127.0.0.11']);
    expect(clients[0].values.mail).toEqual({ value: 'ops@corp', from: `${config}:2`, level: 'defaults' });
    expect(clients[0].alerts.map((a: { type: string; level: string }) => `${a.type}/${a.level}`)).toEqual([
      'unreachable/defaults',
      'cpu/group web',
    ]);
    const missing = await fleetstat(['config', 'show', '-c', config, 'nope']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('no client named nope');
  });

  it('loads the same config through loadConfig (no CLI) with its secret intact', async () => {
    const loaded = await loadConfig(config);
    expect(loaded.clients[0]!.password).toBe('never-print-me');
  });
});

describe('fleetstat config init', () => {
  it('writes a commented starter (mode 0600, no inline password) that checks ok, and never overwrites', async () => {
    const path = join(dir, 'init/config.xml');
    const result = await fleetstat(['config', 'init', path]);
    expect(result.code).toBe(EXIT.ok);
    const text = readFileSync(path, 'utf8');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(text).toContain('password-file="secrets/ssh.pw"');
    expect(text).not.toMatch(/\spassword="/);
    expect(text).toContain('<defaults');
    expect(text).toContain('fleetstat hosts scan');
    const ok = await fleetstat(['config', 'check', path]);
    expect(ok.code).toBe(EXIT.ok);
    writeFileSync(path, 'mine');
    const refused = await fleetstat(['config', 'init', path]);
    expect(refused.code).toBe(EXIT.usage);
    expect(readFileSync(path, 'utf8')).toBe('mine');
  });
});
