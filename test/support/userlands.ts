/**
 * Userlands the probe runs in for the target tests: a busybox-only root (with and without
 * openssl), a debootstrap minbase Debian, and this machine's own, each entered in a private
 * mount namespace (userland-ns.sh) that places a test's files (os-release, auth.log, utmp,
 * awkward mount points) without touching anything outside it. The roots are built once by
 * scripts/test-userlands.sh into a cache (prepare-machine.sh warms it) and reused.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeRun } from '../probe-runner.js';
import { PROBE_PATH } from '../probe-runner.js';
import { testAccountIds } from './hostile-fleet.js';

/** Where the roots are cached (scripts/test-userlands.sh uses the same variable). */
export const USERLAND_CACHE = process.env.FLEETSTAT_USERLAND_CACHE ?? '/var/cache/fleetstat-test';
const BUILD_SCRIPT = new URL('../../scripts/test-userlands.sh', import.meta.url).pathname;
/** The namespace entry script (bash, run as root). */
export const NS_SCRIPT = new URL('./userland-ns.sh', import.meta.url).pathname;

/** The cached userlands (scripts/test-userlands.sh). */
export type UserlandName = 'busybox' | 'busybox-openssl' | 'debian';

export interface Userland {
  name: UserlandName;
  /** The root directory (root-owned, 0755: usable as sshd's ChrootDirectory). */
  root: string;
  /** PATH inside the root. */
  path: string;
}

/** The Debian suite of this machine (VERSION_CODENAME): the minbase root is built from it. */
export function debianSuite(): string {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.trim();
  if (!codename)
    throw new Error('/etc/os-release has no VERSION_CODENAME: cannot pick the Debian suite for debootstrap');
  return codename;
}

/**
 * The root of a userland, built first when the cache lacks it (debootstrap takes minutes the
 * first time; scripts/prepare-machine.sh warms the cache so tests find it ready).
 */
export function userland(name: UserlandName): Userland {
  const dir = name === 'debian' ? `debian-${debianSuite()}-minbase` : name;
  const root = join(USERLAND_CACHE, dir);
  execFileSync('bash', [BUILD_SCRIPT, name], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 });
  if (!existsSync(join(root, '.fleetstat-userland'))) throw new Error(`${BUILD_SCRIPT} ${name} made no ${root}`);
  return { name, root, path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
}

/** argv that runs `command` inside the private namespace prepared for `root` and `data`. */
export function inNamespace(root: string, data: string | undefined, command: string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'bash',
    NS_SCRIPT,
    root,
    data ?? '-',
    '--',
    ...command,
  ];
}

export interface ChrootProbeOptions {
  /** Files to place (see userland-ns.sh), e.g. writeAwkwardData(); none by default. */
  data?: string;
  /** The run is killed after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Runs src/probe/probe.sh inside `land` as the collector does (`sh probe.sh` from a private
 * temp directory, input line on stdin), as the test account, with a login-like environment
 * (only PATH and HOME set).
 */
export function runProbeInUserland(land: Userland, input: string, opts: ChrootProbeOptions = {}): Promise<ProbeRun> {
  // The probe travels in a private copy: the ns script puts a fresh tmpfs on the root's /tmp.
  const stage = mkdtempSync(join(tmpdir(), 'fleetstat-chroot-probe-'));
  chmodSync(stage, 0o755);
  copyFileSync(PROBE_PATH, join(stage, 'probe.sh'));
  chmodSync(join(stage, 'probe.sh'), 0o644);
  const { uid, gid } = testAccountIds();
  // Inside: copy the probe to the root's fresh /tmp (as the collector's upload does), run it there.
  const inner = `mkdir -m 700 '${land.root}/tmp/fleetstat.run' && chown ${uid}:${gid} '${land.root}/tmp/fleetstat.run' && cat > '${land.root}/tmp/fleetstat.run/probe.sh' < '${stage}/probe.sh' && exec chroot --userspec=${uid}:${gid} '${land.root}' env -i PATH='${land.path}' HOME=/ sh /tmp/fleetstat.run/probe.sh`;
  const argv = inNamespace(land.root, opts.data, ['sh', '-c', inner]);
  const t0 = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', fail);
    child.on('close', (status) => {
      clearTimeout(timer);
      rmSync(stage, { recursive: true, force: true });
      done({ status, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - t0 });
    });
    child.stdin.end(input);
  });
}
