/**
 * The CLI's own surface: --help on every command, `config check` output and exit codes, and
 * the exit codes of collect for a bad config and bad usage.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { fleetstat } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('fleetstat CLI', () => {
  it.each([
    [[]],
    [['collect']],
    [['serve']],
    [['config', 'check']],
    [['db', 'migrate']],
    [['db', 'prune']],
    [['hosts', 'test']],
    [['hosts', 'scan']],
    [['hosts', 'add']],
    [['config', 'show']],
    [['config', 'init']],
  ])('%j --help describes the command and exits 0', async (words) => {
    const result = await fleetstat([...words, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: fleetstat/m);
  });

  it('config check: a valid file is ok; warnings are marked, errors give file:line and exit 3', async () => {
    const good = configFile(
      'good.xml',
      '<clients>\n  <client ip="10.0.0.5" username="ops" password-env="HOME"/>\n</clients>\n',
    );
    const ok = await fleetstat(['config', 'check', good]);
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.stdout).toBe(`${good}: ok, 1 client\n`);

    const plaintext = configFile(
      'plain.xml',
      '<clients>\n  <client ip="10.0.0.5" username="ops" password="hunter2-secret"/>\n</clients>\n',
      0o644,
    );
    const warned = await fleetstat(['config', 'check', plaintext]);
    expect(warned.code).toBe(EXIT.ok);
    expect(warned.stderr).toMatch(new RegExp(`^${plaintext}:2: warning: plaintext password`, 'm'));
    expect(warned.stderr).toMatch(/warning: .*readable/);
    expect(warned.stderr + warned.stdout).not.toContain('hunter2-secret');

    const bad = configFile(
      'bad.xml',
      '<clients>\n  <client ip="10.0.0.5" username="ops" password-env="HOME">\n    <alert type="mem" limit="50%"/>\n    <alert type="cpu" limit="150%"/>\n  </client>\n</clients>\n',
    );
    const failed = await fleetstat(['config', 'check', bad]);
    expect(failed.code).toBe(EXIT.configInvalid);
    expect(failed.stderr).toMatch(new RegExp(`^${bad}:3: .*"mem".*memory`, 'm'));
    expect(failed.stderr).toMatch(new RegExp(`^${bad}:4: .*150%`, 'm'));
  });

  it('collect: an invalid config exits 3 before anything else; bad usage exits 2', async () => {
    const bad = configFile(
      'bad-collect.xml',
      '<clients>\n  <client ip="10.0.0.300" username="ops" password-env="HOME"/>\n</clients>\n',
    );
    const result = await fleetstat(['collect', '--config', bad, '--db', `sqlite:${join(dir, 'never.sqlite')}`]);
    expect(result.code).toBe(EXIT.configInvalid);
    expect(result.stderr).toMatch(new RegExp(`^${bad}:2: `, 'm'));
    expect((await fleetstat(['collect'])).code).toBe(EXIT.usage);
    expect((await fleetstat(['no-such-command'])).code).toBe(EXIT.usage);
    expect((await fleetstat(['config', 'check', join(dir, 'missing.xml')])).code).toBe(EXIT.configInvalid);
  });
});
