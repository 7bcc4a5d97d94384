/**
 * A round over real sshd hosts whose login environments are the targets a real intranet has,
 * each holding awkward data: `fleetstat collect` (dist/cli/main.js) into SQLite, then every host
 * is read back from the database and compared with the files its values came from.
 *
 * - chroot hosts (sshd ChrootDirectory): a busybox-only root with openssl, one without (must
 *   fail naming openssl, with a hint), a debootstrap minbase Debian (dash, mawk);
 * - this machine's userland under another login shell (ForceCommand login-env.sh: the whole
 *   session runs under busybox ash, bash, mksh, yash, zsh, posh or ksh93 invoked as sh), or with
 *   mawk, original-awk or busybox awk first on PATH, or an openssl that refuses
 *   -pbkdf2/-iter as OpenSSL 1.0.2 does, or LANG/LC_ALL de_DE.UTF-8 or a locale that does
 *   not exist.
 * Every sshd runs in its own private mount namespace (userland-ns.sh) in which the awkward
 * os-release, utmp, auth.log and mount points are real files and mounts; nothing outside it
 * changes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { STORAGE_LIMITS as L } from '../src/store/storage-limits.js';
import { writeAwkwardData, type AwkwardData } from './support/awkward-data.js';
import { fleetstat } from './support/cli.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { awkwardMismatches, countWithin, processCount } from './support/report-checks.js';
import { requireService, requireTool } from './support/requirements.js';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { meminfoBytes } from './support/this-machine.js';
import { inNamespace, userland, type UserlandName } from './support/userlands.js';

const LOGIN_ENV = new URL('./support/login-env.sh', import.meta.url).pathname;
const OPENSSL_102 = new URL('./support/openssl-102.sh', import.meta.url).pathname;

/**
 * Whether `shell` (run as sh) has printf as a builtin. Without one the probe's secrets would
 * reach /usr/bin/printf's argv, so such a host may instead fail closed naming printf (issue 10).
 */
