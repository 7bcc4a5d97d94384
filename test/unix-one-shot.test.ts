/**
 * The Unix one-shot command (detect + upload + run in one exec) run by real shells on this
 * machine: dash, bash and busybox ash, with the probe gzip-compressed and plain; no gzip on the
 * target; a POSIX layer of Windows; and the properties that keep it inert for cmd.exe.
 */
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ONE_SHOT_EXIT,
  UNIX_UPLOAD_COMMAND,
  UPLOAD_EXIT,
  splitOneShotReply,
  unixOneShotCommand,
  unixProbePayload,
} from '../src/probe/unix-commands.js';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import { parseDetectReply } from '../src/probe/detect.js';
import { parsePowerShell, syntaxErrors } from './fixtures/windows/powershell-parser.js';
import { requireTool } from './support/requirements.js';

const script = readFileSync(new URL('../src/probe/probe.sh', import.meta.url), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'fleetstat-oneshot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SHELLS: [string, string[]][] = [
  ['dash', ['dash']],
  ['bash', ['bash']],
  ['busybox ash', ['busybox', 'sh']],
];

/** Absolute path of a command (the no-gzip test runs the shell with a PATH that lacks it). */
function which(tool: string): string {
  return spawnSync('sh', ['-c', `command -v ${tool}`])
    .stdout.toString()
    .trim();
}

function runOneShot(
  shell: string[],
  encoding: 'gzip' | 'plain',
  env: NodeJS.ProcessEnv = {},
  payload = unixProbePayload(script, encoding),
) {
  const secrets = newRunSecrets();
  const input = probeInputLine(secrets, { cpuMs: 10, eventCap: 10, lastRecordId: 0 });
  const tmp = mkdtempSync(join(work, 'tmp-'));
  const result = spawnSync(
    which(shell[0]!),
    [...shell.slice(1), '-c', unixOneShotCommand({ sudo: 'none', encoding })],
    {
      input: Buffer.concat([Buffer.from(input), payload]),
      env: { ...process.env, TMPDIR: tmp, ...env },
    },
  );
  return { ...result, secrets, tmp };
}

