/**
 * Groups, defaults, many hosts per line and includes: what a client inherits, how rules merge,
 * how addresses expand, and that every problem still names the right file and line.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeConfig, checkConfig, formatIssue, parseConfig } from '../src/config/index.js';
import { expandAddresses, parseHostList } from '../src/config/host-expansion.js';
import { provenanceOf } from '../src/config/read-fleet.js';

const madeDirs: string[] = [];
afterAll(() => madeDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function workDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-groups-'));
  madeDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content, { mode: 0o600 });
  }
  return dir;
}

const problems = (xml: string): string[] => analyzeConfig(xml, 'config.xml', { env: {} }).issues.map(formatIssue);
const load = (xml: string) =>
  parseConfig(xml, '/etc/fleetstat/config.xml', { env: { PW: 's3cret' }, homeDir: '/home/ops' });

describe('groups and defaults', () => {
  const xml = [
    '<clients>', // 1
    '  <defaults username="ops" password-env="PW" mail="ops@corp" timeout="30">', // 2
    '    <alert type="cpu" limit="90%"/>', // 3
    '    <alert type="unreachable"/>', // 4
    '  </defaults>', // 5
    '  <group name="web" port="2222" mail="web@corp">', // 6
    '    <alert type="cpu" limit="70%"/>', // 7
    '    <alert type="disk" limit="80%"/>', // 8
    '    <client ip="10.0.0.1"/>', // 9
    '    <client ip="10.0.0.2" port="22" agent="true" mail="lead@corp">', // 10
    '      <alert type="disk" drop="true"/>', // 11
    '      <alert type="memory" limit="50%"/>', // 12
    '    </client>', // 13
    '    <group name="canary" timeout="10"><client ip="10.0.0.3"/></group>', // 14
    '  </group>', // 15
    '  <client ip="10.0.0.4" username="root" agent="true"/>', // 16
    '</clients>',
  ].join('\n');

  it('gives each client the nearest value: client, inner group, outer group, defaults', () => {
    const clients = parseConfig(xml, '/etc/fleetstat/config.xml', { env: { PW: 'pw' }, homeDir: '/h' }).clients;
    expect(clients.map((c) => [c.ip, c.port, c.username, c.mail, c.timeoutSeconds])).toEqual([
      ['10.0.0.1', 2222, 'ops', 'web@corp', 30],
      ['10.0.0.2', 22, 'ops', 'lead@corp', 30],
      ['10.0.0.3', 2222, 'ops', 'web@corp', 10],
      ['10.0.0.4', 22, 'root', 'ops@corp', 30],
    ]);
    expect(clients[0]!.password).toBe('pw');
    expect(clients[1]!.agent).toBe(true);
  });

  it('merges rules by type: a level replaces inherited rules of a type, drop removes them', () => {
    const clients = parseConfig(xml, '/etc/fleetstat/config.xml', { env: { PW: 'pw' } }).clients;
    const rules = clients.map((c) =>
      c.alerts.map((a) => `${a.type}${a.type === 'unreachable' ? '' : `>${a.limit}`}@${a.line}`).sort(),
    );
    expect(rules).toEqual([
      ['cpu>70@7', 'disk>80@8', 'unreachable@4'],
      ['cpu>70@7', 'memory>50@12', 'unreachable@4'],
      ['cpu>70@7', 'disk>80@8', 'unreachable@4'],
      ['cpu>90@3', 'unreachable@4'],
    ]);
  });

  it('records where each value came from', () => {
    const clients = parseConfig(xml, 'config.xml', { env: { PW: 'pw' }, baseDir: '/etc' }).clients;
    const origin = provenanceOf(clients[2]!)!;
    expect(origin.groups).toEqual(['web', 'canary']);
    expect(origin.attributes.get('timeout')).toEqual({ file: 'config.xml', line: 14, level: 'group canary' });
    expect(origin.attributes.get('port')).toEqual({ file: 'config.xml', line: 6, level: 'group web' });
    expect(origin.attributes.get('password-env')).toEqual({ file: 'config.xml', line: 2, level: 'defaults' });
    expect(origin.alerts.map((a) => `${a.level}:${a.line}`)).toEqual(['defaults:4', 'group web:7', 'group web:8']);
  });

  it('lets a client replace an inherited secret by another source of it (one slot per secret)', () => {
    const config = load(
      '<clients><defaults username="ops" password-file="/nonexistent/pw"/><client ip="10.0.0.1" password-env="PW"/></clients>',
    );
    expect(config.clients[0]!.password).toBe('s3cret');
  });

  it('reports a bad inherited value once, at the group line, and unknown group attributes with a suggestion', () => {
    expect(
      problems(
        [
          '<clients>',
          '<group name="g" username="ops" agent="true" port="x" usernmae="a">',
          '<client ip="10.0.0.1"/><client ip="10.0.0.2"/>',
          '<alrt type="cpu"/>',
          '</group>',
          '</clients>',
        ].join('\n'),
      ),
    ).toEqual([
      'config.xml:2: unknown attribute "usernmae" on <group>; did you mean "username"?',
      'config.xml:2: client port "x" is not a port (a whole number from 1 to 65535)',
      'config.xml:4: unknown element <alrt> inside <group>; did you mean <alert>?',
    ]);
  });

  it('refuses ip and name on a group or defaults, and checks drop', () => {
    expect(
      problems(
        [
          '<clients>',
          '<defaults ip="10.0.0.9" username="ops" agent="true"><alert type="disk" drop="true"/></defaults>',
          '<group name="g"><alert type="cpu" drop="yes"/><client ip="10.0.0.1"/></group>',
          '</clients>',
        ].join('\n'),
      ),
    ).toEqual([
      'config.xml:2: unknown attribute "ip" on <defaults>; known attributes: port, username, mail, timeout, host-key, sudo, agent, key, password, password-env, password-file, passphrase, passphrase-env, passphrase-file, alert-mail, events-mail',
      'config.xml:2: alert drop="true" removes no inherited disk rule (none is inherited here)',
      'config.xml:3: alert drop "yes" must be true (to keep a rule, leave drop out)',
    ]);
  });
});

describe('many hosts in one attribute', () => {
  it('expands lists, ranges (long and short) and CIDR blocks', () => {
    expect(expandAddresses('10.0.0.1, db.corp ,2001:db8::1')).toEqual({
      ok: true,
      value: ['10.0.0.1', 'db.corp', '2001:db8::1'],
    });
    expect(expandAddresses('10.0.1.254-10.0.2.1')).toEqual({
      ok: true,
      value: ['10.0.1.254', '10.0.1.255', '10.0.2.0', '10.0.2.1'],
    });
    expect(expandAddresses('10.0.1.10-12')).toEqual({ ok: true, value: ['10.0.1.10', '10.0.1.11', '10.0.1.12'] });
    expect(expandAddresses('10.0.2.0/30')).toEqual({ ok: true, value: ['10.0.2.1', '10.0.2.2'] });
    expect(expandAddresses('10.0.2.4/31')).toEqual({ ok: true, value: ['10.0.2.4', '10.0.2.5'] });
    const block = expandAddresses('10.0.0.0/22');
    expect(block.ok && block.value.length).toBe(1022);
  });

  it('refuses oversize blocks, backwards ranges, IPv6 blocks, misaligned CIDR and repeats, saying why', () => {
    expect(expandAddresses('10.0.0.0/16')).toEqual({
      ok: false,
      reason:
        'covers 65,536 addresses; one attribute may give at most 1024 (a /22): split it, or list the hosts in a hosts-file',
    });
    expect(expandAddresses('10.0.0.1-10.0.8.1')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('covers 2,049 addresses'),
    });
    expect(expandAddresses('10.0.0.9-10.0.0.1')).toEqual({
      ok: false,
      reason: 'is a range that ends (10.0.0.1) before it starts (10.0.0.9)',
    });
    expect(expandAddresses('2001:db8::/120')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('only IPv4 blocks'),
    });
    expect(expandAddresses('10.0.0.5/30')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('did you mean 10.0.0.4/30?'),
    });
    expect(expandAddresses('10.0.0.1, 10.0.0.0/30')).toEqual({ ok: false, reason: 'lists 10.0.0.1 twice' });
    expect(expandAddresses('10.0.0.1,,10.0.0.2')).toMatchObject({ ok: false });
  });

  it('makes one client per address, each with its own name, and reports errors at the element', () => {
    const config = load(
      '<clients>\n<client ip="10.0.1.10-10.0.1.12" name="web-{ip}" username="ops" agent="true"><alert type="cpu" limit="80"/></client>\n</clients>',
    );
    expect(config.clients.map((c) => [c.ip, c.name, c.alerts.length])).toEqual([
      ['10.0.1.10', 'web-10.0.1.10', 1],
      ['10.0.1.11', 'web-10.0.1.11', 1],
      ['10.0.1.12', 'web-10.0.1.12', 1],
    ]);
    // Each client owns its rules (the config is frozen, so sharing would not show as a change).
    expect(config.clients[0]!.alerts[0]).not.toBe(config.clients[1]!.alerts[0]);
    expect(config.clients[1]!.alerts[0]!.limit).toBe(80);
    expect(
      problems(
        '<clients>\n<client ip="10.0.0.0/8" username="ops" agent="true"/>\n<client ip="10.1.0.1,10.1.0.2" name="same" username="ops" agent="true"/>\n</clients>',
      ),
    ).toEqual([
      'config.xml:2: client ip "10.0.0.0/8" covers 16,777,216 addresses; one attribute may give at most 1024 (a /22): split it, or list the hosts in a hosts-file',
      'config.xml:3: client name "same" would be the same for 2 machines; write it with {ip} (name="same-{ip}") or leave name out',
    ]);
  });

  it('keeps secrets hidden on every copy', () => {
    const config = load('<clients><client ip="10.0.1.1-2" username="ops" password-env="PW"/></clients>');
    expect(config.clients[1]!.password).toBe('s3cret');
    expect(JSON.stringify(config.clients)).not.toContain('s3cret');
  });

  it('reads host-list files: one per line, # comments, errors at the list line', async () => {
    const dir = workDir({
      'config.xml':
        '<clients>\n<group username="ops" agent="true">\n<client hosts-file="lists/db.txt"/>\n<client ip="10.0.3.2"/>\n</group>\n</clients>\n',
      'lists/db.txt': '# databases\n10.0.3.1\n\ndb2.corp  # the replica\n10.0.3.2\n',
    });
    const check = await checkConfig(join(dir, 'config.xml'));
    expect(check.issues.map(formatIssue).map((l) => l.replaceAll(dir, '<dir>'))).toEqual([
      '<dir>/config.xml:4: duplicate client 10.0.3.2 port 22 (<dir>/lists/db.txt:5 and <dir>/config.xml:4)',
    ]);
    writeFileSync(join(dir, 'lists/db.txt'), '10.0.3.1\nnot a host\n10.0.3.7 # ok\n');
    const again = await checkConfig(join(dir, 'config.xml'));
    expect(again.issues.map(formatIssue).map((l) => l.replaceAll(dir, '<dir>'))).toEqual([
      '<dir>/lists/db.txt:2: host "not a host" is not an IPv4 or IPv6 address or a host name',
    ]);
    expect(problems('<clients>\n<client host-file="x.txt" username="ops" agent="true"/>\n</clients>')).toEqual([
      'config.xml:2: unknown attribute "host-file" on <client>; did you mean "hosts-file"?',
      'config.xml:2: client is missing ip',
    ]);
    expect(parseHostList('a.corp\na.corp\n').problems).toEqual([
      { line: 2, message: 'host a.corp is listed twice (lines 1 and 2)' },
    ]);
  });
});

describe('includes', () => {
  it('reads conf.d/*.xml sorted, relative to the including file, with paths relative to each file', async () => {
    const dir = workDir({
      'etc/config.xml':
        '<clients>\n<defaults username="ops" agent="true"/>\n<include path="conf.d/*.xml"/>\n<client ip="10.0.0.9"/>\n</clients>\n',
      'etc/conf.d/20-db.xml': '<clients>\n<client ip="10.0.0.2" key="../keys/db"/>\n</clients>\n',
      'etc/conf.d/10-web.xml':
        '<clients>\n<group name="web"><include path="x.xml"/></group>\n<include path="more/web.xml"/>\n</clients>\n',
      'etc/conf.d/more/web.xml': '<clients><client ip="10.0.0.1"/></clients>\n',
      'etc/conf.d/notes.txt': 'ignored',
      'etc/keys/db': 'key',
    });
    const check = await checkConfig(join(dir, 'etc/config.xml'));
    expect(check.issues.map(formatIssue).map((l) => l.replaceAll(dir, '<dir>'))).toEqual([
      '<dir>/etc/conf.d/10-web.xml:2: unknown element <include> inside <group>; expected <alert>, <client>, <group>',
    ]);
    writeFileSync(join(dir, 'etc/conf.d/10-web.xml'), '<clients>\n<include path="more/web.xml"/>\n</clients>\n');
    const config = (await checkConfig(join(dir, 'etc/config.xml'))).config!;
    expect(config.clients.map((c) => c.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.9']);
    expect(config.clients[1]!.keyPath).toBe(join(dir, 'etc/keys/db'));
    expect(provenanceOf(config.clients[1]!)!.element).toEqual({ file: join(dir, 'etc/conf.d/20-db.xml'), line: 2 });
  });

  it('reports errors, cycles, double includes and duplicate hosts across files naming both places', async () => {
    const dir = workDir({
      'config.xml':
        '<clients>\n<include path="a.xml"/>\n<include path="b.xml"/>\n<include path="none/*.xml"/>\n<client ip="10.0.0.1" username="ops" agent="true"/>\n</clients>\n',
      'a.xml':
        '<clients>\n\n<client ip="10.0.0.1" username="ops" agent="true"/>\n<include path="b.xml"/>\n</clients>\n',
      'b.xml':
        '<clients>\n<include path="config.xml"/>\n<client ip="10.0.0.2" usrname="ops" username="ops" agent="true"/>\n<settings/>\n</clients>\n',
    });
    const lines = (await checkConfig(join(dir, 'config.xml'))).issues
      .map(formatIssue)
      .map((l) => l.replaceAll(`${dir}/`, ''));
    expect(lines).toEqual([
      'config.xml:3: b.xml is included twice: at a.xml:4 and config.xml:3; include each file once',
      'config.xml:4: include path "none/*.xml" matches no file (looked in none)',
      'config.xml:5: duplicate client 10.0.0.1 port 22 (a.xml:3 and config.xml:5)',
      'b.xml:2: include cycle: b.xml:2 includes config.xml (the main config file), which leads back here; remove one of the two includes',
      'b.xml:3: unknown attribute "usrname" on <client>; did you mean "username"?',
      'b.xml:4: unexpected element <settings> in included file; <settings> belongs in the main config file only',
    ]);
  });

  it('keeps parse errors of an included file at its own line, and follows symlinks to find cycles', async () => {
    const dir = workDir({
      'config.xml': '<clients>\n<include path="conf.d/*.xml"/>\n</clients>\n',
      'conf.d/a.xml': '<clients>\n<client ip="10.0.0.1"\n</clients>\n',
    });
    symlinkSync(join(dir, 'config.xml'), join(dir, 'conf.d/loop.xml'));
    const lines = (await checkConfig(join(dir, 'config.xml'))).issues
      .map(formatIssue)
      .map((l) => l.replaceAll(`${dir}/`, ''));
    expect(lines).toEqual([
      'config.xml:1: no <client> elements; nothing will be collected',
      'config.xml:2: include cycle: config.xml:2 includes config.xml (the main config file), which leads back here; remove one of the two includes',
      'conf.d/a.xml:3: malformed XML: disallowed character in attribute name',
    ]);
  });
});

describe('a problem inherited by many clients', () => {
  it('is reported once at the place it is written, saying how many clients share it', () => {
    expect(
      problems(
        [
          '<clients>',
          '<defaults username="ops" password-env="UNSET_PW"/>',
          '<client ip="10.0.0.1-10.0.0.3"/>',
          '<client ip="10.0.1.1"/>',
          '</clients>',
        ].join('\n'),
      ),
    ).toEqual([
      'config.xml:2: client 10.0.0.1: environment variable UNSET_PW (password-env) is not set (the same for 1 more <client> element)',
    ]);
  });
});
