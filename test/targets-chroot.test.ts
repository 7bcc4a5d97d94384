/**
 * The real probe.sh in other userlands, run as the collector runs it (input line on stdin, the
 * sealed reply opened and validated by the collector's own openEnvelope): a busybox-only root
 * (an Alpine-like userland) with and without openssl, and a debootstrap minbase Debian (dash,
 * mawk, no gawk). Each root sees this machine's /proc, so machine-wide values are compared
 * with this machine's /proc; OS facts, users, logs and mount points come from the files the
 * test placed in the root (awkward-data.ts) and are compared with them.
 */
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import type { Report } from '../src/probe/report.js';
import { mismatch, writeAwkwardData, type AwkwardData } from './support/awkward-data.js';
import { awkwardMismatches, procMismatches, processCount } from './support/report-checks.js';
import { requireService, requireTool } from './support/requirements.js';
import { runProbeInUserland, userland, type Userland, type UserlandName } from './support/userlands.js';

const tools = ['unshare', 'chroot', 'debootstrap', 'busybox', 'mkfs.ext2'].every((t) =>
  requireTool(t, 'the userland tests build and enter chroots'),
);
const root = requireService(process.getuid?.() === 0, 'root', 'chroots, mount namespaces and loop mounts need root');
// The first debootstrap takes minutes (prepare-machine.sh warms the cache): a generous hook.
const BUILD_TIMEOUT = 25 * 60_000;

let scratch: string;
const lands = new Map<UserlandName, Userland>();
const data = new Map<string, AwkwardData>();

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'fleetstat-targets-chroot-'));
  data.set('long', writeAwkwardData(join(scratch, 'long'), 'long'));
  data.set('latin1', writeAwkwardData(join(scratch, 'latin1'), 'latin1'));
  for (const name of ['busybox', 'busybox-openssl', 'debian'] as const) lands.set(name, userland(name));
}, BUILD_TIMEOUT);
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs the probe in `name` and opens its reply with the collector's code. */
async function probeIn(
  name: UserlandName,
  awkward?: 'long' | 'latin1',
): Promise<{ report: Report; pidsBefore: number }> {
  const secrets = newRunSecrets();
  const pidsBefore = processCount();
  const run = await runProbeInUserland(
    lands.get(name)!,
    probeInputLine(secrets, { cpuMs: 200, eventCap: 50, lastRecordId: 0 }),
    {
      data: awkward ? data.get(awkward)!.dir : undefined,
    },
  );
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  return { report: openEnvelope(run.stdout, secrets), pidsBefore };
}

/** PRETTY_NAME of the root's own os-release (quotes removed). */
function prettyName(land: Userland): string {
  const file = existsSync(join(land.root, 'etc/os-release'))
    ? join(land.root, 'etc/os-release')
    : join(land.root, 'usr/lib/os-release');
  return /^PRETTY_NAME="?(.*?)"?$/m.exec(readFileSync(file, 'utf8'))![1]!;
}

