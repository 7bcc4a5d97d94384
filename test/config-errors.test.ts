import { describe, expect, it } from 'vitest';
import { analyzeConfig, ConfigError, formatIssue, parseConfig } from '../src/config/index.js';

const FILE = '/cfg/config.xml';

/** Errors (not warnings) of a config, formatted as the user sees them. */
function errorsOf(xml: string, env: NodeJS.ProcessEnv = {}): string[] {
  return analyzeConfig(xml, FILE, { env })
    .issues.filter((i) => i.severity === 'error')
    .map(formatIssue);
}

/** Wraps client lines in <clients>, starting on line 2. */
const clients = (...lines: string[]): string => ['<clients>', ...lines, '</clients>'].join('\n');
const ok = 'username="ops" agent="true"';

describe('each invalid case names its file and line', () => {
  it.each([
    [
      'unknown alert type, with the known ones listed',
      clients(`<client ip="10.0.0.5" ${ok}>`, '  <alert type="mem" limit="50%"/>', '</client>'),
      '3: alert type "mem" is not one of memory, cpu, disk, swap, load, unreachable',
    ],
    [
      'unknown element, with a suggestion',
      clients(`<client ip="10.0.0.5" ${ok}>`, '  <alrt type="cpu" limit="5"/>', '</client>'),
      '3: unknown element <alrt> inside <client>; did you mean <alert>?',
    ],
    [
      'unknown top-level element',
      clients(`<clinet ip="10.0.0.5" ${ok}/>`),
      '2: unknown element <clinet> inside <clients>; did you mean <client>?',
    ],
    [
      'unknown attribute, with a suggestion',
      clients(`<client ip="10.0.0.5" usernmae="ops" agent="true" username="x"/>`),
      '2: unknown attribute "usernmae" on <client>; did you mean "username"?',
    ],
    [
      'unknown attribute on a later line of a multi-line tag',
      clients('<client ip="10.0.0.5"', `   ${ok}`, '   colour="blue"/>'),
      '4: unknown attribute "colour" on <client>; known attributes: ip, port, username, name, mail, timeout, host-key, sudo, agent, key, password, password-env, password-file, passphrase, passphrase-env, passphrase-file, alert-mail, events-mail',
    ],
    ['missing ip', clients(`<client ${ok}/>`), '2: client is missing ip'],
    ['missing username', clients('<client ip="10.0.0.5" agent="true"/>'), '2: client is missing username'],
    [
      'no authentication',
      clients('<client ip="10.0.0.5" username="ops"/>'),
      '2: client 10.0.0.5 has no authentication; give password-file, password-env, password, key or agent="true"',
    ],
    [
      'agent="false" is no authentication',
      clients('<client ip="10.0.0.5" username="ops" agent="false"/>'),
      '2: client 10.0.0.5 has no authentication; give password-file, password-env, password, key or agent="true"',
    ],
    [
      'bad IPv4',
      clients(`<client ip="10.0.0.256" ${ok}/>`),
      '2: client ip "10.0.0.256" is not an IPv4 or IPv6 address or a host name',
    ],
    [
      'bad IPv6',
      clients(`<client ip="2001:db8:::1" ${ok}/>`),
      '2: client ip "2001:db8:::1" is not an IPv4 or IPv6 address or a host name',
    ],
    [
      'bracketed IPv6',
      clients(`<client ip="[::1]" ${ok}/>`),
      '2: client ip "[::1]" is an IPv6 address in brackets; write it without [ ]',
    ],
    [
      'bad host name',
      clients(`<client ip="web_1.example.com" ${ok}/>`),
      '2: client ip "web_1.example.com" is not an IPv4 or IPv6 address or a host name',
    ],
    [
      'bad name in web hosts',
      clients('<web hosts="fleet.corp, bad_name"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: web hosts "fleet.corp, bad_name" has "bad_name", which is not an IPv4 or IPv6 address or a host name',
    ],
    ['empty ip', clients(`<client ip="" ${ok}/>`), '2: client ip is empty'],
    [
      'port 0',
      clients(`<client ip="10.0.0.5" port="0" ${ok}/>`),
      '2: client port "0" is not a port (a whole number from 1 to 65535)',
    ],
    [
      'port too big',
      clients(`<client ip="10.0.0.5" port="65536" ${ok}/>`),
      '2: client port "65536" is not a port (a whole number from 1 to 65535)',
    ],
    [
      'port not a whole number',
      clients(`<client ip="10.0.0.5" port="22.5" ${ok}/>`),
      '2: client port "22.5" is not a port (a whole number from 1 to 65535)',
    ],
    [
      'percent limit not a number',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="memory" limit="abc"/>', '</client>'),
      '3: alert limit "abc" is not a percentage (like 50% or 12.5%)',
    ],
    [
      'percent limit over 100',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="disk" limit="150%"/>', '</client>'),
      '3: alert limit "150%" is over 100%',
    ],
    [
      'negative percent limit',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="swap" limit="-1%"/>', '</client>'),
      '3: alert limit "-1%" is not a percentage (like 50% or 12.5%)',
    ],
    [
      'load limit given as a percent',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="load" limit="80%"/>', '</client>'),
      '3: alert limit "80%" is a percentage; a load limit is a plain number per core, like 4 or 1.5',
    ],
    [
      'load limit zero',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="load" limit="0"/>', '</client>'),
      '3: alert limit "0" must be greater than 0',
    ],
    [
      'load limit negative',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="load" limit="-2"/>', '</client>'),
      '3: alert limit "-2" is not a positive number (load per core, like 4 or 1.5)',
    ],
    [
      'missing limit',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="cpu"/>', '</client>'),
      '3: alert type "cpu" needs a limit',
    ],
    [
      'limit on unreachable',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="unreachable" limit="3"/>', '</client>'),
      '3: alert type "unreachable" takes no limit',
    ],
    [
      'missing alert type',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert limit="3"/>', '</client>'),
      '3: alert is missing type',
    ],
    [
      'bad for duration',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="cpu" limit="5" for="5 minutes"/>', '</client>'),
      '3: alert for "5 minutes" is not a duration (like 90, 90s, 5m, 4h or 1d)',
    ],
    [
      'bad repeat duration',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="cpu" limit="5" repeat="4w"/>', '</client>'),
      '3: alert repeat "4w" is not a duration (like 90, 90s, 5m, 4h or 1d)',
    ],
    [
      'zero repeat',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="cpu" limit="5" repeat="0"/>', '</client>'),
      '3: alert repeat "0" must be longer than 0',
    ],
    [
      'bad notify',
      clients(`<client ip="10.0.0.5" ${ok}>`, '<alert type="cpu" limit="5" notify="always"/>', '</client>'),
      '3: alert notify "always" is not one of on-change, every-run',
    ],
    [
      'bad timeout',
      clients(`<client ip="10.0.0.5" timeout="-5" ${ok}/>`),
      '2: client timeout "-5" is not a duration (like 90, 90s, 5m, 4h or 1d)',
    ],
    [
      'bad host-key policy',
      clients(`<client ip="10.0.0.5" host-key="yes" ${ok}/>`),
      '2: client host-key "yes" is not one of strict, accept-new',
    ],
    [
      'bad boolean',
      clients(`<client ip="10.0.0.5" username="ops" agent="yes"/>`),
      '2: client agent "yes" is not true or false',
    ],
    [
      'bad mail',
      clients(`<client ip="10.0.0.5" mail="ops at corp" ${ok}/>`),
      '2: client mail "ops at corp" is not a mail address (like ops@example.com)',
    ],
    [
      'bad mail in a list',
      clients(`<client ip="10.0.0.5" mail="a@corp, b@" ${ok}/>`),
      '2: client mail "a@corp, b@" is not a mail address (like ops@example.com)',
    ],
    [
      'password-env not set',
      clients('<client ip="10.0.0.5" username="ops" password-env="WEB_PW"/>'),
      '2: client 10.0.0.5: environment variable WEB_PW (password-env) is not set',
    ],
    [
      'password-file not readable',
      clients('<client ip="10.0.0.5" username="ops" password-file="/nonexistent/pw"/>'),
      '2: client 10.0.0.5: password-file /nonexistent/pw is not readable (ENOENT)',
    ],
    [
      'key file not readable',
      clients('<client ip="10.0.0.5" username="ops" key="keys/none"/>'),
      '2: client 10.0.0.5: key file /cfg/keys/none is not readable (ENOENT)',
    ],
    [
      'two password sources',
      clients('<client ip="10.0.0.5" username="ops" password="a"', '  password-env="PW"/>'),
      '3: client 10.0.0.5: use only one of password, password-env',
    ],
    [
      'text inside an element',
      clients(`<client ip="10.0.0.5" ${ok}>`, 'hunter2', '</client>'),
      '3: unexpected text inside <client>; settings go in attributes',
    ],
    [
      'bad concurrency',
      clients('<settings concurrency="0"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: settings concurrency "0" is not a whole number from 1 to 10000',
    ],
    [
      'bad cpu-sample',
      clients('<settings cpu-sample="5"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: settings cpu-sample "5" is under 10 ms',
    ],
    [
      'bad event-cap',
      clients('<settings event-cap="9000"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: settings event-cap "9000" is not a whole number from 0 to 5000',
    ],
    [
      'bad database scheme',
      clients('<database url="oracle://x"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: database URL must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://',
    ],
    [
      'database given twice',
      clients('<settings database="sqlite:a.db"/>', '<database url="sqlite:b.db"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '3: database given twice: in <settings database> (line 2) and <database>',
    ],
    [
      'settings given twice',
      clients('<settings/>', '<settings/>', `<client ip="10.0.0.5" ${ok}/>`),
      '3: <settings> given more than once (first at line 2)',
    ],
    [
      'smtp without from',
      clients('<smtp host="127.0.0.1"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: smtp is missing from',
    ],
    [
      'smtp password without user',
      clients('<smtp host="127.0.0.1" from="a@b" password-env="P"/>', `<client ip="10.0.0.5" ${ok}/>`),
      '2: smtp has a password but no user',
    ],
    ['wrong root element', '<hosts>\n</hosts>', '1: root element is <hosts>; expected <clients>'],
  ])('%s', (_name, xml, expected) => {
    const env = { PW: 'x', P: 'y' };
    expect(errorsOf(xml, env)).toEqual([`${FILE}:${expected}`]);
  });

  it('reports a duplicate client (same ip and port) with both lines', () => {
    const xml = clients(
      `<client ip="10.0.0.5" ${ok}/>`,
      `<client ip="10.0.0.6" ${ok}/>`,
      `<client ip="10.0.0.5" port="22" ${ok} name="again"/>`,
    );
    expect(errorsOf(xml)).toEqual([`${FILE}:4: duplicate client 10.0.0.5 port 22 (lines 2 and 4)`]);
  });

  it('does not call the same ip on another port a duplicate', () => {
    expect(errorsOf(clients(`<client ip="10.0.0.5" ${ok}/>`, `<client ip="10.0.0.5" port="2222" ${ok}/>`))).toEqual([]);
  });

  it('reports all errors of the file, not just the first, in line order', () => {
    const xml = clients(
      '<client ip="10.0.0.300" username="ops" agent="true">',
      '  <alert type="mem" limit="50%"/>',
      '  <alert type="cpu" limit="150%"/>',
      '</client>',
      '<client ip="10.0.0.7" port="99999" agent="true"/>',
    );
    expect(errorsOf(xml)).toEqual([
      `${FILE}:2: client ip "10.0.0.300" is not an IPv4 or IPv6 address or a host name`,
      `${FILE}:3: alert type "mem" is not one of memory, cpu, disk, swap, load, unreachable`,
      `${FILE}:4: alert limit "150%" is over 100%`,
      `${FILE}:6: client is missing username`,
      `${FILE}:6: client port "99999" is not a port (a whole number from 1 to 65535)`,
    ]);
    expect(() => parseConfig(xml, FILE)).toThrow(ConfigError);
  });
});

describe('warnings are not fatal', () => {
  it('warns about a plaintext password and still returns the config', () => {
    const result = analyzeConfig(clients('<client ip="10.0.0.5" username="ops" password="x"/>'), FILE);
    expect(result.config?.clients).toHaveLength(1);
    expect(result.issues.map(formatIssue)).toEqual([
      `${FILE}:2: plaintext password for client 10.0.0.5; prefer password-file or password-env`,
    ]);
    expect(result.issues[0]!.severity).toBe('warning');
  });

  it('warns when clients want mail but there is no <smtp>', () => {
    const result = analyzeConfig(clients(`<client ip="10.0.0.5" mail="ops@corp" ${ok}/>`), FILE);
    expect(result.issues.map(formatIssue)).toEqual([
      `${FILE}:1: clients have mail or alerts but there is no <smtp>; no mail will be sent`,
    ]);
  });

  it('warns about a plaintext database password', () => {
    const result = analyzeConfig(
      clients('<database url="postgres://u:pw@db/fleet"/>', `<client ip="10.0.0.5" ${ok}/>`),
      FILE,
    );
    expect(result.config).toBeDefined();
    expect(result.issues.map(formatIssue)).toEqual([
      `${FILE}:2: plaintext database password in the config; prefer <database url-env="VAR"/>`,
    ]);
  });

  it('warns about an empty client list', () => {
    const result = analyzeConfig('<clients/>', FILE);
    expect(result.config?.clients).toEqual([]);
    expect(result.issues.map(formatIssue)).toEqual([`${FILE}:1: no <client> elements; nothing will be collected`]);
  });
});
