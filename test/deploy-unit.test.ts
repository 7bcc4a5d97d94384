/**
 * deploy/fleetstat.service as shipped: `systemd-analyze verify` accepts it, its sandbox scores as
 * hardened in `systemd-analyze security --offline=yes`, and it runs `serve` with options the CLI
 * really has. systemd is not PID 1 here, so the service itself is not started.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool } from './support/requirements.js';
import { CLI, fleetstat } from './support/cli.js';

const UNIT = new URL('../deploy/fleetstat.service', import.meta.url).pathname;
const analyze = requireTool('systemd-analyze', 'the unit file is checked with systemd-analyze verify and security');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(analyze!, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** The unit's `Key=value` lines (the last one wins for single-valued keys, as in systemd). */
function settings(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1]!, [...(map.get(match[1]!) ?? []), match[2]!]);
  }
  return map;
}

describe.skipIf(!analyze)('deploy/fleetstat.service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const text = readFileSync(UNIT, 'utf8');
  const unit = settings(text);

  it('passes systemd-analyze verify', async () => {
    // verify insists that ExecStart's program exists; `fleetstat` is not installed on this
    // machine, so only that word is swapped for a wrapper around the built CLI.
    const wrapper = join(dir, 'fleetstat');
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    const copy = join(dir, 'fleetstat.service');
    const swapped = text.replace(/^ExecStart=fleetstat /m, `ExecStart=${wrapper} `);
    expect(swapped).not.toBe(text);
    writeFileSync(copy, swapped);
    const result = await run(['verify', copy]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('is hardened: exposure level at most 2.0 in systemd-analyze security', async () => {
    const result = await run(['security', '--offline=yes', '--no-pager', UNIT]);
    const match = /Overall exposure level for fleetstat\.service: ([\d.]+)/.exec(result.stdout + result.stderr);
    expect(match, result.stdout + result.stderr).not.toBeNull();
    console.log(`systemd-analyze security exposure: ${match![1]}`);
    expect(Number(match![1])).toBeLessThanOrEqual(2.0);
  });

  it('runs as its own user with an empty capability set, state in StateDirectory and config in /etc/fleetstat', () => {
    expect(unit.get('User')).toEqual(['fleetstat']);
    expect(unit.get('CapabilityBoundingSet')).toEqual(['']);
    expect(unit.get('StateDirectory')).toEqual(['fleetstat']);
    expect(unit.get('ProtectSystem')).toEqual(['strict']);
    expect(unit.get('NoNewPrivileges')).toEqual(['yes']);
    expect(unit.get('ExecStart')![0]).toContain('--config /etc/fleetstat/config.xml');
    expect(unit.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
  });

  it("uses only options serve has, and waits longer than serve's grace on stop", async () => {
    const help = await fleetstat(['serve', '--help']);
    expect(help.code).toBe(0);
    const options = unit
      .get('ExecStart')![0]!
      .split(/\s+/)
      .filter((word) => word.startsWith('--'));
    for (const option of options) expect(help.stdout, option).toContain(option);
    const grace = Number(/--grace <seconds>.*\(default: "?(\d+)"?\)/.exec(help.stdout.replace(/\n\s+/g, ' '))?.[1]);
    expect(grace).toBeGreaterThan(0);
    expect(Number.parseInt(unit.get('TimeoutStopSec')![0]!, 10)).toBeGreaterThan(grace);
  });
});
