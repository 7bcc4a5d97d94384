/**
 * A collection round through the real CLI over a config built the way a large fleet is written:
 * <defaults>, groups in included files, an IPv4 range, a CIDR block and a host-list file, against
 * real sshd hosts. Each address is its own host with its own name, samples and alert state.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { fleetstat } from './support/cli.js';
import { startRangeFleet } from './support/range-fleet.js';
import type { SshdFleet } from './support/sshd.js';

describe('a round over groups, ranges, a CIDR block, a host list and includes', () => {
  let fleet: SshdFleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startRangeFleet('127.0.80', 1, 5);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-cfground-'));
    const port = fleet.hosts[0]!.port;
    const files: Record<string, string> = {
      'config.xml': [
        '<clients>',
        `  <settings database="sqlite:fleet.sqlite" known-hosts="${fleet.knownHostsPath}" cpu-sample="200"/>`,
        `  <defaults username="${fleet.user}" password-file="${fleet.passwordFile}" port="${port}" mail="ops@example.test">`,
        '    <alert type="unreachable"/>',
        '    <alert type="memory" limit="100%"/>',
        '  </defaults>',
        '  <include path="conf.d/*.xml"/>',
        '</clients>',
      ].join('\n'),
      'conf.d/10-web.xml': [
        '<clients>',
        `  <group name="web" key="${fleet.clientKeyPath}">`,
        '    <alert type="memory" limit="0%"/>',
        '    <client ip="127.0.80.1-2" name="web-{ip}"/>',
        '  </group>',
        '</clients>',
      ].join('\n'),
      'conf.d/20-db.xml': '<clients>\n  <group name="db"><client hosts-file="../hosts/db.txt"/></group>\n</clients>\n',
      'conf.d/30-cache.xml':
        '<clients>\n  <group name="cache"><client ip="127.0.80.4/31" name="cache-{ip}"><alert type="memory" drop="true"/></client></group>\n</clients>\n',
      'hosts/db.txt': '# the database machine\n127.0.80.3\n',
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text, { mode: 0o600 });
    }
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('collects every expanded host, twice, each with its own name, history and inherited rules', async () => {
    const config = join(dir, 'config.xml');
    for (let round = 0; round < 2; round++) {
      const result = await fleetstat(['collect', '--config', config, '--json', '--quiet']);
      expect(result.stderr.trim()).toBe(
        `${config}:1: warning: clients have mail or alerts but there is no <smtp>; no mail will be sent`,
      );
      expect(JSON.parse(result.stdout)).toMatchObject({ hosts_ok: 5, hosts_failed: 0 });
    }
    const store = await openStore(`sqlite:${join(dir, 'fleet.sqlite')}`);
    try {
      const hosts = await store.db.selectFrom('hosts').select(['id', 'ip', 'name']).orderBy('ip').execute();
      expect(hosts.map((h) => `${h.ip} ${h.name}`)).toEqual([
        '127.0.80.1 web-127.0.80.1',
        '127.0.80.2 web-127.0.80.2',
        '127.0.80.3 127.0.80.3',
        '127.0.80.4 cache-127.0.80.4',
        '127.0.80.5 cache-127.0.80.5',
      ]);
      const samples = await store.db.selectFrom('samples').select(['host_id']).execute();
      for (const host of hosts) expect(samples.filter((s) => s.host_id === host.id)).toHaveLength(2);
      const alerts = await store.db
        .selectFrom('alerts')
        .innerJoin('hosts', 'hosts.id', 'alerts.host_id')
        .select(['hosts.name', 'alerts.rule', 'alerts.state', 'alerts.limit_value'])
        .where('alerts.rule', '=', 'memory')
        .orderBy('hosts.name')
        .execute();
      // web's 0% rule fires; db inherits the defaults' 100% rule; cache dropped memory.
      expect(alerts.map((a) => `${a.name} ${a.state} ${a.limit_value}`)).toEqual([
        '127.0.80.3 ok 100',
        'web-127.0.80.1 firing 0',
        'web-127.0.80.2 firing 0',
      ]);
    } finally {
      await store.close();
    }
  });
});
