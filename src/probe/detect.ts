/**
 * OS and shell detection: one command line, sent as an SSH exec request, that every default
 * shell we meet (POSIX sh and its relatives, cmd.exe, Windows PowerShell 5.1, PowerShell 7)
 * answers in its own recognisable way, and the parser of that answer.
 *
 * How the same text reads in each shell (docs/windows.md has the long version):
 *
 *   echo \`';echo "FSD1 ps $env:PROCESSOR_ARCHITECTURE $([Environment]::OSVersion.Version)";exit;echo \`';echo FSD1 sh $(uname -srm) #FSD1 cmd %PROCESSOR_ARCHITECTURE%&ver
 *
 * - sh: `\`` is an escaped backtick and `'` opens a literal string that swallows the whole
 *   PowerShell part up to the second `'`; then `uname` runs and `#` hides the cmd part.
 *   Prints a junk line, then `FSD1 sh Linux 6.1.0-18-amd64 x86_64`.
 * - PowerShell: `` `' `` is an escaped quote, so no string opens; the second echo expands
 *   `$env:` and `$(...)`, and `exit` ends the run before the sh part. Prints `\'`, then
 *   `FSD1 ps AMD64 10.0.20348.0`.
 * - cmd.exe: knows neither `'`, backtick nor `#`; the whole line up to `&` is one echo whose
 *   `%VAR%` is expanded (`... #FSD1 cmd AMD64`), then `ver` prints
 *   `Microsoft Windows [Version 10.0.20348.2113]`.
 * Every marker is anchored where only the shell that ran it can put it, so the echoed copies of
 * the command never match the wrong pattern.
 */
import { oneLine } from '../text/untrusted-text.js';

/** The detection command line (kept short: cmd echoes it back, and every answer stays < 200 bytes). */
export const DETECT_COMMAND =
  'echo \\`\';echo "FSD1 ps $env:PROCESSOR_ARCHITECTURE $([Environment]::OSVersion.Version)";exit;' +
  "echo \\`';echo FSD1 sh $(uname -srm) #FSD1 cmd %PROCESSOR_ARCHITECTURE%&ver";

export interface UnixTarget {
  family: 'unix';
  shell: 'sh';
  /** Lowercased `uname -s`: linux, freebsd, darwin, openbsd, … */
  os: string;
  /** `uname -m`: x86_64, aarch64, arm64, amd64, … */
  arch: string;
  /** `uname -r` */
  kernel: string;
}

export interface WindowsTarget {
  family: 'windows';
  shell: 'cmd' | 'powershell';
  /** PROCESSOR_ARCHITECTURE: AMD64, ARM64, x86 */
  arch: string;
  /** Windows version, e.g. 10.0.20348 or 10.0.20348.2113 */
  version: string;
}

export type DetectedTarget = UnixTarget | WindowsTarget;

export interface DetectReply {
  stdout: string;
  stderr: string | Buffer;
  exitCode: number | null;
}

/** The answer to DETECT_COMMAND was not one we recognise. */
export class DetectError extends Error {
  override readonly name = 'DetectError';
}

// Anchored at line start: the copies of these words inside the echoed command never start a line.
const SH_LINE = /^FSD1 sh (\S{1,64}) (\S{1,128}) (\S{1,64})\s*$/m;
const PS_LINE = /^FSD1 ps (\S{1,32}) (\d{1,5}(?:\.\d{1,10}){1,3})\s*$/m;
// cmd expands %PROCESSOR_ARCHITECTURE%; an unexpanded copy means cmd did not run it.
const CMD_LINE = /#FSD1 cmd ([A-Za-z0-9_]{1,32})\s*$/m;
const VER_LINE = /^Microsoft Windows \[[^\]\r\n]*?(\d{1,5}\.\d{1,5}\.\d{1,10}(?:\.\d{1,10})?)\]\s*$/m;
// POSIX layers on Windows (Cygwin, MSYS2, Git Bash) answer like sh but cannot run probe.sh usefully.
const WINDOWS_POSIX_LAYER = /^(cygwin|msys|mingw)/;

/**
 * Reads the answer to DETECT_COMMAND. Only stdout is data; stderr (parse errors of the shells
 * that do not understand part of the line, OpenSSH warnings) is used only in the error message.
 * Throws DetectError naming what came back when the answer is not recognised.
 */
export function parseDetectReply(reply: DetectReply): DetectedTarget {
  const stdout = reply.stdout.replace(/\r/g, '');

  const sh = SH_LINE.exec(stdout);
  if (sh) {
    const os = sh[1]!.toLowerCase();
    if (WINDOWS_POSIX_LAYER.test(os)) {
      throw new DetectError(
        `the default shell is a POSIX layer on Windows (${oneLine(sh[1]!, 120)}); set OpenSSH's DefaultShell to powershell.exe or cmd.exe`,
      );
    }
    return { family: 'unix', shell: 'sh', os, kernel: sh[2]!, arch: sh[3]! };
  }

  const ps = PS_LINE.exec(stdout);
  if (ps) return { family: 'windows', shell: 'powershell', arch: ps[1]!, version: ps[2]! };

  const cmd = CMD_LINE.exec(stdout);
  const ver = VER_LINE.exec(stdout);
  if (cmd && ver) return { family: 'windows', shell: 'cmd', arch: cmd[1]!, version: ver[1]! };

  const stderr = typeof reply.stderr === 'string' ? reply.stderr : reply.stderr.toString('utf8');
  const parts = [`stdout: "${oneLine(stdout, 120)}"`];
  if (stderr.trim()) parts.push(`stderr: "${oneLine(stderr, 120)}"`);
  throw new DetectError(
    `unrecognised answer to the OS detection command (exit ${reply.exitCode ?? 'none'}; ${parts.join('; ')}); ` +
      'the login shell must be a POSIX sh, or Windows OpenSSH with cmd or PowerShell',
  );
}
