/**
 * The target matrix's building blocks (docs/targets.md): the shells and awks a Unix target may
 * have, an OpenSSL that lacks `enc -pbkdf2`/`-iter` as 1.0.2 does, and a recorded host whose
 * files hold awkward data (backslashes, quotes, tabs, kernel-escaped newlines, non-UTF-8
 * bytes, very long strings) in mount points, user names, the OS name and sshd log lines.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyDir, FIXTURES, makeShims, which, type ShimDir } from './probe-runner.js';
import { requireTool } from './support/requirements.js';

/**
 * How a shell runs the probe by itself: `full`; `ascii-only` (yash drops a command substitution's
 * output from its first non-ASCII byte on, so mount points with such bytes are skipped, with a
 * warning); `applets` (busybox ash runs its own df, who and awk whatever PATH says); `refuses`
 * (printf is no builtin there, so the probe exits 69 before any secret is used).
 */
export type ShellKind = 'full' | 'ascii-only' | 'applets' | 'refuses';

/** A shell as the target's `sh`: argv to run a script with, and how it runs the probe. */
export interface ShellCell {
  name: string;
  argv: string[];
  /** How it runs the probe where no dash or bash is on PATH. */
  kind: ShellKind;
  /** The probe reruns itself under dash or bash where PATH has one (then it is `full`). */
  reruns: boolean;
}

/** Every `sh` of the matrix whose program is installed (a missing one fails in CI). */
export function matrixShells(): ShellCell[] {
  const cells: [string, string, string[], ShellKind][] = [
    ['dash', 'dash', [], 'full'],
    ['bash --posix', 'bash', ['--posix'], 'full'],
    ['busybox ash', 'busybox', ['ash'], 'applets'],
    ['ksh93', 'ksh', [], 'full'],
    ['yash', 'yash', [], 'ascii-only'],
    ['zsh (sh emulation)', 'zsh', ['--emulate', 'sh'], 'full'],
    ['mksh', 'mksh', [], 'refuses'],
    ['posh', 'posh', [], 'refuses'],
  ];
  return cells.flatMap(([name, prog, args, kind]) => {
    const path = requireTool(prog, `the target matrix runs the probe under ${name}`);
    return path ? [{ name, argv: [path, ...args], kind, reruns: kind === 'ascii-only' || kind === 'refuses' }] : [];
  });
}

/** An awk of the matrix: a PATH directory whose `awk` is it, plus environment. */
export interface AwkCell {
  name: string;
  dir: ShimDir;
  env: Record<string, string>;
}

/** Every awk of the matrix whose program is installed. */
export function matrixAwks(): AwkCell[] {
  const out: AwkCell[] = [];
  const link = (name: string, prog: string, env: Record<string, string> = {}) => {
    const path = requireTool(prog, `the target matrix runs the probe with ${name}`);
    if (path) out.push({ name, dir: makeShims({ links: { awk: path } }), env });
  };
  link('gawk', 'gawk');
  link('mawk', 'mawk');
  link('original-awk', 'original-awk');
  const busybox = requireTool('busybox', 'the target matrix runs busybox awk');
  if (busybox)
    out.push({ name: 'busybox awk', dir: makeShims({ scripts: { awk: `exec '${busybox}' awk "$@"` } }), env: {} });
  link('gawk POSIXLY_CORRECT', 'gawk', { POSIXLY_CORRECT: '1' });
  return out;
}

/**
 * An `openssl` that behaves as 1.0.2 does where the probe could notice: `enc` refuses `-pbkdf2`
 * and `-iter` (unknown options), `version` says 1.0.2k; everything else is the real openssl.
 */
export function openssl102(): ShimDir {
  const real = which('openssl')!;
  return makeShims({
    scripts: {
      openssl: [
        'case " $* " in *" -pbkdf2 "*|*" -iter "*) echo "enc: unknown option \'-pbkdf2\'" >&2; echo "options are" >&2; exit 1;; esac',
        '[ "$1" = version ] && { echo "OpenSSL 1.0.2k-fips  26 Jan 2017"; exit 0; }',
        `exec '${real}' "$@"`,
      ].join('\n'),
    },
  });
}

