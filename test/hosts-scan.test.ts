/**
 * `fleetstat hosts scan` against real sshd hosts: fingerprints as ssh-keygen prints them, new
 * keys recorded only after confirmation (or --yes), a changed key never replaced.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { CLI, type CliResult } from './support/cli.js';
import { startRangeFleet } from './support/range-fleet.js';
import type { SshdFleet } from './support/sshd.js';

/** Runs the CLI with `input` on stdin (then end of input). */
function run(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The SHA256 fingerprint of a public key file, as ssh-keygen prints it. */
function keygenFingerprint(pubFile: string): string {
  return execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' }).split(/\s+/)[1]!;
}

describe('fleetstat hosts scan', () => {
  let fleet: SshdFleet;
  let dir: string;
  let config: string;
  let knownHosts: string;
  let strangerLine: string;

  beforeAll(async () => {
    fleet = await startRangeFleet('127.0.78', 1, 3);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-scan-'));
    knownHosts = join(dir, 'known_hosts');
    // Host 1 recorded correctly; host 2 recorded with another key (as if reinstalled, or an
    // attacker); host 3 not recorded at all.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
    const [type, blob] = readFileSync(join(dir, 'stranger.pub'), 'utf8').split(/\s+/);
    const [h1, h2] = fleet.hosts;
    strangerLine = `[${h2!.address}]:${h2!.port} ${type} ${blob}`;
    writeFileSync(knownHosts, `${h1!.knownHostsLine}\n${strangerLine}\n`, { mode: 0o600 });
    config = join(dir, 'config.xml');
    writeFileSync(
      config,
      [
        '<clients>',
        `  <settings known-hosts="known_hosts" database="sqlite::memory:"/>`,
        `  <group name="scan" username="${fleet.user}" key="${fleet.clientKeyPath}" port="${h1!.port}">`,
        `    <client ip="127.0.78.1-127.0.78.3" name="s-{ip}"/>`,
        '  </group>',
        '</clients>',
      ].join('\n'),
      { mode: 0o600 },
    );
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows every fingerprint, marks the changed key, and records nothing when the answer is no', async () => {
    const result = await run(['hosts', 'scan', '-c', config], 'n\n');
    const [h1, h2, h3] = fleet.hosts.map((h) => ({ ...h, print: keygenFingerprint(`${h.hostKeyPath}.pub`) }));
    expect(result.stdout).toContain(`known    s-127.0.78.1 ([127.0.78.1]:${h1!.port}) ssh-ed25519 ${h1!.print}`);
    expect(result.stdout).toContain(
      `CHANGED  s-127.0.78.2 ([127.0.78.2]:${h2!.port}) presents ssh-ed25519 ${h2!.print}, but ${knownHosts} line 2 (ssh-ed25519 ${keygenFingerprint(join(dir, 'stranger.pub'))}) records another key`,
    );
    expect(result.stdout).toContain(`NEW      s-127.0.78.3 ([127.0.78.3]:${h3!.port}) ssh-ed25519 ${h3!.print}`);
    expect(result.stderr).toContain(`Record 1 new host key in ${knownHosts}?`);
    expect(result.stdout).toContain('nothing recorded');
    expect(result.code).toBe(EXIT.hostsFailed);
    expect(readFileSync(knownHosts, 'utf8')).toBe(`${fleet.hosts[0]!.knownHostsLine}\n${strangerLine}\n`);
  });

  it('records the new key after "y", never the changed one, and the next scan knows it', async () => {
    const result = await run(['hosts', 'scan', '-c', config], 'y\n');
    expect(result.stdout).toContain(`recorded 1 host key in ${knownHosts}`);
    const lines = readFileSync(knownHosts, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(strangerLine); // the changed host's old key is untouched
    expect(lines[2]).toBe(fleet.hosts[2]!.knownHostsLine);
    const again = await run(['hosts', 'scan', '-c', config, 's-127.0.78.3', '127.0.78.1'], '');
    expect(again.code).toBe(EXIT.ok);
    expect(
      again.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['known', 'known']);
  });

  it('--yes records without asking; an unreachable host is FAILED, not trusted', async () => {
    writeFileSync(knownHosts, '', { mode: 0o600 });
    const [h1] = fleet.hosts;
    writeFileSync(config, readFileSync(config, 'utf8').replace('127.0.78.1-127.0.78.3', '127.0.78.1, 127.0.78.9'));
    const result = await run(['hosts', 'scan', '-c', config, '--yes'], '');
    expect(result.stderr).not.toContain('Record');
    expect(result.stdout).toMatch(/^FAILED {3}s-127\.0\.78\.9 .*connection refused/m);
    expect(readFileSync(knownHosts, 'utf8')).toBe(`${h1!.knownHostsLine}\n`);
    expect(result.code).toBe(EXIT.hostsFailed);
  });
});

describe('fleetstat hosts add', () => {
  let fleet: SshdFleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startRangeFleet('127.0.79', 1, 2);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-add-'));
  });
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends to the host list, scans the new host and records its key; a duplicate is refused and undone', async () => {
    const [h1, h2] = fleet.hosts;
    const list = join(dir, 'hosts.txt');
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(list, `# web\n${h1!.address}`, { mode: 0o600 });
    writeFileSync(knownHosts, `${h1!.knownHostsLine}\n`, { mode: 0o600 });
    const config = join(dir, 'config.xml');
    writeFileSync(
      config,
      `<clients>\n<settings known-hosts="known_hosts"/>\n<group username="${fleet.user}" key="${fleet.clientKeyPath}" port="${h1!.port}">\n<client hosts-file="hosts.txt"/>\n</group>\n</clients>\n`,
      { mode: 0o600 },
    );

    const added = await run(['hosts', 'add', '-c', config, '--to', list, h2!.address, '--yes'], '');
    expect(added.stdout).toContain(`added 1 host to ${list}`);
    expect(added.stdout).toContain(
      `NEW      ${h2!.address} ([${h2!.address}]:${h2!.port}) ssh-ed25519 ${keygenFingerprint(`${h2!.hostKeyPath}.pub`)}`,
    );
    expect(added.code).toBe(EXIT.ok);
    expect(readFileSync(list, 'utf8')).toBe(`# web\n${h1!.address}\n${h2!.address}\n`);
    expect(readFileSync(knownHosts, 'utf8')).toBe(`${h1!.knownHostsLine}\n${h2!.knownHostsLine}\n`);

    const again = await run(['hosts', 'add', '-c', config, '--to', list, h1!.address], '');
    expect(again.code).toBe(EXIT.configInvalid);
    expect(again.stderr).toContain(`host ${h1!.address} is listed twice (lines 2 and 4)`);
    expect(readFileSync(list, 'utf8')).toBe(`# web\n${h1!.address}\n${h2!.address}\n`);

    const elsewhere = await run(['hosts', 'add', '-c', config, '--to', join(dir, 'other.txt'), '127.0.79.9'], '');
    expect(elsewhere.code).toBe(EXIT.usage);
    expect(elsewhere.stderr).toContain('is not a hosts-file of');
  });
});