describe.skipIf(!tools || !root)('probe.sh in other userlands', () => {
  describe.each(['busybox-openssl', 'debian'] as const)('%s', (name) => {
    it("reports this machine's /proc and the root's own OS facts", async () => {
      const land = lands.get(name)!;
      if (name === 'debian') {
        // The cell is what it claims: dash as sh, mawk as awk, no gawk.
        expect(existsSync(join(land.root, 'usr/bin/gawk'))).toBe(false);
        expect(readlinkSync(join(land.root, 'etc/alternatives/awk'))).toBe('/usr/bin/mawk');
        expect(readlinkSync(join(land.root, 'bin/sh'))).toBe('dash');
      } else {
        expect(existsSync(join(land.root, 'usr/bin/gawk'))).toBe(false);
        expect(existsSync(join(land.root, 'usr/bin/mawk'))).toBe(false);
      }
      const { report, pidsBefore } = await probeIn(name);
      expect(procMismatches(report, pidsBefore)).toEqual([]);
      expect(report.host.os_name).toBe(prettyName(land));
      // The root is a filesystem of this machine: "/" is in its mount table and df sees it.
      expect(report.disks.find((d) => d.mount === '/')?.size_bytes).toBeGreaterThan(0);
      expect(report.warnings).toEqual([]);
    });

    it.each(['long', 'latin1'] as const)(
      'keeps awkward data (%s os-release) intact in the sealed report',
      async (kind) => {
        const { report, pidsBefore } = await probeIn(name, kind);
        expect(awkwardMismatches(report, data.get(kind)!)).toEqual([]);
        expect(procMismatches(report, pidsBefore)).toEqual([]);
      },
    );
  });

  it('busybox without openssl: exit 69 naming openssl, no reply, no bare code', async () => {
    const land = lands.get('busybox')!;
    expect(existsSync(join(land.root, 'usr/bin/openssl'))).toBe(false);
    const secrets = newRunSecrets();
    const run = await runProbeInUserland(land, probeInputLine(secrets, { cpuMs: 0, eventCap: 50, lastRecordId: 0 }));
    expect(run.status).toBe(69);
    expect(run.stderr).toMatch(/openssl/);
    expect(run.stdout.length).toBe(0);
  });
});

describe('the awkward-data checks themselves', () => {
  const exact = { text: 'a\\b"c\td', exact: true, cap: 64, kind: 'line' as const };
  const block = { text: 'a\\b\r\n"c\td', exact: true, cap: 64, kind: 'block' as const };
  const long = { text: 'x'.repeat(100), exact: true, cap: 64, kind: 'line' as const };
  const longTab = { text: `${'x'.repeat(62)}\t${'y'.repeat(10)}`, exact: true, cap: 64, kind: 'line' as const };
  const latin1 = { text: 'bad\ufffd\ufffdbytes', exact: false, cap: 64, kind: 'line' as const };

  it('accept only the exact text as stored, or the text cut at the cap as stored', () => {
    expect(mismatch('a\\b"c d', exact)).toBeUndefined(); // a one-line field stores a tab as a space
    expect(mismatch('a\\b"c\td', exact)).toBeDefined(); // not as stored: a one-line field keeps no tab
    expect(mismatch('a\\\\b"c d', exact)).toBeDefined(); // a doubled backslash
    expect(mismatch('a\\b"c?d', exact)).toBeDefined(); // a tab shown as ?
    expect(mismatch('a\\bc d', exact)).toBeDefined(); // a quote dropped
    expect(mismatch(null, exact)).toBeDefined();
    expect(mismatch('a\\b\n"c\td', block)).toBeUndefined(); // an event message keeps tab and LF; CR LF becomes LF
    expect(mismatch('a\\b\r\n"c\td', block)).toBeDefined();
    expect(mismatch('a\\b\n"c d', block)).toBeDefined();
    expect(mismatch('x'.repeat(64), long)).toBeUndefined();
    expect(mismatch('x'.repeat(40), long)).toBeDefined(); // cut far below the cap
    expect(mismatch('x'.repeat(65), long)).toBeDefined(); // over the cap
    expect(mismatch(`${'x'.repeat(62)} y`, longTab)).toBeUndefined(); // cut, then stored
    expect(mismatch(`${'x'.repeat(62)}\ty`, longTab)).toBeDefined();
    expect(mismatch(`${'x'.repeat(62)} z`, longTab)).toBeDefined();
  });

  it('let non-UTF-8 bytes become ? but nothing else change', () => {
    expect(mismatch('bad??bytes', latin1)).toBeUndefined();
    expect(mismatch('bad\ufffd\ufffdbytes', latin1)).toBeUndefined();
    expect(mismatch('badbytes', latin1)).toBeDefined(); // dropped
    expect(mismatch('bad??byte', latin1)).toBeDefined();
  });
});
