/**
 * The real probe.sh against recorded /proc trees (test/fixtures/proc): exact parsed values, the
 * CPU delta, events with resume ids, a hung df, and the documented exit codes.
 */
import { cpSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunSecrets, openEnvelope, probeInputLine, type RunSecrets } from '../src/probe/envelope.js';
import type { Report } from '../src/probe/report.js';
import { emptyDir, FIXTURES, makeShims, runProbe, which, type ShimDir } from './probe-runner.js';

const HOSTILE = join(FIXTURES, 'oldkernel-hostile');
const VM = join(FIXTURES, 'debian12-vm');
const JOURNAL = join(FIXTURES, 'journal-only');
const cleanup: ShimDir[] = [];
afterAll(() => {
  for (const d of cleanup) d.remove();
});

/** Shims replaying the fixture's df/who output; df also records its argv. */
function fixtureShims(root: string, extra: Record<string, string> = {}): ShimDir {
  const shims = makeShims({
    scripts: {
      df: `printf '%s\\n' "$@" > "$(dirname "$0")/df.args"; exec cat '${join(root, 'df-P-k.txt')}'`,
      who: `[ -f '${join(root, 'who.txt')}' ] && exec cat '${join(root, 'who.txt')}'`,
      ...extra,
    },
  });
  cleanup.push(shims);
  return shims;
}

