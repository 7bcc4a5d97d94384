/** The overview's triage order and filters (src/web/pages/triage.ts), as pure logic. */
import { describe, expect, it } from 'vitest';
import { filterHosts, limitsByEndpoint, triageOrder } from '../src/web/pages/triage.js';
import type { Config } from '../src/config/types.js';
import type { FleetHost } from '../src/web/queries/fleet-hosts.js';

const host = (name: string, status: FleetHost['status'], firing = 0, ip = '10.0.0.1') => ({
  name,
  status,
  firing_alerts: firing,
  ip,
});

describe('triage', () => {
  const fleet = [
    host('a-up', 'up'),
    host('b-firing-1', 'up', 1),
    host('c-down', 'down'),
    host('d-unknown', 'unknown'),
    host('e-error', 'error'),
    host('f-firing-3', 'up', 3),
    host('g-down', 'down', 2, '192.0.2.7'),
  ];

  it('puts down, then error, then firing (most first), then never collected, then healthy hosts', () => {
    expect(triageOrder(fleet).map((h) => h.name)).toEqual([
      'g-down',
      'c-down',
      'e-error',
      'f-firing-3',
      'b-firing-1',
      'd-unknown',
      'a-up',
    ]);
  });

  it('filters by status group and by a name or address fragment, in any case', () => {
    expect(
      filterHosts(fleet, 'trouble', '')
        .map((h) => h.name)
        .sort(),
    ).toEqual(['b-firing-1', 'c-down', 'd-unknown', 'e-error', 'f-firing-3', 'g-down']);
    expect(filterHosts(fleet, 'firing', '').map((h) => h.name)).toEqual(['b-firing-1', 'f-firing-3', 'g-down']);
    expect(filterHosts(fleet, 'all', 'FIRING').map((h) => h.name)).toEqual(['b-firing-1', 'f-firing-3']);
    expect(filterHosts(fleet, 'down', '192.0.2').map((h) => h.name)).toEqual(['g-down']);
    expect(filterHosts(fleet, 'up', 'nothing')).toEqual([]);
  });

  it("takes each host's percentage limits from its alert rules", () => {
    const rule = (type: string, limit: number) => ({
      type,
      limit,
      forSeconds: 0,
      repeatSeconds: 14400,
      notify: 'on-change',
      line: 1,
    });
    const config = {
      clients: [
        { ip: '10.0.0.5', port: 22, alerts: [rule('memory', 50), rule('load', 4), rule('disk', 85)] },
        { ip: '10.0.0.6', port: 2222, alerts: [] },
      ],
    } as unknown as Config;
    const limits = limitsByEndpoint(config);
    expect(limits.get('10.0.0.5:22')).toEqual({ memory: 50, disk: 85 });
    expect(limits.get('10.0.0.6:2222')).toEqual({});
  });
});