/** What the awkward host's files hold, for the test to compare the report with. */
export const AWKWARD = {
  /** Mount-table fields: the kernel escapes space, tab, newline and backslash as octal. */
  mounts: [
    'rootfs / rootfs rw 0 0',
    '/dev/sda1 / ext4 rw,relatime 0 0',
    '/dev/sda1 / ext4 rw,relatime 0 0', // the same mount twice (a remount shows so on old kernels)
    '/dev/sdb1 /srv/back\\134slash\\011tab"q\'s ext4 rw 0 0',
    '/dev/sdb2 /srv/new\\012line ext4 rw 0 0',
    '/dev/sdb3 /srv/latin\xffbyte ext4 rw 0 0',
    `/dev/sdb4 /srv/${'L'.repeat(700)} ext4 rw 0 0`,
    '/dev/sdb1 /mnt/bind-of-sdb1 ext4 rw 0 0',
  ],
  /** df -P output for the mount points the probe may ask about (df prints them raw). */
  df: [
    'Filesystem     1024-blocks     Used Available Capacity Mounted on',
    '/dev/sda1         10000000  2500000   7000000      27% /',
    '/dev/sdb1          1000000   500000    500000      50% /srv/back\\slash\ttab"q\'s',
    '/dev/sdb3          2000000  1000000   1000000      50% /srv/latin\xffbyte',
    `/dev/sdb4          3000000  3000000         0     100% /srv/${'L'.repeat(700)}`,
  ],
  osRelease: 'NAME="Awkward"\nPRETTY_NAME="Evil \\"quoted\\" \\\\back\\\\slash Ünïcödé\ttab"\n',
  osName: 'Evil "quoted" \\back\\slash Ünïcödé\ttab',
  /** GNU who in the C locale: month-name dates. */
  whoGnu: [
    'alice    pts/0        Mar  5 08:15 (192.0.2.10)',
    `o\\'b"r  tty1         Mar  5 07:00`,
    `${'u'.repeat(100)} pts/1 Mar  5 07:30 (${'h'.repeat(300)})`,
  ],
  /** busybox who (1.36; 1.35 prints no header): idle time, ctime's date and seconds, host last. */
  whoBusybox: [
    'USER       TTY      IDLE      TIME            HOST',
    'alice      pts/0    00:00     Mar  5 08:15:00 192.0.2.10',
    'bob        tty1     ?         Mar  5 07:00:00 ',
  ],
  /** sshd log lines (syslog format of the year the test runs in). */
  log: [
    'Mar  5 09:00:01 awk sshd[201]: Failed password for invalid user b\\a"ck\tslash from 198.51.100.7 port 1 ssh2',
    'Mar  5 09:00:02 awk sshd[202]: Invalid user lat\xffin from 198.51.100.8 port 2',
    `Mar  5 09:00:03 awk sshd[203]: Failed password for ${'x'.repeat(2000)} from 198.51.100.9 port 3 ssh2`,
    'Mar  5 09:00:04 awk CRON[9]: Failed password for nobody (not sshd: ignored)',
  ],
} as const;

/** Writes bytes as latin1 so \xff in the strings above stays one byte. */
const bytes = (lines: readonly string[]) => Buffer.from(`${lines.join('\n')}\n`, 'latin1');

/**
 * A host root for FLEETSTAT_PROC_ROOT/ETC_ROOT/LOG_ROOT: the hostile fixture's /proc with the
 * awkward mount table, the awkward os-release (or `etc` files instead), and the log as
 * `logName` (auth.log, secure, authlog or messages; `logPrefix` adds e.g. a facility field).
 */
export function awkwardHost(
  opts: {
    etc?: Record<string, string>;
    logName?: string;
    logPrefix?: string;
    /** busybox-1.35: busybox's format without its header line. */
    who?: 'gnu' | 'busybox' | 'busybox-1.35';
    /** gnu: df prints control characters in mount points as "?" (coreutils); raw: as they are (busybox). */
    df?: 'raw' | 'gnu';
  } = {},
): { root: ShimDir; shims: ShimDir } {
  const root = emptyDir('fleetstat-awkward-');
  cpSync(join(FIXTURES, 'oldkernel-hostile', 'proc'), join(root.dir, 'proc'), { recursive: true });
  writeFileSync(join(root.dir, 'proc', 'mounts'), bytes(AWKWARD.mounts));
  mkdirSync(join(root.dir, 'etc'));
  for (const [name, text] of Object.entries(opts.etc ?? { 'os-release': AWKWARD.osRelease })) {
    writeFileSync(join(root.dir, 'etc', name), text);
  }
  mkdirSync(join(root.dir, 'log'));
  const prefix = opts.logPrefix ?? '';
  const log = AWKWARD.log.map((l) => l.replace(/^(\S+ +\S+ \S+ \S+ )/, `$1${prefix}`));
  writeFileSync(join(root.dir, 'log', opts.logName ?? 'auth.log'), bytes(log));
  const df = opts.df === 'gnu' ? AWKWARD.df.map((l) => l.replace(/[\x01-\x1f\x7f]/g, '?')) : AWKWARD.df;
  writeFileSync(join(root.dir, 'df.txt'), bytes(df));
  const who =
    opts.who === 'busybox'
      ? AWKWARD.whoBusybox
      : opts.who === 'busybox-1.35'
        ? AWKWARD.whoBusybox.slice(1)
        : AWKWARD.whoGnu;
  writeFileSync(join(root.dir, 'who.txt'), bytes(who));
  // df records the mount points it was asked about (duplicates would show) and answers for those.
  const shims = makeShims({
    scripts: {
      df: `printf '%s\\n' "$@" > '${root.dir}/df.args'; LC_ALL=C exec '${which('gawk')}' 'NR==FNR{a[$0];gsub(/[\\001-\\037\\177]/,"?");a[$0];next}FNR==1{print;next}{m=$0;sub(/^[^ ]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+% /,"",m);if(m in a)print}' '${root.dir}/df.args' '${root.dir}/df.txt'`,
      who: `exec cat '${root.dir}/who.txt'`,
    },
  });
  return { root, shims };
}

/** The environment that points the probe at an awkward host. */
export function awkwardEnv(root: ShimDir): Record<string, string> {
  return {
    FLEETSTAT_PROC_ROOT: join(root.dir, 'proc'),
    FLEETSTAT_ETC_ROOT: join(root.dir, 'etc'),
    FLEETSTAT_LOG_ROOT: join(root.dir, 'log'),
  };
}

/**
 * A PATH without dash and bash (so yash, mksh and posh cannot hand the probe on): this machine's
 * other tools the probe uses, and its awk from the cell's own PATH entry.
 */
export function pathWithoutDashOrBash(): ShimDir {
  const links: Record<string, string> = {};
  for (const tool of [
    'awk',
    'cat',
    'date',
    'df',
    'id',
    'sleep',
    'tail',
    'timeout',
    'uname',
    'who',
    'ps',
    'printf',
    'openssl',
    'gawk',
  ]) {
    const p = which(tool);
    if (p) links[tool] = p;
  }
  return makeShims({ links });
}
