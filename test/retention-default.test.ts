/**
 * Retention is on by default (90 days) and can be turned off with `retention="off"`; `fleetstat
 * db prune --config` (for cron users of `collect`) applies the same setting.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeConfig, parseConfig } from '../src/config/index.js';
import { ensureHost } from '../src/store/hosts.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { saveReport } from '../src/store/save-report.js';
import { fleetstat } from './support/cli.js';
import { makeReport } from './support/report-factory.js';

const DAY = 86_400;
const settingsWith = (attributes: string) =>
  parseConfig(`<clients><settings ${attributes}/></clients>`, '/tmp/fleetstat-retention/config.xml').settings;

describe('the retention setting', () => {
  it('defaults to 90 days', () => {
    expect(settingsWith('').retentionSeconds).toBe(90 * DAY);
    expect(parseConfig('<clients/>', '/tmp/x/config.xml').settings.retentionSeconds).toBe(90 * DAY);
  });
  it('"off" keeps everything; a duration sets it', () => {
    expect(settingsWith('retention="off"').retentionSeconds).toBeUndefined();
    expect(settingsWith('retention="30d"').retentionSeconds).toBe(30 * DAY);
  });
  it('names "off" when a value is wrong', () => {
    const { issues } = analyzeConfig('<clients>\n<settings retention="10m"/>\n</clients>', '/tmp/x/config.xml');
    expect(issues.map((i) => `${i.line}: ${i.message}`)).toContain(
      '2: settings retention "10m" is under 3600 s (or "off" to keep everything)',
    );
  });
});

describe('fleetstat db prune --config without --older-than', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-retention-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prunes with the default retention, and refuses when it is off', async () => {
    const url = `sqlite:${join(dir, 'db.sqlite')}`;
    const store = await openStore(url);
    try {
      await migrate(store);
      const hostId = await ensureHost(store, { ip: '10.0.0.1', port: 22, name: 'a' });
      for (const daysAgo of [100, 1]) {
        await saveReport(store, {
          hostId,
          roundId: null,
          collectedAt: new Date(Date.now() - daysAgo * DAY * 1000),
          report: makeReport(),
        });
      }
    } finally {
      await store.close();
    }
    const config = join(dir, 'config.xml');
    writeFileSync(config, `<clients><settings database="${url}"/></clients>`, { mode: 0o600 });
    const pruned = await fleetstat(['db', 'prune', '--config', config]);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(/samples 1\b/); // the 100-day-old one; the 1-day-old one stays

    writeFileSync(config, `<clients><settings database="${url}" retention="off"/></clients>`, { mode: 0o600 });
    const off = await fleetstat(['db', 'prune', '--config', config]);
    expect(off.code).toBe(2);
    expect(off.stderr).toMatch(/retention is "off"; give --older-than/);
  });
});