describe('unixOneShotCommand', () => {
  for (const [name, shell] of SHELLS) {
    for (const encoding of ['gzip', 'plain'] as const) {
      it(`runs the probe under ${name} (${encoding}) and leaves no directory behind`, () => {
        const run = runOneShot(shell, encoding);
        expect(run.status, run.stderr.toString()).toBe(0);
        const parts = splitOneShotReply(run.stdout)!;
        expect(parts).not.toBeNull();
        expect(parseDetectReply({ stdout: parts.detect, stderr: '', exitCode: 0 })).toMatchObject({
          family: 'unix',
          os: 'linux',
        });
        expect(openEnvelope(parts.envelope, run.secrets).host.os).toBe('linux');
        expect(readdirSync(run.tmp)).toEqual([]);
      });
    }
  }

  it('runs the probe from memory: a temp area that does not exist stops nothing', () => {
    const run = runOneShot(['dash'], 'gzip', { TMPDIR: join(work, 'no-such-dir') });
    expect(run.status, run.stderr.toString()).toBe(0);
    expect(openEnvelope(splitOneShotReply(run.stdout)!.envelope, run.secrets).schema).toBe(1);
  });

  it('refuses a truncated upload before anything runs', () => {
    const whole = unixProbePayload(script, 'gzip');
    for (const [encoding, payload] of [
      ['gzip', whole.subarray(0, 20)],
      ['plain', Buffer.from('echo not the probe')],
    ] as const) {
      const run = runOneShot(['dash'], encoding, {}, payload);
      expect(run.status, encoding).toBe(UPLOAD_EXIT.writeFailed);
      expect(run.stderr.toString()).toContain('cannot read the probe (a broken upload?)');
      expect(splitOneShotReply(run.stdout)!.envelope.length).toBe(0);
    }
  });

  it.skipIf(!requireTool('strace', 'it counts process starts'))(
    'starts 12 programs per host besides the login shell, none of them for a temp file',
    () => {
      const trace = join(mkdtempSync(join(work, 'trace-')), 'trace');
      const run = runOneShot(['strace', '-f', '-qq', '-e', 'trace=execve', '-o', trace, 'dash'], 'gzip', {
        LC_ALL: 'C',
      });
      expect(run.status, run.stderr.toString()).toBe(0);
      expect(openEnvelope(splitOneShotReply(run.stdout)!.envelope, run.secrets).schema).toBe(1);
      // Successful execs only (a PATH search shows failed tries), less the login shell itself and the cpu-ms sleep.
      const programs = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => l.includes('execve(') && !/ = -1 /.test(l))
        .map((l) => basename(/execve\("([^"]+)"/.exec(l)![1]!))
        .slice(1)
        .filter((p) => p !== 'sleep');
      for (const fileTool of ['mktemp', 'find', 'id', 'rm', 'cat']) expect(programs, fileTool).not.toContain(fileTool);
      expect(programs.filter((p) => p === 'uname')).toHaveLength(1);
      expect(programs.filter((p) => p === 'openssl')).toHaveLength(1); // sealing; the HMAC by sha256sum
      // uname gzip sh date awk timeout df who awk openssl sha256sum sha256sum (+ timeout journalctl as root)
      expect(programs.length, programs.join(' ')).toBeLessThanOrEqual(process.getuid?.() === 0 ? 14 : 12);
    },
  );

  it('sends less than half the bytes gzip-compressed', () => {
    expect(unixProbePayload(script, 'gzip').length).toBeLessThan(Buffer.byteLength(script) / 2);
  });

  it('exits with noGzip before reading the probe when the target has no gzip', () => {
    const bin = mkdtempSync(join(work, 'bin-'));
    for (const tool of ['uname', 'id', 'find', 'mktemp', 'rm', 'cat', 'sh']) {
      symlinkSync(which(tool), join(bin, tool));
    }
    const run = runOneShot(['dash'], 'gzip', { PATH: bin });
    expect(run.status).toBe(ONE_SHOT_EXIT.noGzip);
    expect(splitOneShotReply(run.stdout)).not.toBeNull();
    expect(readdirSync(run.tmp)).toEqual([]);
  });

  it('stops after the detect line on a POSIX layer of Windows, which the detect parser rejects', () => {
    const bin = mkdtempSync(join(work, 'cygwin-'));
    writeFileSync(join(bin, 'uname'), '#!/bin/sh\necho CYGWIN_NT-10.0-20348 3.5.3-1.x86_64 x86_64\n');
    chmodSync(join(bin, 'uname'), 0o755);
    const run = runOneShot(['dash'], 'gzip', { PATH: `${bin}:${process.env.PATH}` });
    expect(run.status).toBe(0);
    const parts = splitOneShotReply(run.stdout)!;
    expect(parts.envelope.length).toBe(0);
    expect(() => parseDetectReply({ stdout: parts.detect, stderr: '', exitCode: 0 })).toThrow(/POSIX layer/);
    expect(readdirSync(run.tmp)).toEqual([]);
  });

  it('keeps every cmd.exe metacharacter inside one pair of double quotes and holds no percent sign', () => {
    for (const encoding of ['gzip', 'plain'] as const) {
      for (const sudo of ['none', 'nopasswd'] as const) {
        const command = unixOneShotCommand({ sudo, encoding });
        expect(command.split('"')).toHaveLength(3);
        expect(command).not.toMatch(/[%\n\r]/);
        const outside = command.slice(0, command.indexOf('"')) + command.slice(command.lastIndexOf('"') + 1);
        expect(outside).not.toMatch(/[&|<>^]/);
        // PowerShell: an escaped quote, then exit, before any sh code.
        expect(command.startsWith("echo \\`';exit;")).toBe(true);
      }
    }
  });

  it('is valid PowerShell whose first statements are an echo and exit, before any sh code', async () => {
    for (const [encoding, sudo] of [
      ['gzip', 'none'],
      ['plain', 'none'],
      ['gzip', 'nopasswd'],
      ['plain', 'nopasswd'],
    ] as const) {
      const command = unixOneShotCommand({ sudo, encoding });
      const tree = await parsePowerShell(command);
      expect(syntaxErrors(tree)).toEqual([]);
      expect(command.indexOf('exit;')).toBeLessThan(command.indexOf('uname'));
    }
  });

  it('answers null for replies without an FSD1 sh line (Windows shells)', () => {
    expect(splitOneShotReply(Buffer.from("\\'\r\n"))).toBeNull();
    expect(
      splitOneShotReply(Buffer.from(`\\\`';exit;echo \\\`';eval "u=$(uname -srm); echo FSD1 sh $u"\r\n`)),
    ).toBeNull();
  });
});

describe('UNIX_UPLOAD_COMMAND (sudo and the generic path)', () => {
  it('removes our directories older than 10 minutes and keeps younger ones', () => {
    const tmp = mkdtempSync(join(work, 'orphans-'));
    const old = join(tmp, 'fleetstat.oldrun01');
    const young = join(tmp, 'fleetstat.young001');
    mkdirSync(old);
    mkdirSync(young);
    const fifteenMinutesAgo = Date.now() / 1000 - 15 * 60;
    utimesSync(old, fifteenMinutesAgo, fifteenMinutesAgo);
    const run = spawnSync('dash', ['-c', UNIX_UPLOAD_COMMAND], { input: script, env: { ...process.env, TMPDIR: tmp } });
    expect(run.status, run.stderr.toString()).toBe(0);
    const made = run.stdout.toString().trim();
    expect(readFileSync(join(made, 'probe.sh'), 'utf8')).toBe(script);
    expect(readdirSync(tmp).sort()).toEqual([made.slice(tmp.length + 1), 'fleetstat.young001'].sort());
  });
});
