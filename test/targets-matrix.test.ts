/**
 * The Unix target matrix (docs/targets.md): the real probe.sh, run as the collector runs it
 * (input line on stdin, the reply opened and validated by openEnvelope), under every shell ×
 * every awk, an OpenSSL without `enc -pbkdf2`/`-iter` (1.0.2), other locales, a host without
 * /etc/os-release, auth logs where Alpine and the BSDs keep them, and awkward data everywhere.
 * Each cell yields a report whose values match the files they came from, or exit 69 naming
 * what is missing: never a bare exit code, never silently empty data.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import type { Report } from '../src/probe/report.js';
import { parseReportTime } from '../src/store/index.js';
import { busyboxOnlyPath, runProbe, type ShimDir } from './probe-runner.js';
import { requireService } from './support/requirements.js';
import {
  AWKWARD,
  awkwardEnv,
  awkwardHost,
  matrixAwks,
  matrixShells,
  openssl102,
  pathWithoutDashOrBash,
  type ShellCell,
  type ShellKind,
} from './targets-matrix.js';
import { fieldText } from '../src/text/untrusted-text.js';

const cleanup: ShimDir[] = [];
afterAll(() => {
  for (const d of cleanup) d.remove();
});

const shells = matrixShells();
const dash = shells[0]!.argv[0]!;
const awks = matrixAwks();
cleanup.push(...awks.map((a) => a.dir));
const ssl102 = openssl102();
cleanup.push(ssl102);

/** The year syslog and `who` dates without a year are given (the probe assumes "not in the future"). */
const now = new Date();
const YEAR = now.getUTCFullYear() - (now.getUTCMonth() + 1 < 3 ? 1 : 0);
const at = (hms: string) => Date.parse(`${YEAR}-03-05T${hms}Z`);

interface Cell {
  shell: string[];
  path: string[];
  env?: Record<string, string>;
  host?: Parameters<typeof awkwardHost>[0];
  basePath?: string;
}

/** Runs the probe on a fresh awkward host; returns the exit status, stderr and the opened report. */
async function probeCell(
  cell: Cell,
): Promise<{ status: number | null; stderr: string; report?: Report; dfArgs: string[] | undefined }> {
  const { root, shims } = awkwardHost(cell.host);
  cleanup.push(root, shims);
  const secrets = newRunSecrets();
  const run = await runProbe(probeInputLine(secrets, { cpuMs: 0, eventCap: 100, lastRecordId: 0 }), {
    shell: cell.shell,
    env: {
      ...awkwardEnv(root),
      PATH: [...cell.path, shims.dir, cell.basePath ?? process.env.PATH].join(':'),
      ...cell.env,
    },
  });
  if (run.status !== 0) return { status: run.status, stderr: run.stderr, dfArgs: undefined };
  // Absent where busybox ran its own df applet instead of the shim.
  const args = join(root.dir, 'df.args');
  const dfArgs = existsSync(args) ? readFileSync(args, 'latin1').split('\n').slice(0, -1) : undefined;
  return { status: 0, stderr: run.stderr, report: openEnvelope(run.stdout, secrets), dfArgs };
}

const LONG = `/srv/${'L'.repeat(700)}`;
/**
 * A value as the collector keeps it: the probe sends it exactly, and opening the report passes
 * every one-line field through the one sanitiser (a tab becomes a space; docs/schema.md).
 */
const stored = (value: string, max = 100_000) => fieldText(value, max);
const storedDisk = <T extends { mount: string }>(disk: T): T => ({ ...disk, mount: stored(disk.mount) });
const DISKS = {
  root: {
    mount: '/',
    fs: 'ext4',
    device: '/dev/sda1',
    size_bytes: 10240000000,
    used_bytes: 2560000000,
    avail_bytes: 7168000000,
    used_percent: 26.3,
  },
  quoted: {
    mount: '/srv/back\\slash\ttab"q\'s',
    fs: 'ext4',
    device: '/dev/sdb1',
    size_bytes: 1024000000,
    used_bytes: 512000000,
    avail_bytes: 512000000,
    used_percent: 50,
  },
  latin: {
    mount: '/srv/latin?byte',
    fs: 'ext4',
    device: '/dev/sdb3',
    size_bytes: 2048000000,
    used_bytes: 1024000000,
    avail_bytes: 1024000000,
    used_percent: 50,
  },
  long: {
    mount: LONG.slice(0, 512),
    fs: 'ext4',
    device: '/dev/sdb4',
    size_bytes: 3072000000,
    used_bytes: 3072000000,
    avail_bytes: 0,
    used_percent: 100,
  },
};
const NON_ASCII_SKIPPED = 'mount points with non-ASCII bytes skipped (yash)';

