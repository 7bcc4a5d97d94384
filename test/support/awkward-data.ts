/**
 * Awkward data for the probe's target tests: an os-release, a utmp, an auth.log and mount
 * points whose names hold backslashes, quotes, tabs, newlines (escaped by the kernel in
 * /proc/mounts), non-UTF-8 bytes and very long strings, written as the files a real host has
 * (userland-ns.sh places them). Each item comes with what a correct report holds for it: the
 * source value as the probe sends it (exactly, cut to the field's cap), passed through the one
 * sanitiser that opening a report applies (src/text/untrusted-text.ts, docs/schema.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldText, textBlock } from '../../src/text/untrusted-text.js';
import { clip } from '../../src/store/storage-limits.js';

/**
 * How the report schema (src/probe/report.ts) keeps a field: `line` through fieldText (a tab
 * or other control becomes a space), `block` (event messages) through textBlock (CR LF becomes
 * LF; tab and LF stay).
 */
export type FieldKind = 'line' | 'block';

/** What a stored string must be: `text` as stored, or (for bytes that are not UTF-8) `loose`. */
export interface Expected {
  /** The source as text; non-UTF-8 bytes shown as U+FFFD. */
  text: string;
  /** The source is valid UTF-8: the report must hold exactly `text` (cut to `cap` bytes) as stored. */
  exact: boolean;
  /** The report's limit in UTF-8 bytes for this field. */
  cap: number;
  kind: FieldKind;
}

// The sanitiser's character caps in the schema are never below the probe's byte caps: only the
// probe cuts, and mismatch() checks that cut itself.
const NO_CUT = 100_000;

/**
 * `text` as the collector keeps it: the probe sends it exactly, and opening the report passes
 * it through the one sanitiser, as the schema does for a field of this kind.
 */
export function stored(text: string, kind: FieldKind): string {
  return kind === 'line' ? fieldText(text, NO_CUT) : textBlock(text, { maxLineChars: NO_CUT, maxChars: NO_CUT });
}

/** The prefixes of `text` (whole characters) a cut to `cap` bytes may leave: at most 3 bytes short. */
function cutsAtCap(text: string, cap: number): string[] {
  const cuts: string[] = [];
  let prefix = '';
  let bytes = 0;
  for (const ch of text) {
    bytes += Buffer.byteLength(ch);
    if (bytes > cap) break;
    prefix += ch;
    if (bytes >= cap - 3) cuts.push(prefix);
  }
  return cuts;
}

const BACKSLASH = '\\';
/** Size of the ext2 image mounted at every awkward mount point. */
export const DISK_IMAGE_BYTES = 1 << 20;

/** Same shape for comparisons: each run of non-ASCII characters (or of '?') becomes one '?'. */
function loose(text: string): string {
  return text.replace(/(?:[^\x00-\x7f]|\?)+/g, '?');
}

function expected(bytes: Buffer, cap: number, kind: FieldKind): Expected {
  const text = bytes.toString('utf8');
  return { text, exact: !text.includes('\ufffd'), cap, kind };
}

/** Why `actual` is not a correct report of `e`, or undefined when it is. */
export function mismatch(actual: string | null | undefined, e: Expected, storageCap?: number): string | undefined {
  if (typeof actual !== 'string')
    return `expected a string for ${JSON.stringify(e.text.slice(0, 60))}, got ${String(actual)}`;
  if (Buffer.byteLength(actual) > e.cap) return `${Buffer.byteLength(actual)} bytes, over the ${e.cap}-byte cap`;
  // Read back from the database, a value has also passed the store's limits (storage-limits.ts).
  const kept = (text: string) => (storageCap === undefined ? text : clip(text, storageCap));
  if (e.exact) {
    if (Buffer.byteLength(e.text) <= e.cap) {
      const want = kept(stored(e.text, e.kind));
      return actual === want
        ? undefined
        : `${JSON.stringify(actual)} is not ${JSON.stringify(want)} (the source as stored)`;
    }
    // Cut to the cap: a prefix of the source, at most 3 bytes short of the cap (a split character), as stored.
    const ok = cutsAtCap(e.text, e.cap).some((cut) => kept(stored(cut, e.kind)) === actual);
    return ok ? undefined : `${JSON.stringify(actual)} is not the source cut to ${e.cap} bytes, as stored`;
  }
  const want = kept(stored(e.text, e.kind));
  return loose(actual) === loose(want)
    ? undefined
    : `${JSON.stringify(actual)} is not ${JSON.stringify(want)} (as stored) with its non-UTF-8 bytes replaced`;
}

export interface AwkwardUser {
  name: Expected;
  tty: string;
  from: Expected;
  loginEpoch: number;
}
export interface AwkwardEvent {
  message: Expected;
  recordId: number;
  eventId: number;
  loggedAt: string;
}
export interface AwkwardMount {
  mount: Expected;
  containsNewline: boolean;
}

export interface AwkwardData {
  /** The directory for userland-ns.sh (DATA). */
  dir: string;
  osName: Expected;
  users: AwkwardUser[];
  events: AwkwardEvent[];
  mounts: AwkwardMount[];
}

