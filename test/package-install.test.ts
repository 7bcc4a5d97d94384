/**
 * The package as a sysadmin gets it: `npm pack` of this tree (dist/ built by pretest), installed
 * with `npm install -g --prefix EMPTYDIR` from the tarball, then the installed `fleetstat` run:
 * --version, config init + config check, and a real round against a loopback sshd.
 * npm takes dependencies from the machine's npm cache; better-sqlite3 is compiled from source.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { writeFleetConfig } from './support/fleet-config.js';

const ROOT = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without npm's lifecycle variables (npm_config_prefix & co. when run by npm test). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

function run(command: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: cleanEnv(), maxBuffer: 32 << 20, timeout: options.timeoutMs ?? 120_000 },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the packed package, installed into an empty prefix', () => {
  let work: string;
  let tarball: string;
  let prefix: string;
  let bin: string;
  let fleet: SshdFleet | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'fleetstat-pack-'));
    prefix = join(work, 'prefix');
    // --ignore-scripts: prepack would rebuild dist/, which pretest has just built.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
    expect(pack.code, pack.stderr).toBe(0);
    tarball = join(work, JSON.parse(pack.stdout)[0].filename);
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {
      cwd: work,
      timeoutMs: 1_200_000,
    });
    expect(install.code, install.stderr).toBe(0);
    bin = join(prefix, 'bin', 'fleetstat');
    fleet = await startFleet(1);
  }, 1_500_000);

  afterAll(async () => {
    await fleet?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('holds built output, probes, assets, docs and the unit file, and no sources, tests or maps', async () => {
    const listing = await run('tar', ['tzf', tarball]);
    const files = listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    for (const wanted of [
      'package.json',
      'README.md',
      'dist/cli/main.js',
      'dist/probe/probe.sh',
      'dist/probe/probe.ps1',
      'dist/web/assets/style.css',
      'deploy/fleetstat.service',
      'docs/config.md',
      'docs/deploy.md',
      'docs/schema.md',
    ]) {
      expect(files, wanted).toContain(wanted);
    }
    expect(
      files.filter(
        (f) => /^(src|test|bench|scripts|node_modules)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'),
      ),
    ).toEqual([]);
    console.log(`package: ${(statSync(tarball).size / 1024).toFixed(0)} KiB packed, ${files.length} files`);
  });

  it('states the Node.js versions it supports and is not private', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.engines.node).toBe('>=20');
    expect(Array.isArray(pkg.files)).toBe(true);
  });

  it('installs only runtime dependencies', () => {
    const modules = readdirSync(join(prefix, 'lib', 'node_modules', 'fleetstat', 'node_modules'));
    for (const name of Object.keys(pkg.dependencies)) expect(modules).toContain(name);
    for (const name of ['vitest', 'typescript', 'tsx', 'playwright-core', 'smtp-server', 'fast-check'])
      expect(modules).not.toContain(name);
  });

  it('prints its version', async () => {
    const result = await run(bin, ['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('writes a starter config that config check accepts, and never overwrites it', async () => {
    const config = join(work, 'starter.xml');
    const init = await run(bin, ['config', 'init', config, '--state-dir', join(work, 'state')]);
    expect(init.code, init.stderr).toBe(0);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readFileSync(config, 'utf8')).toContain(`database="sqlite:${join(work, 'state', 'fleetstat.sqlite')}"`);
    const check = await run(bin, ['config', 'check', config]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('ok, 0 clients');
    const again = await run(bin, ['config', 'init', config]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('collects a real round from a loopback sshd into SQLite', async () => {
    const dir = mkdtempSync(join(work, 'round-'));
    const database = join(dir, 'fleetstat.sqlite');
    const config = writeFleetConfig(fleet!, {
      dir,
      databaseUrl: `sqlite:${database}`,
      clients: [{ host: fleet!.hosts[0]!, auth: 'key', name: 'packed' }],
    });
    const result = await run(bin, ['collect', '--config', config, '--json'], { timeoutMs: 180_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ hosts_ok: 1, hosts_failed: 0 });
    expect(existsSync(database)).toBe(true);
  });
});