async function probeFixture(
  root: string,
  opts: {
    cpuMs?: number;
    eventCap?: number;
    lastRecordId?: number;
    shims?: ShimDir;
    proc?: string;
    started?: () => void;
  } = {},
): Promise<{ report: Report; secrets: RunSecrets; shims: ShimDir }> {
  const secrets = newRunSecrets();
  const shims = opts.shims ?? fixtureShims(root);
  const line = probeInputLine(secrets, {
    cpuMs: opts.cpuMs ?? 0,
    eventCap: opts.eventCap ?? 100,
    lastRecordId: opts.lastRecordId ?? 0,
  });
  const run = await runProbe(line, {
    env: {
      FLEETSTAT_PROC_ROOT: opts.proc ?? join(root, 'proc'),
      FLEETSTAT_ETC_ROOT: join(root, 'etc'),
      FLEETSTAT_LOG_ROOT: join(root, 'log'),
      PATH: `${shims.dir}:${process.env.PATH}`,
    },
    started: opts.started,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return { report: openEnvelope(run.stdout, secrets), secrets, shims };
}

/** Epoch seconds of a UTC date, as record ids are built from them. */
const utc = (iso: string) => Date.parse(iso) / 1000;

describe('old-kernel, hostile fixture', () => {
  it('parses every section exactly', async () => {
    const { report: r, shims } = await probeFixture(HOSTILE);
    expect(r.host).toEqual({
      hostname: 'oldbox',
      os: 'linux',
      kernel: '3.10.0-1160.el7.x86_64',
      // Quotes, backslashes and accents survive; the tab does not (one-line fields are printable).
      os_name: 'Evil "quoted" \\back\\slash Ünïcödé tab',
      arch: expect.any(String),
    });
    // cpu-ms=0: the since-boot ratio, and the cumulative counters (total, idle+iowait) for the server.
    expect(r.cpu).toEqual({
      percent: 20,
      cores: 4,
      interval_ms: 0,
      counters: { total: 10000, idle: 8000 },
      load1: 3.5,
      load5: 2.25,
      load15: 1,
    });
    expect(r.memory).toEqual({
      total_bytes: 2048000 * 1024,
      available_bytes: 1012000 * 1024,
      used_bytes: 1036000 * 1024,
      percent: 50.6,
    });
    expect(r.swap).toEqual({ total_bytes: 1024000000, used_bytes: 256000000, percent: 25 });
    expect(r.uptime_seconds).toBe(86400);
    expect(r.boot_time).toBe(new Date(1700000000 * 1000).toISOString().replace('.000', ''));
    expect(r.process_count).toBe(3);
    expect(readFileSync(join(shims.dir, 'df.args'), 'utf8').split('\n')).toEqual([
      '-P',
      '-k',
      '--',
      '/',
      '/srv/my data',
      '',
    ]);
    expect(r.disks).toEqual([
      {
        mount: '/',
        fs: 'ext4',
        device: '/dev/sda1',
        size_bytes: 10240000000,
        used_bytes: 2560000000,
        avail_bytes: 7168000000,
        used_percent: 26.3,
      },
      {
        mount: '/srv/my data',
        fs: 'xfs',
        device: '/dev/sda2',
        size_bytes: 2048000000,
        used_bytes: 2046976000,
        avail_bytes: 0,
        used_percent: 100,
      },
    ]);
    expect(r.nics).toEqual([
      { name: 'lo', rx_bytes: 1000, tx_bytes: 1000, rx_packets: 10, tx_packets: 10, rx_errors: 0, tx_errors: 0 },
      {
        name: 'eth0',
        rx_bytes: 4294967296000,
        tx_bytes: 98765432109,
        rx_packets: 123456,
        tx_packets: 54321,
        rx_errors: 7,
        tx_errors: 3,
      },
    ]);
    expect(r.users).toEqual([
      { name: 'alice', tty: 'pts/0', from: '192.0.2.10', login_at: '2024-03-05T08:15+00:00' },
      { name: 'bob', tty: 'tty1', from: '', login_at: '2024-03-05T07:00+00:00' },
    ]);
    expect(r.warnings).toEqual(['no MemAvailable: estimated from MemFree+Buffers+Cached']);
  });

  it('measures CPU as the delta of two samples, not since boot', async () => {
    const copy = emptyDir('fleetstat-proc-');
    cleanup.push(copy);
    cpSync(join(HOSTILE, 'proc'), copy.dir, { recursive: true });
    // The probe samples at once, then sleeps cpu-ms; the second sample is swapped in meanwhile.
    const { report } = await probeFixture(HOSTILE, {
      cpuMs: 2500,
      proc: copy.dir,
      started: () => setTimeout(() => renameSync(join(copy.dir, 'stat.later'), join(copy.dir, 'stat')), 1200),
    });
    expect(report.cpu.percent).toBe(40);
    expect(report.cpu.interval_ms).toBe(2500);
    // The counters are the second sample's: the latest the server can compare with.
    expect(report.cpu.counters).toEqual({ total: 11000, idle: 8600 });
  });

  it.each(['mawk', 'gawk', 'original-awk'])(
    'keeps counters past 2^31 exact under %s (mawk joins them to strings as 6.3e+09)',
    async (awk) => {
      const path = which(awk);
      expect(path, `${awk} is installed (scripts/prepare-machine.sh)`).toBeDefined();
      const copy = emptyDir('fleetstat-proc-');
      cleanup.push(copy);
      cpSync(join(HOSTILE, 'proc'), copy.dir, { recursive: true });
      // A 64-core host up for years: totals past 2^32, a 1-second step of 6,400 ticks.
      const line = (user: number, idle: number) => `cpu  ${user} 0 1000000000 ${idle} 0 0 0 0 0 0\n`;
      writeFileSync(join(copy.dir, 'stat'), line(5_000_000_000, 9_000_000_000));
      writeFileSync(join(copy.dir, 'stat.later'), line(5_000_001_600, 9_000_004_800));
      const shims = makeShims({
        scripts: { df: `exec cat '${join(HOSTILE, 'df-P-k.txt')}'`, who: 'exit 0' },
        links: { awk: path! },
      });
      cleanup.push(shims);
      const { report } = await probeFixture(HOSTILE, {
        cpuMs: 2500,
        proc: copy.dir,
        shims,
        started: () => setTimeout(() => renameSync(join(copy.dir, 'stat.later'), join(copy.dir, 'stat')), 1200),
      });
      expect(report.cpu.counters).toEqual({ total: 15_000_006_400, idle: 9_000_004_800 });
      expect(report.cpu.percent).toBe(25);
    },
  );

  it('reads sshd failures from auth.log and auth.log.1 with stable, resumable record ids', async () => {
    const year = new Date().getUTCFullYear() - (new Date().getUTCMonth() + 1 < 3 ? 1 : 0);
    const ids = {
      a: utc('2024-03-05T06:59:59Z') * 1000,
      b: utc('2024-03-05T07:00:00Z') * 1000,
      c: utc('2024-03-05T07:00:00Z') * 1000 + 1,
      d: utc('2024-03-05T08:00:03Z') * 1000,
      e: utc('2024-03-05T08:00:04Z') * 1000,
      f: utc(`${year}-03-05T09:00:05Z`) * 1000,
    };
    const { report } = await probeFixture(HOSTILE, { eventCap: 100 });
    expect(report.events.readable).toBe(true);
    expect(report.events.truncated).toBe(false);
    expect(report.events.note).toBe(`source: ${join(HOSTILE, 'log', 'auth.log')}`);
    const items = report.events.items;
    expect(items.map((e) => e.record_id)).toEqual(Object.values(ids));
    expect(items.map((e) => e.event_id)).toEqual([1, 2, 1, 3, 4, 1]);
    // The control character the log line held is dropped as the report is validated.
    expect(items[1]!.message).toBe('Invalid user "adm\\in? from 198.51.100.2 port 50001');
    expect(items[5]!.message).toBe('Failed publickey for böb from 198.51.100.5 port 50005 ssh2');
    expect(items[3]!.logged_at).toBe('2024-03-05T08:00:03Z');
    expect(items.every((e) => e.provider === 'sshd' && e.level === 'warning')).toBe(true);

    const newest = await probeFixture(HOSTILE, { eventCap: 2 });
    expect(newest.report.events.items.map((e) => e.record_id)).toEqual([ids.e, ids.f]);
    expect(newest.report.events.truncated).toBe(true);

    const resumed = await probeFixture(HOSTILE, { eventCap: 2, lastRecordId: ids.b });
    expect(resumed.report.events.items.map((e) => e.record_id)).toEqual([ids.c, ids.d]);
    expect(resumed.report.events.truncated).toBe(true);

    const caughtUp = await probeFixture(HOSTILE, { eventCap: 2, lastRecordId: ids.f });
    expect(caughtUp.report.events.items).toEqual([]);
  });

  it('reports a hung df as a warning instead of hanging', async () => {
    const shims = fixtureShims(HOSTILE, { df: 'exec sleep 30' });
    const secrets = newRunSecrets();
    const run = await runProbe(probeInputLine(secrets, { cpuMs: 0, eventCap: 0, lastRecordId: 0 }), {
      env: {
        FLEETSTAT_PROC_ROOT: join(HOSTILE, 'proc'),
        FLEETSTAT_DF_TIMEOUT: '1',
        PATH: `${shims.dir}:${process.env.PATH}`,
      },
    });
    const report = openEnvelope(run.stdout, secrets);
    expect(report.disks).toEqual([]);
    expect(report.warnings.join('\n')).toContain('df timed out after 1s');
  });
});

describe('recorded Debian 12 VM', () => {
  it('parses the recorded files exactly', async () => {
    const { report: r } = await probeFixture(VM);
    const mem = Object.fromEntries(
      readFileSync(join(VM, 'proc/meminfo'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/:\s+/))
        .map(([k, v]) => [k, Number.parseInt(v!, 10) * 1024]),
    );
    expect(r.memory.total_bytes).toBe(mem.MemTotal);
    expect(r.memory.available_bytes).toBe(mem.MemAvailable);
    expect(r.memory.used_bytes).toBe(mem.MemTotal! - mem.MemAvailable!);
    expect(r.host.os_name).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(r.host.hostname).toBe(readFileSync(join(VM, 'proc/sys/kernel/hostname'), 'utf8').trim());
    expect(r.cpu.cores).toBe(2);
    expect(r.uptime_seconds).toBe(Math.floor(Number.parseFloat(readFileSync(join(VM, 'proc/uptime'), 'utf8'))));
    expect(r.process_count).toBe(3);
    expect(r.disks.map((d) => [d.mount, d.fs, d.device])).toEqual([['/', 'ext4', '/dev/vda']]);
    expect(r.nics.map((n) => n.name)).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(r.warnings).toEqual([]);
  });

  it('gives the recorded busy second a non-zero delta that differs from the since-boot ratio', async () => {
    const sample = (file: string) => {
      const f = readFileSync(join(VM, 'proc', file), 'utf8')
        .split('\n')[0]!
        .trim()
        .split(/\s+/)
        .slice(1, 9)
        .map(Number);
      return { total: f.reduce((a, b) => a + b, 0), idle: f[3]! + f[4]! };
    };
    const [s1, s2] = [sample('stat'), sample('stat.after-1s-busy')];
    const expected = Math.round((1000 * (s2.total - s1.total - (s2.idle - s1.idle))) / (s2.total - s1.total)) / 10;
    const copy = emptyDir('fleetstat-proc-');
    cleanup.push(copy);
    cpSync(join(VM, 'proc'), copy.dir, { recursive: true });
    const { report } = await probeFixture(VM, {
      cpuMs: 2500,
      proc: copy.dir,
      started: () => setTimeout(() => renameSync(join(copy.dir, 'stat.after-1s-busy'), join(copy.dir, 'stat')), 1200),
    });
    expect(report.cpu.percent).toBeGreaterThan(0);
    expect(report.cpu.percent).toBeCloseTo(expected, 1);
    expect(Math.abs(report.cpu.percent - (100 * (s1.total - s1.idle)) / s1.total)).toBeGreaterThan(1);
  });
});

describe('journal-only host', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'reads sshd failures from journalctl (root only) and resumes with --since',
    async () => {
      const shims = makeShims({
        scripts: {
          journalctl: `printf '%s\\n' "$@" > "$(dirname "$0")/jc.args"; exec cat '${join(JOURNAL, 'journalctl.txt')}'`,
        },
      });
      cleanup.push(shims);
      const proc = join(VM, 'proc');
      const first = await probeFixture(JOURNAL, { shims, eventCap: 10, proc });
      expect(first.report.events.note).toBe('source: journal');
      expect(first.report.events.items.map((e) => [e.record_id, e.event_id])).toEqual([
        [1709625600000, 1],
        [1709625600001, 1],
        [1709625601000, 2],
      ]);
      const again = await probeFixture(JOURNAL, { shims, eventCap: 10, lastRecordId: 1709625600001, proc });
      expect(again.report.events.items.map((e) => e.record_id)).toEqual([1709625601000]);
      expect(readFileSync(join(shims.dir, 'jc.args'), 'utf8')).toContain('--since=@1709625600');
    },
  );
});