function printfIsBuiltin(shell: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-printf-'));
  try {
    symlinkSync(shell, join(dir, 'sh'));
    const said = execFileSync(join(dir, 'sh'), ['-c', 'command -V printf'], { encoding: 'utf8' });
    return /built-?in/.test(said) && !/alias|executable/.test(said);
  } catch {
    return false; // a shell that cannot even answer this lacks more than printf: its host fails anyway
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One host of the round: where its session runs, its tools, its data, what must happen. */
interface Cell {
  name: string;
  /** A cached root the session is chrooted into; undefined: this machine's userland. */
  chroot?: UserlandName;
  /** For this machine's userland: the tool directory's entries (name -> program). */
  tools?: Record<string, string>;
  /** NAME=VALUE pairs the login environment exports (login-env.sh). */
  env?: string[];
  data?: 'long' | 'latin1';
  /** The host must fail at this stage with a message matching `message` (a missing capability). */
  fails?: { stage: string; message: RegExp };
  /** The host may fail this way instead of being stored (a capability it lacks, named). */
  mayFail?: { stage: string; message: RegExp };
}

/** A shell cell: stored, or (where printf is not a builtin) failed closed naming printf. */
function shellCell(name: string, shell: string | undefined): Cell {
  const path = shell ?? `/missing/${name}`;
  return {
    name: `sh-${name}`,
    tools: { sh: path },
    data: 'long',
    mayFail: shell && printfIsBuiltin(shell) ? undefined : { stage: 'run', message: /printf/ },
  };
}

const busybox = requireTool('busybox', 'busybox ash and awk cells');
const tool = (name: string) => requireTool(name, 'a cell of the target round') ?? `/missing/${name}`;
const cells: Cell[] = [
  { name: 'chroot-busybox-openssl', chroot: 'busybox-openssl', data: 'long' },
  { name: 'chroot-busybox-no-openssl', chroot: 'busybox', fails: { stage: 'run', message: /openssl.*install/i } },
  { name: 'chroot-debian-minbase', chroot: 'debian', data: 'latin1' },
  shellCell('busybox-ash', busybox),
  ...(['bash', 'mksh', 'yash', 'zsh', 'posh', 'ksh93'] as const).map((name) =>
    shellCell(name, requireTool(name, 'a cell of the target round')),
  ),
  { name: 'awk-mawk', tools: { sh: tool('dash'), awk: tool('mawk') }, data: 'latin1' },
  { name: 'awk-original-awk', tools: { sh: tool('dash'), awk: tool('original-awk') }, data: 'latin1' },
  { name: 'awk-busybox', tools: { sh: tool('dash'), awk: busybox ?? '/missing/busybox' }, data: 'latin1' },
  { name: 'openssl-1.0.2', tools: { sh: tool('dash'), openssl: OPENSSL_102 }, data: 'latin1' },
  { name: 'locale-de', tools: { sh: tool('dash') }, env: ['LANG=de_DE.UTF-8', 'LC_ALL=de_DE.UTF-8'], data: 'long' },
  {
    name: 'locale-bogus-bash',
    tools: { sh: tool('bash') },
    env: ['LANG=xx_YY.bogus', 'LC_ALL=xx_YY.bogus'],
    data: 'latin1',
  },
];

const ready =
  ['unshare', 'chroot', 'debootstrap', 'mkfs.ext2'].every((t) =>
    requireTool(t, 'the round enters chroots and mount namespaces'),
  ) &&
  requireService(process.getuid?.() === 0, 'root', 'sshd ChrootDirectory, mount namespaces and loop mounts need root');
// The first debootstrap takes minutes (prepare-machine.sh warms the cache): a generous hook.
const SETUP_TIMEOUT = 25 * 60_000;
// 16 hosts at once on a busy 2-core machine: as long as collect's own bound below.
const ROUND_TIMEOUT = 300_000;

describe.skipIf(!ready)('a round over hosts with other shells, awks, openssl and userlands', () => {
  let fleet: SshdFleet;
  let dir: string;
  const data = new Map<string, AwkwardData>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-targets-round-'));
    chmodSync(dir, 0o755); // the test account runs the tool directories' programs
    data.set('long', writeAwkwardData(join(dir, 'data-long'), 'long'));
    data.set('latin1', writeAwkwardData(join(dir, 'data-latin1'), 'latin1'));
    const roots = new Map(['busybox', 'busybox-openssl', 'debian'].map((n) => [n, userland(n as UserlandName).root]));
    fleet = await startFleet(cells.length, {
      firstIndex: 200,
      perHost: (i) => {
        const cell = cells[i]!;
        const dataDir = cell.data ? data.get(cell.data)!.dir : undefined;
        if (cell.chroot) {
          const root = roots.get(cell.chroot)!;
          return { extraConfig: [`ChrootDirectory ${root}`], wrap: inNamespace(root, dataDir, []) };
        }
        const tools = join(dir, `tools-${cell.name}`);
        mkdirSync(tools, { mode: 0o755 });
        for (const [name, target] of Object.entries(cell.tools ?? {})) symlinkSync(target, join(tools, name));
        return {
          extraConfig: [`ForceCommand ${[LOGIN_ENV, tools, ...(cell.env ?? [])].join(' ')}`],
          wrap: inNamespace('/', dataDir, []),
        };
      },
    });
  }, SETUP_TIMEOUT);
  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    "each host's sessions run the shell, awk, openssl and locale its cell claims",
    () => {
      // What `sh probe.sh` would start there: the exe behind a fresh `sh -c` (": " keeps bash and
      // ksh93 from exec-ing readlink in its place), and awk, openssl, LC_ALL.
      const probe =
        'echo "exe=$(sh -c \'readlink /proc/$$/exe; :\')"; echo "awk=$(readlink -f "$(command -v awk)" 2>/dev/null)"; ' +
        'echo "openssl=$(readlink -f "$(command -v openssl)" 2>/dev/null)"; echo "lc=$LC_ALL"';
      const seen: Record<string, Record<string, string>> = {};
      const claimed: Record<string, Record<string, string>> = {};
      cells.forEach((cell, i) => {
        const host = fleet.hosts[i]!;
        const out = execFileSync(
          'ssh',
          [
            '-F',
            '/dev/null',
            '-o',
            'BatchMode=yes',
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            `UserKnownHostsFile=${fleet.knownHostsPath}`,
            '-i',
            fleet.clientKeyPath,
            '-p',
            String(host.port),
            `${fleet.user}@${host.address}`,
            probe,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
        const got = Object.fromEntries(
          out
            .trim()
            .split('\n')
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
        const want: Record<string, string> = cell.chroot
          ? {
              exe: cell.chroot === 'debian' ? '/usr/bin/dash' : '/bin/busybox',
              openssl: cell.chroot === 'busybox' ? '' : '/usr/bin/openssl',
            }
          : { exe: realpathSync(cell.tools!.sh!) };
        if (cell.tools?.awk) want.awk = realpathSync(cell.tools.awk);
        if (cell.tools?.openssl) want.openssl = realpathSync(cell.tools.openssl);
        for (const pair of cell.env ?? []) if (pair.startsWith('LC_ALL=')) want.lc = pair.slice('LC_ALL='.length);
        claimed[cell.name] = want;
        seen[cell.name] = Object.fromEntries(Object.keys(want).map((k) => [k, got[k] ?? '(missing)']));
      });
      expect(seen).toEqual(claimed);
    },
    ROUND_TIMEOUT,
  );

  it(
    'stores every host with correct values; the host without openssl fails naming it',
    async () => {
      const db = join(dir, 'round.sqlite');
      const config = writeFleetConfig(fleet, {
        dir,
        databaseUrl: `sqlite:${db}`,
        clients: cells.map((cell, i) => ({ host: fleet.hosts[i]!, auth: 'key' as const, name: cell.name })),
      });
      const pidsBefore = processCount(); // the hosts' sessions (about 10 processes each) add to it meanwhile
      const result = await fleetstat(['collect', '--config', config, '--json'], {}, 300_000);
      const summary = JSON.parse(result.stdout) as {
        hosts_ok: number;
        failures: Array<{ host: string; stage: string; message: string }>;
      };
      const expectedFailures = cells.filter((c) => c.fails).map((c) => c.name);
      // Every defect of every host, in one assertion at the end: host -> what is wrong.
      const wrong: Record<string, string[]> = {};
      const allowed = new Map(cells.filter((c) => c.mayFail).map((c) => [c.name, c.mayFail!]));
      for (const f of summary.failures) {
        if (expectedFailures.includes(f.host)) continue;
        const may = allowed.get(f.host);
        if (may && f.stage === may.stage && may.message.test(f.message)) continue;
        wrong[f.host] = [`failed at ${f.stage}: ${f.message}`];
      }
      for (const cell of cells.filter((c) => c.fails)) {
        const failure = summary.failures.find((f) => f.host === cell.name);
        expect(failure, cell.name).toMatchObject({ stage: cell.fails!.stage });
        expect(failure!.message).toMatch(cell.fails!.message);
        expect(failure!.message).not.toMatch(/^[^:]*exit code \d+\s*$/);
      }

      const store = await openStore(`sqlite:${db}`);
      try {
        const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
        const btime = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
        const nicNames = readFileSync('/proc/net/dev', 'utf8')
          .split('\n')
          .slice(2)
          .filter((l) => l.includes(':'))
          .map((l) => l.split(':')[0]!.trim());
        for (const cell of cells.filter(
          (c) => !c.fails && !summary.failures.some((f) => f.host === c.name && c.mayFail),
        )) {
          const problems: string[] = [];
          const host = await store.db.selectFrom('hosts').selectAll().where('name', '=', cell.name).executeTakeFirst();
          const sample =
            host &&
            (await store.db.selectFrom('samples').selectAll().where('host_id', '=', host.id).executeTakeFirst());
          if (!host || !sample) {
            wrong[cell.name] ??= ['not stored'];
            continue;
          }
          const want = (what: string, ok: boolean, got: unknown) => {
            if (!ok) problems.push(`${what}: ${JSON.stringify(got)}`);
          };
          want('os', host.os === 'linux', host.os);
          want('hostname', host.hostname === hostname(), host.hostname);
          want('kernel', host.kernel === release(), host.kernel);
          want('mem_total = MemTotal', Number(sample.mem_total) === meminfoBytes('MemTotal'), sample.mem_total);
          want('swap_total = SwapTotal', Number(sample.swap_total) === meminfoBytes('SwapTotal'), sample.swap_total);
          want('uptime ≈ /proc/uptime', Math.abs(Number(sample.uptime_seconds) - uptime) < 300, sample.uptime_seconds);
          want('boot_time = btime', Date.parse(String(sample.boot_time)) / 1000 === btime, sample.boot_time);
          want(
            'process_count ≈ /proc',
            countWithin(Number(sample.process_count), pidsBefore, 10 * cells.length),
            sample.process_count,
          );
          want('cpu_percent 0..100', sample.cpu_percent >= 0 && sample.cpu_percent <= 100, sample.cpu_percent);
          const nics = await store.db
            .selectFrom('net_io')
            .select('name')
            .where('sample_id', '=', sample.id)
            .orderBy('id')
            .execute();
          want(
            'nics = /proc/net/dev',
            JSON.stringify(nics.map((n) => n.name)) === JSON.stringify(nicNames),
            nics.map((n) => n.name),
          );
          const disks = await store.db
            .selectFrom('disk_usage')
            .selectAll()
            .where('sample_id', '=', sample.id)
            .execute();
          if (cell.chroot)
            want(
              'the root "/" as a disk',
              disks.some((d) => d.mount === '/' && Number(d.size_bytes) > 0),
              disks.map((d) => d.mount),
            );
          if (cell.data) {
            const users = await store.db
              .selectFrom('logged_in_users')
              .selectAll()
              .where('sample_id', '=', sample.id)
              .execute();
            const events = await store.db
              .selectFrom('security_events')
              .selectAll()
              .where('host_id', '=', host.id)
              .execute();
            problems.push(
              ...awkwardMismatches(
                {
                  host: { os_name: host.os_name ?? '' },
                  users: users.map((u) => ({
                    name: u.name,
                    tty: u.tty,
                    from: u.from_host,
                    login_at: u.login_at === null ? '' : new Date(String(u.login_at)).toISOString(),
                  })),
                  events: {
                    readable: true,
                    note: '',
                    items: events.map((e) => ({
                      record_id: Number(e.record_id),
                      event_id: Number(e.event_id),
                      level: e.level,
                      provider: e.provider,
                      logged_at: e.logged_at === null ? '' : new Date(String(e.logged_at)).toISOString(),
                      message: e.message,
                    })),
                  },
                  disks: disks.map((d) => ({
                    mount: d.mount,
                    fs: d.fs,
                    device: d.device,
                    size_bytes: Number(d.size_bytes),
                  })),
                },
                data.get(cell.data)!,
                { userName: L.userName, userFrom: L.userFrom, eventMessage: L.eventMessage, diskMount: L.diskMount },
              ),
            );
          }
          if (problems.length) wrong[cell.name] = problems;
        }
      } finally {
        await store.close();
      }
      expect(wrong).toEqual({});
      expect(summary.hosts_ok + summary.failures.length).toBe(cells.length);
      expect(result.code).toBe(summary.failures.length ? 1 : 0);
    },
    ROUND_TIMEOUT,
  );
});