const b = (...parts: Array<string | number[] | Buffer>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** One utmp record (glibc x86_64 layout, 384 bytes) of a logged-in user. */
function utmpRecord(user: Buffer, line: string, host: Buffer, pid: number, epoch: number): Buffer {
  const r = Buffer.alloc(384);
  r.writeInt16LE(7, 0); // USER_PROCESS
  r.writeInt32LE(pid, 4);
  r.write(line, 8, 32, 'latin1');
  r.write(line.slice(-4), 40, 4, 'latin1');
  user.copy(r, 44, 0, 32);
  host.copy(r, 76, 0, 256);
  r.writeInt32LE(epoch, 340);
  return r;
}

/**
 * Writes the awkward files into `dir` (made if missing). `os` picks the os-release: `long` (an
 * ASCII name of 341 bytes with quotes, backslashes, a tab, `$` and backticks, shell-escaped as
 * os-release(5) says) or `latin1` (ISO-8859-1 bytes, not UTF-8).
 */
export function writeAwkwardData(dir: string, os: 'long' | 'latin1'): AwkwardData {
  mkdirSync(dir, { recursive: true, mode: 0o755 });

  const osBytes =
    os === 'long'
      ? b(`Awk${BACKSLASH}ward "Q" OS\twith 'apos' $HOME \`tick\` `, 'L'.repeat(300))
      : b('Caf', [0xe9], ' OS ', [0xff, 0xfe], ' 1.0');
  const escaped = Buffer.from(
    osBytes.toString('latin1').replace(/[\\"$`]/g, (c) => BACKSLASH + c),
    'latin1',
  );
  writeFileSync(
    join(dir, 'os-release'),
    Buffer.concat([b('NAME="Awkward"\nID=awkward\nPRETTY_NAME="'), escaped, b('"\nVERSION_ID=1\n')]),
  );

  // Logged-in users: a domain account, quotes, a UTF-8 and a Latin-1 name, a long remote host
  // (150 bytes: busybox who cuts its lines at 256).
  // A day ago, on a whole minute: `who` prints minutes, busybox's without the year (inferred).
  const login = Math.floor(Date.now() / 60_000) * 60 - 86_400;
  const userSpecs: Array<{ name: Buffer; tty: string; from: Buffer }> = [
    { name: b(`CORP${BACKSLASH}alice`), tty: 'pts/1', from: b('10.1.2.3') },
    { name: b(`o"brien'x`), tty: 'pts/2', from: b(`host"${BACKSLASH}q.example`) },
    { name: b('jos\u00e9'), tty: 'pts/3', from: b('h'.repeat(150)) },
    { name: b('l', [0xe9], 'a'), tty: 'pts/4', from: b('m', [0xff], 'x') },
  ];
  // pid 1: a live process, as a real session's is (GNU who hides entries whose pid is gone).
  writeFileSync(
    join(dir, 'utmp'),
    Buffer.concat(userSpecs.map((u, i) => utmpRecord(u.name, u.tty, u.from, 1, login + i * 60))),
  );
  const users = userSpecs.map((u, i) => ({
    name: expected(u.name, 64, 'line'),
    tty: u.tty,
    from: expected(u.from, 256, 'line'),
    loginEpoch: login + i * 60,
  }));

  // sshd lines in rsyslog's precise format (ISO time with offset: no guessed year).
  const t0 = Date.UTC(2026, 10, 27, 9, 0, 0) / 1000;
  const stamp = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000+00:00');
  const eventSpecs: Array<{ at: number; message: Buffer; eventId: number }> = [
    {
      at: t0,
      message: b(`Failed password for invalid user CORP${BACKSLASH}${BACKSLASH}bob from 127.0.0.9 port 50001 ssh2`),
      eventId: 1,
    },
    { at: t0, message: b("Invalid user o\"brien\t'x' from 127.0.0.9 port 50002"), eventId: 2 },
    { at: t0 + 5, message: b('Failed password for l', [0xe9], 'a from 127.0.0.9 port 50003 ssh2'), eventId: 1 },
    {
      at: t0 + 9,
      message: b('Failed publickey for root from 127.0.0.9 port 50004 ssh2: ', 'K'.repeat(2000)),
      eventId: 1,
    },
  ];
  const log = eventSpecs.map((e, i) => b(`${stamp(e.at)} awkward sshd[${700 + i}]: `, e.message, '\n'));
  writeFileSync(
    join(dir, 'auth.log'),
    Buffer.concat([b(`${stamp(t0 - 1)} awkward CRON[1]: session opened for user root\n`), ...log]),
  );
  const perSecond = new Map<number, number>();
  const events = eventSpecs.map((e) => {
    const n = perSecond.get(e.at) ?? 0;
    perSecond.set(e.at, n + 1);
    return {
      message: expected(e.message, 500, 'block'),
      recordId: e.at * 1000 + n,
      eventId: e.eventId,
      loggedAt: new Date(e.at * 1000).toISOString().replace('.000Z', 'Z'),
    };
  });

  // Mount points: names the kernel escapes in /proc/mounts (space, backslash, tab, newline) or not.
  const mountNames: Buffer[] = [
    b('with space'),
    b(`back${BACKSLASH}slash`),
    b(`quote"and'apos`),
    b('tab\there'),
    b('new\nline'),
    b('caf\u00e9'),
    b('bad', [0xff, 0xfe], 'bytes'),
    b('A'.repeat(200), '/', 'B'.repeat(200), '/', 'C'.repeat(200)),
  ];
  // A small ext2 image per name, mounted read-only there (userland-ns.sh): real filesystems.
  mountNames.forEach((_, i) => {
    const image = join(dir, `disk-${i}.img`);
    writeFileSync(image, Buffer.alloc(DISK_IMAGE_BYTES));
    execFileSync('mkfs.ext2', ['-q', '-F', '-m', '0', image]);
  });
  const mnt = join(dir, 'mnt');
  for (const name of mountNames)
    mkdirSync(Buffer.concat([Buffer.from(`${mnt}/`), name]), { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'mounts'), Buffer.concat(mountNames.flatMap((n) => [n, Buffer.from([0])])));
  const mounts = mountNames.map((n) => ({
    mount: expected(Buffer.concat([Buffer.from('/mnt/'), n]), 512, 'line'),
    containsNewline: n.includes(0x0a),
  }));

  return { dir, osName: expected(osBytes, 256, 'line'), users, events, mounts };
}
