/**
 * Runs the real src/probe/probe.sh for the probe tests: under a chosen shell, with a given input
 * line, environment and PATH shims that replay recorded tool output (df, who, journalctl).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const PROBE_PATH = resolve(import.meta.dirname, '../src/probe/probe.sh');
export const FIXTURES = resolve(import.meta.dirname, 'fixtures/proc');

export interface ProbeRun {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** argv of the shell, e.g. ['dash'] or ['busybox', 'ash']. */
  shell?: string[];
  env?: Record<string, string | undefined>;
  /** Called right after the probe starts (e.g. to swap a fixture file mid-run). */
  started?: () => void;
  timeoutMs?: number;
}

/** Runs the probe with `input` on stdin and collects its output. */
export function runProbe(input: string, opts: RunOptions = {}): Promise<ProbeRun> {
  const [cmd, ...args] = opts.shell ?? ['dash'];
  const env: Record<string, string | undefined> = { ...process.env, TZ: 'UTC', ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const t0 = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(cmd!, [...args, PROBE_PATH], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - t0 });
    });
    child.stdin.end(input);
    opts.started?.();
  });
}

/** A temp dir of PATH shims; `remove()` deletes it. */
export interface ShimDir {
  dir: string;
  remove(): void;
}

/**
 * Makes a directory of shims: `replay` maps a tool name to a file whose content it prints,
 * `scripts` maps a tool name to a sh script body, `links` maps a name to a real program.
 */
export function makeShims(spec: {
  replay?: Record<string, string>;
  scripts?: Record<string, string>;
  links?: Record<string, string>;
}): ShimDir {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-shims-'));
  for (const [name, file] of Object.entries(spec.replay ?? {})) {
    writeFileSync(join(dir, name), `#!/bin/sh\nexec cat '${file}'\n`, { mode: 0o755 });
  }
  for (const [name, body] of Object.entries(spec.scripts ?? {})) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  for (const [name, target] of Object.entries(spec.links ?? {})) symlinkSync(target, join(dir, name));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PATH holding only busybox applets and openssl: what an Alpine-like host offers. */
export function busyboxOnlyPath(): ShimDir | undefined {
  const busybox = which('busybox');
  const openssl = which('openssl');
  if (!busybox || !openssl) return undefined;
  const links: Record<string, string> = { openssl };
  for (const applet of ['awk', 'cat', 'date', 'df', 'id', 'sleep', 'tail', 'timeout', 'uname', 'who', 'ps']) {
    links[applet] = busybox;
  }
  return makeShims({ links });
}

/** Full path of a program on PATH, or undefined. */
export function which(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : undefined;
}

/** Copies nothing: makes an empty private temp dir (for TMPDIR checks and swapped fixtures). */
export function emptyDir(prefix: string): ShimDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
