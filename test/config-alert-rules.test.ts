/** Several alert rules per type: severity, mount, clear level, duplicates, mail modes. */
import { describe, expect, it } from 'vitest';
import { analyzeConfig, formatIssue, parseConfig } from '../src/config/index.js';

const FILE = '/cfg/config.xml';
const errorsOf = (xml: string): string[] =>
  analyzeConfig(xml, FILE, { env: {} })
    .issues.filter((i) => i.severity === 'error')
    .map(formatIssue);
const client = (...alerts: string[]): string =>
  [
    '<clients>',
    '<client ip="10.0.0.5" username="ops" agent="true">',
    ...alerts.map((a) => `  ${a}`),
    '</client>',
    '</clients>',
  ].join('\n');

describe('<alert> severity, mount and clear', () => {
  it('reads a warning/critical pair, a disk rule per mount and a clear level', () => {
    const config = parseConfig(
      client(
        '<alert type="memory" limit="80%" severity="warning"/>',
        '<alert type="memory" limit="95%" severity="critical"/>',
        '<alert type="disk" limit="90%"/>',
        '<alert type="disk" limit="80%" mount="/var" clear="70%"/>',
        '<alert type="load" limit="4" clear="2.5" severity="info"/>',
      ),
      FILE,
    );
    expect(config.clients[0]!.alerts.map((a) => [a.type, a.severity, a.limit, a.mount, a.clearLimit])).toEqual([
      ['memory', 'warning', 80, undefined, undefined],
      ['memory', 'critical', 95, undefined, undefined],
      ['disk', 'warning', 90, undefined, undefined],
      ['disk', 'warning', 80, '/var', 70],
      ['load', 'info', 4, undefined, 2.5],
    ]);
    expect(config.settings).toMatchObject({ alertMail: 'grouped', eventsMail: 'new-events' });
  });

  it.each([
    [
      'an exact duplicate, on its own line, naming the first',
      client('<alert type="memory" limit="80%"/>', '<alert type="memory" limit="80%"/>'),
      '/cfg/config.xml:4: alert duplicates the rule on line 3 (memory severity="warning"); give one of them another severity, or remove it',
    ],
    [
      'the same type and severity with another limit',
      client(
        '<alert type="cpu" limit="80%" severity="critical"/>',
        '<alert type="cpu" limit="90%" severity="critical"/>',
      ),
      '/cfg/config.xml:4: alert duplicates the rule on line 3 (cpu severity="critical"); give one of them another severity, or remove it',
    ],
    [
      'two disk rules on one mount',
      client('<alert type="disk" limit="80%" mount="/var"/>', '<alert type="disk" limit="90%" mount="/var"/>'),
      '/cfg/config.xml:4: alert duplicates the rule on line 3 (disk mount="/var" severity="warning"); give one of them another severity or mount, or remove it',
    ],
    [
      'a clear level at or above the limit',
      client('<alert type="memory" limit="80%" clear="80%"/>'),
      '/cfg/config.xml:3: alert clear "80%" must be below the limit (80): the alert resolves once the value falls to it',
    ],
    [
      'a mount on a rule that is not a disk rule',
      client('<alert type="memory" limit="80%" mount="/var"/>'),
      '/cfg/config.xml:3: alert type "memory" takes no mount; only disk rules watch one mount',
    ],
    [
      'an unknown severity',
      client('<alert type="memory" limit="80%" severity="urgent"/>'),
      '/cfg/config.xml:3: alert severity "urgent" is not one of info, warning, critical',
    ],
    [
      'a clear level on unreachable',
      client('<alert type="unreachable" clear="1"/>'),
      '/cfg/config.xml:3: alert type "unreachable" takes no clear level',
    ],
  ])('reports %s', (_name, xml, expected) => {
    expect(errorsOf(xml)).toEqual([expected]);
  });

  it('reads alert-mail and events-mail in settings and per client', () => {
    const config = parseConfig(
      [
        '<clients>',
        '<settings alert-mail="per-change" events-mail="every-run"/>',
        '<client ip="10.0.0.5" username="ops" agent="true" alert-mail="grouped" events-mail="new-events"/>',
        '</clients>',
      ].join('\n'),
      FILE,
    );
    expect(config.settings).toMatchObject({ alertMail: 'per-change', eventsMail: 'every-run' });
    expect(config.clients[0]).toMatchObject({ alertMail: 'grouped', eventsMail: 'new-events' });
    expect(errorsOf('<clients><settings alert-mail="digest"/></clients>')).toEqual([
      '/cfg/config.xml:1: settings alert-mail "digest" is not one of grouped, per-change',
    ]);
  });
});