/** Every value of the awkward host, as its files say (`kind`: what the shell can pass on, see ShellKind). */
function expectAwkwardReport(r: Report, dfArgs: string[] | undefined, kind: ShellKind = 'full'): void {
  expect(r.host.os_name).toBe(stored(AWKWARD.osName));
  expect(r.host.hostname).toBe('oldbox');
  expect(r.memory.total_bytes).toBe(2048000 * 1024);
  expect(r.uptime_seconds).toBe(86400);
  expect(r.warnings).toContain('a mount point with a newline skipped');
  if (kind === 'applets') {
    // busybox's own df looked at this machine's paths: of the host's mount points only / exists here.
    expect(r.disks.map((d) => d.mount)).toEqual(['/']);
    expect(r.warnings).toContain('df reported errors for some filesystems');
  } else if (kind === 'ascii-only') {
    expect(dfArgs).toEqual(['-P', '-k', '--', '/', '/srv/back\\slash\ttab"q\'s', LONG]);
    expect(r.disks).toEqual([DISKS.root, DISKS.quoted, DISKS.long].map(storedDisk));
    expect(r.warnings).toContain(NON_ASCII_SKIPPED);
  } else {
    // Each mount point once (rootfs and the repeated / dropped), the newline one never given to df.
    expect(dfArgs).toEqual(['-P', '-k', '--', '/', '/srv/back\\slash\ttab"q\'s', '/srv/latin\xffbyte', LONG]);
    expect(r.disks).toEqual([DISKS.root, DISKS.quoted, DISKS.latin, DISKS.long].map(storedDisk));
    expect(r.warnings).not.toContain(NON_ASCII_SKIPPED);
  }
  const items = r.events.items;
  expect(items.map((e) => e.record_id)).toEqual([at('09:00:01'), at('09:00:02'), at('09:00:03')]);
  expect(items.map((e) => e.event_id)).toEqual([1, 2, 1]);
  expect(items[0]!.message).toBe('Failed password for invalid user b\\a"ck\tslash from 198.51.100.7 port 1 ssh2');
  expect(items[1]!.message).toBe('Invalid user lat?in from 198.51.100.8 port 2');
  expect(items[2]!.message).toBe(`Failed password for ${'x'.repeat(2000)}`.slice(0, 500));
  expect(items[0]!.logged_at).toBe(`${YEAR}-03-05T09:00:01Z`);
  expect(r.events.readable).toBe(true);
}

/** GNU who's month-name dates become ISO times the store parses (not dropped). */
function expectGnuUsers(r: Report): void {
  expect(r.users).toEqual([
    { name: 'alice', tty: 'pts/0', from: '192.0.2.10', login_at: `${YEAR}-03-05T08:15+00:00` },
    { name: 'o\\\'b"r', tty: 'tty1', from: '', login_at: `${YEAR}-03-05T07:00+00:00` },
    { name: 'u'.repeat(64), tty: 'pts/1', from: 'h'.repeat(256), login_at: `${YEAR}-03-05T07:30+00:00` },
  ]);
  expect(r.users.map((u) => parseReportTime(u.login_at)?.getTime())).toEqual([
    at('08:15:00'),
    at('07:00:00'),
    at('07:30:00'),
  ]);
}

/** How the shell runs the probe with this machine's PATH, where dash and bash are. */
const withDash = (sh: ShellCell): ShellKind => (sh.reruns ? 'full' : sh.kind);

describe.each(shells)('sh = $name', (sh) => {
  const kind = withDash(sh);
  // busybox ash runs its own awk applet whatever PATH says: one cell, not five.
  const cellAwks = kind === 'applets' ? awks.filter((a) => a.name === 'busybox awk') : awks;
  it.each(cellAwks.map((a) => [a.name, a] as const))(
    'awk = %s: the awkward host, value for value',
    async (_name, awk) => {
      const cell = await probeCell({ shell: sh.argv, path: [awk.dir.dir], env: awk.env });
      expect(cell.stderr).toBe('');
      expect(cell.status).toBe(0);
      expectAwkwardReport(cell.report!, cell.dfArgs, kind);
      if (kind !== 'applets') expectGnuUsers(cell.report!);
    },
  );

  it('openssl 1.0.2 (no enc -pbkdf2/-iter): the report still opens', async () => {
    const cell = await probeCell({ shell: sh.argv, path: [ssl102.dir] });
    expect(cell.stderr).toBe('');
    expect(cell.status).toBe(0);
    expectAwkwardReport(cell.report!, cell.dfArgs, kind);
  });
});

describe.each(shells.filter((s) => s.reruns))('sh = $name with no dash or bash on PATH', (sh) => {
  const alone = pathWithoutDashOrBash();
  cleanup.push(alone);
  it.each(awks.map((a) => [a.name, a] as const))(
    'awk = %s: the awkward host, or a refusal naming why',
    async (_name, awk) => {
      const cell = await probeCell({ shell: sh.argv, path: [awk.dir.dir], env: awk.env, basePath: alone.dir });
      if (sh.kind === 'refuses') {
        // printf is no builtin here: refused before any secret is used, naming why and what to do.
        expect(cell.status).toBe(69);
        expect(cell.stderr).toMatch(/no printf builtin in this sh \(secrets would reach argv\), nor dash or bash/);
        return;
      }
      expect(cell.stderr).toBe('');
      expect(cell.status).toBe(0);
      expectAwkwardReport(cell.report!, cell.dfArgs, sh.kind);
      expectGnuUsers(cell.report!);
    },
  );
});