describe('exit codes', () => {
  const s = newRunSecrets();
  const good = probeInputLine(s, { cpuMs: 0, eventCap: 0, lastRecordId: 0 }).trimEnd();
  const bad = [
    '',
    '\n',
    'garbage\n',
    good.replace('FLEETSTAT1', 'FLEETSTAT2'),
    `${good} extra\n`,
    good.replace(s.runId, s.runId.slice(1)),
    good.replace(s.encPass, s.encPass.toUpperCase()),
    good.replace(/ 0 0 0$/, ' 60001 0 0'),
    good.replace(/ 0 0 0$/, ' 010 0 0'),
    good.replace(/ 0 0 0$/, ' 0 0 -1'),
    good.replace(/ 0 0 0$/, ' 0 5001 0'),
    good.replace(/ 0 0 0$/, ' 0 0 12345678901234567'),
  ];
  it.each(bad.map((line, i) => [i, line]))(
    'malformed input line #%i exits 64 with nothing on stdout',
    async (_i, line) => {
      const run = await runProbe(line);
      expect(run.status).toBe(64);
      expect(run.stdout.length).toBe(0);
      expect(run.stderr).toMatch(/input line/);
    },
  );

  it('exits 69 naming openssl when openssl is not on PATH', async () => {
    const links: Record<string, string> = {};
    for (const tool of ['awk', 'cat', 'date', 'df', 'id', 'sleep', 'tail', 'timeout', 'uname', 'who']) {
      const p = which(tool);
      if (p) links[tool] = p;
    }
    const shims = makeShims({ links });
    cleanup.push(shims);
    const run = await runProbe(`${good}\n`, { shell: [which('dash')!], env: { PATH: shims.dir } });
    expect(run.status).toBe(69);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toContain('openssl');
  });
});
