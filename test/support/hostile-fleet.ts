/**
 * A loopback sshd fleet whose hosts misbehave on demand: every session goes through
 * hostile-wrapper.sh (ForceCommand), which looks up the host's mode in a file, so a test sets
 * `fleet.setMode(host, 'stall-run 60')` and the next run on that host stalls. Each host gets
 * its own TMPDIR, so temp-file leftovers are checked per host, never mixed with other tests'.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { startFleet, TEST_USER, type SshdFleet, type SshdInstance } from './sshd.js';

const WRAPPER = new URL('./hostile-wrapper.sh', import.meta.url).pathname;
const SH_SHIM = new URL('./hostile-sh.sh', import.meta.url).pathname;
const REPLY = new URL('../fixtures/hostile/reply.mjs', import.meta.url).pathname;
const PAYLOADS = new URL('../fixtures/hostile/payloads.json', import.meta.url).pathname;

/** What a host does; see hostile-wrapper.sh. `reply` kinds are those of fixtures/hostile/reply.mjs. */
export type HostMode =
  'normal' | `tmpdir ${string}` | `path ${string}` | `stall-run ${number}` | 'kill-mid-reply' | `reply ${string}`;

export interface FaultFleet extends SshdFleet {
  /** The directory the wrapper works in (modes/, tmp/, results/). */
  faultDir: string;
  setMode(host: SshdInstance, mode: HostMode): void;
  /** The host's own TMPDIR on the target side. */
  tmpOf(host: SshdInstance): string;
  /** Entries left in the host's TMPDIR (fleetstat.* directories of killed or stalled runs). */
  leftovers(host: SshdInstance): string[];
  /** What reply.mjs recorded for the host (e.g. bytes written before the pipe closed). */
  result(host: SshdInstance): unknown;
}

/** uid and gid of a local account (the test account by default), from /etc/passwd. */
export function testAccountIds(user = TEST_USER): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no local account ${user}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const hostKey = (host: Pick<SshdInstance, 'address' | 'port'>) => `${host.address}_${host.port}`;

/** Starts `count` wrapped sshd hosts; `extraConfig` lines are added after the ForceCommand. */
export async function startFaultFleet(
  count: number,
  opts: { firstIndex?: number; extraConfig?: string[] } = {},
): Promise<FaultFleet> {
  const { uid, gid } = testAccountIds();
  // The wrapper and its files live in a world-readable directory: the test account runs them.
  const faultDir = execFileSync('mktemp', ['-d', '/tmp/fleetstat-faults-XXXXXX'], { encoding: 'utf8' }).trim();
  chmodSync(faultDir, 0o755);
  copyFileSync(WRAPPER, join(faultDir, 'wrapper.sh'));
  chmodSync(join(faultDir, 'wrapper.sh'), 0o755);
  copyFileSync(REPLY, join(faultDir, 'reply.mjs'));
  copyFileSync(PAYLOADS, join(faultDir, 'payloads.json'));
  for (const sub of ['modes', 'tmp', 'results', 'shim']) mkdirSync(join(faultDir, sub), { mode: 0o755 });
  copyFileSync(SH_SHIM, join(faultDir, 'shim', 'sh'));
  chmodSync(join(faultDir, 'shim', 'sh'), 0o755);
  for (const sub of ['tmp', 'results']) chownSync(join(faultDir, sub), uid, gid);
  // Other local accounts (the locked-account test) make their own per-host TMPDIR here too.
  chmodSync(join(faultDir, 'tmp'), 0o1777);

  const fleet = await startFleet(count, {
    firstIndex: opts.firstIndex,
    extraConfig: [`ForceCommand ${join(faultDir, 'wrapper.sh')} ${faultDir}`, ...(opts.extraConfig ?? [])],
  });
  return {
    ...fleet,
    faultDir,
    setMode(host, mode) {
      writeFileSync(join(faultDir, 'modes', hostKey(host)), `${mode}\n`, { mode: 0o644 });
    },
    tmpOf: (host) => join(faultDir, 'tmp', hostKey(host)),
    leftovers(host) {
      const dir = join(faultDir, 'tmp', hostKey(host));
      return existsSync(dir) ? readdirSync(dir) : [];
    },
    result(host) {
      const file = join(faultDir, 'results', hostKey(host));
      return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
    },
    async stop() {
      await fleet.stop();
      rmSync(faultDir, { recursive: true, force: true });
    },
  };
}

/** A directory of symlinks to every command on this machine except `missing` (a PATH lacking it). */
export function pathWithout(dir: string, missing: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const source of ['/usr/local/bin', '/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    if (!existsSync(source)) continue;
    for (const name of readdirSync(source)) {
      if (name === missing || existsSync(join(dir, name))) continue;
      symlinkSync(join(source, name), join(dir, name));
    }
  }
  return dir;
}

/** A root-owned directory nobody else may write into (a read-only temp area). */
export function readOnlyDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o555);
  return dir;
}

/**
 * Mounts a tiny tmpfs at `dir` (world-writable like /tmp) and fills it, so creating a file in
 * it fails with ENOSPC. Returns the unmount function. Needs root.
 */
export function fullTmpfs(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=1777', 'fleetstat-full', dir]);
  try {
    execFileSync('sh', ['-c', 'cat /dev/zero > "$1/filler"', 'fill', dir], { stdio: 'ignore' });
  } catch {
    // cat ends with ENOSPC: the area is now full, which is the point.
  }
  return () => {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  };
}