// de_DE.UTF-8 must exist, or its cells would silently run in the C locale.
const deLocale = requireService(
  /^de_DE\.utf-?8$/im.test(execFileSync('locale', ['-a'], { encoding: 'utf8' })),
  'the de_DE.UTF-8 locale',
  'the locale cells run the probe under it',
);

describe.skipIf(!deLocale)('locales', () => {
  const locales: Record<string, string>[] = [
    { LANG: 'de_DE.UTF-8' },
    { LC_ALL: 'de_DE.UTF-8' },
    { LANG: 'xx_BOGUS.UTF-8', LC_ALL: 'xx_BOGUS.UTF-8' },
  ];
  const cells = shells.flatMap((s) => locales.map((env) => [s.name, JSON.stringify(env), s, env] as const));
  it.each(cells)('%s with %s: the same values', async (_n, _e, sh, env) => {
    const cell = await probeCell({ shell: sh.argv, path: [], env });
    expect(cell.status).toBe(0);
    expectAwkwardReport(cell.report!, cell.dfArgs, withDash(sh));
    if (withDash(sh) !== 'applets') expectGnuUsers(cell.report!);
  });
});

describe('hosts without /etc/os-release', () => {
  it.each([
    [
      'system-release (Amazon Linux 2)',
      { 'system-release': 'Amazon Linux release 2 (Karoo)\n', 'redhat-release': 'wrong\n' },
      'Amazon Linux release 2 (Karoo)',
    ],
    ['redhat-release (CentOS 6)', { 'redhat-release': 'CentOS release 6.10 (Final)\n' }, 'CentOS release 6.10 (Final)'],
    [
      'SuSE-release (SLES 11)',
      { 'SuSE-release': 'SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n' },
      'SUSE Linux Enterprise Server 11 (x86_64)',
    ],
    [
      'lsb-release (Ubuntu 12.04)',
      { 'lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=12.04\nDISTRIB_DESCRIPTION="Ubuntu 12.04.5 LTS"\n' },
      'Ubuntu 12.04.5 LTS',
    ],
  ])('names the OS from %s', async (_n, etc, expected) => {
    const cell = await probeCell({ shell: [dash], path: [], host: { etc } });
    expect(cell.report!.host.os_name).toBe(expected);
  });
});

describe('auth logs and who where other systems keep them', () => {
  it.each(['busybox', 'busybox-1.35'] as const)(
    "reads /var/log/messages with busybox syslogd's facility field (Alpine), and %s who",
    async (who) => {
      const cell = await probeCell({
        shell: [dash],
        path: [],
        host: { logName: 'messages', logPrefix: 'authpriv.info ', who },
      });
      expect(cell.report!.events.note).toMatch(/messages$/);
      expectAwkwardReport(cell.report!, cell.dfArgs);
      expect(cell.report!.users).toEqual([
        { name: 'alice', tty: 'pts/0', from: '192.0.2.10', login_at: `${YEAR}-03-05T08:15:00+00:00` },
        { name: 'bob', tty: 'tty1', from: '', login_at: `${YEAR}-03-05T07:00:00+00:00` },
      ]);
      expect(cell.report!.users.map((u) => parseReportTime(u.login_at)?.getTime())).toEqual([
        at('08:15:00'),
        at('07:00:00'),
      ]);
    },
  );

  it('takes mount points GNU df prints with "?" for control characters from the mount table', async () => {
    const cell = await probeCell({ shell: [dash], path: [], host: { df: 'gnu' } });
    expectAwkwardReport(cell.report!, cell.dfArgs);
  });

  it('reads /var/log/authlog (OpenBSD, Solaris)', async () => {
    const cell = await probeCell({ shell: [dash], path: [], host: { logName: 'authlog' } });
    expect(cell.report!.events.note).toMatch(/authlog$/);
    expectAwkwardReport(cell.report!, cell.dfArgs);
  });

  it.skipIf(process.getuid?.() !== 0)('as root, with no sshd log, says so without asking for root', async () => {
    // busybox applets and openssl only: no journalctl to fall back on.
    const bb = busyboxOnlyPath()!;
    cleanup.push(bb);
    const cell = await probeCell({ shell: [dash], path: [], host: { logName: 'unrelated.log' }, basePath: bb.dir });
    expect(cell.report!.events.readable).toBe(false);
    expect(cell.report!.events.note).toMatch(/^no readable sshd log/);
    expect(cell.report!.events.note).not.toMatch(/root/);
  });
});
