/**
 * The shell command lines that upload and run probe.sh on a Unix target. The probe travels on
 * the upload command's stdin into a fresh mktemp directory (mode 0700, made by the remote
 * user) and runs as `sh probe.sh`, so a noexec temp area still works. The run command removes
 * the directory whatever the probe's outcome; a directory orphaned by a killed run is removed
 * by the next run's upload command.
 */

import { gzipSync } from 'node:zlib';

export const TEMP_PREFIX = 'fleetstat.';

/** The probe's $0 when the one-shot command runs it from memory (probe.sh knows this name). */
export const PROBE_NAME = 'fleetstat-probe';

/** Age in minutes past which a leftover probe directory is an orphan (a run is bounded by its timeout). */
const ORPHAN_AGE_MINUTES = 10;

/** Exit codes of the upload command, mapped to messages by the collector. */
export const UPLOAD_EXIT = { noTempDir: 73, writeFailed: 74 } as const;

/** Upload command: prints the new directory's path; stdin is the probe script. */
export const UNIX_UPLOAD_COMMAND = [
  'umask 077',
  't="${TMPDIR:-/tmp}"',
  // Orphans of killed runs: our own directories older than 10 minutes (a run is bounded by its timeout).
  `find "$t" -maxdepth 1 -name '${TEMP_PREFIX}*' -user "$(id -u)" -mmin +${ORPHAN_AGE_MINUTES} -exec rm -rf {} + 2>/dev/null`,
  `d=$(mktemp -d "$t/${TEMP_PREFIX}XXXXXXXX" 2>/dev/null) || { echo "cannot create a private directory in $t (read-only or full?)" >&2; exit ${UPLOAD_EXIT.noTempDir}; }`,
  `cat > "$d/probe.sh" || { rm -rf "$d"; echo "cannot write the probe into $d (disk full?)" >&2; exit ${UPLOAD_EXIT.writeFailed}; }`,
  'printf "%s\\n" "$d"',
].join('; ');

const SAFE_DIR = new RegExp(`^/[A-Za-z0-9._/-]*/${TEMP_PREFIX.replace('.', '\\.')}[A-Za-z0-9]{6,}$`);

/** Validates the directory path the target printed before it is put in a command line. */
export function parseUploadedDir(stdout: string): string | null {
  const dir = stdout.trim();
  return SAFE_DIR.test(dir) && !dir.includes('..') ? dir : null;
}

/**
 * Run command. `sudo` selects how the probe is elevated: none, `sudo -n` (passwordless) or
 * `password`: the first stdin line is the password, read by the shell and given to `sudo -S -v`
 * alone (printf is a builtin, checked first: never in argv). A wrong password thus costs one attempt and sudo
 * never reads the probe's input line (the run key) as a second try; the probe then runs under
 * `sudo -n` on the credential just cached, and `sudo -k` drops it afterwards.
 */
export function unixRunCommand(dir: string, sudo: 'none' | 'nopasswd' | 'password' = 'none'): string {
  if (parseUploadedDir(dir) === null) throw new Error(`refusing unsafe directory name ${JSON.stringify(dir)}`);
  if (sudo === 'password') {
    // Where printf is no builtin (mksh, posh) the password would reach its argv: refuse (exit 69).
    const printfBuiltin = `LC_ALL=C; export LC_ALL; case $(command -V printf 2>&1) in *builtin*|*built-in*) ;; *) p=; rm -rf '${dir}'; echo "printf is not a builtin of this login shell: the sudo password would reach its argv; use a login shell such as bash, dash or ksh93, or passwordless sudo" >&2; exit 69;; esac`;
    return `IFS= read -r p; ${printfBuiltin}; printf '%s\\n' "$p" | sudo -S -p '' -v && sudo -n sh '${dir}/probe.sh'; rc=$?; p=; sudo -k; rm -rf '${dir}'; exit $rc`;
  }
  const elevate = sudo === 'nopasswd' ? 'sudo -n ' : '';
  return `${elevate}sh '${dir}/probe.sh'; rc=$?; rm -rf '${dir}'; exit $rc`;
}

/** Exit codes of the one-shot command: the upload's, and "no gzip here" (resend it plain). */
export const ONE_SHOT_EXIT = { ...UPLOAD_EXIT, noGzip: 75 } as const;

/** How the probe travels in the one-shot command's stdin. */
export type ProbeEncoding = 'gzip' | 'plain';

let lastGzip: { script: string; payload: Buffer } | undefined;

/** The probe bytes sent to the target: gzip-compressed (once per script text) or as is. */
export function unixProbePayload(script: string, encoding: ProbeEncoding): Buffer {
  if (encoding === 'plain') return Buffer.from(script, 'utf8');
  if (lastGzip?.script !== script) lastGzip = { script, payload: gzipSync(script, { level: 9 }) };
  return lastGzip.payload;
}

/**
 * One-shot command for Unix targets: detect, upload and run in a single exec request, where the
 * generic path needs three (DETECT_COMMAND, UNIX_UPLOAD_COMMAND, unixRunCommand). Its stdin is
 * the probe's input line followed by the probe (gzip or plain); it prints the line
 * `FSD1 sh <uname -srm>` that DETECT_COMMAND would print, then the probe's envelope. It never
 * puts the input line in argv (echo is a shell builtin). On a POSIX layer of Windows (Cygwin,
 * MSYS) it stops after the FSD1 line, so parseDetectReply rejects the host as before.
 *
 * Without sudo the probe runs from memory: `sh -c PROBE fleetstat-probe PROBE UNAME` (the text is
 * public; $1 lets it rerun itself under dash or bash, UNAME spares it a `uname`), so no temp
 * directory is made, searched for orphans or removed: four processes less per host than the
 * file (`id`, `find`, `mktemp`, `rm`). With `sudo -n` it goes through a private mktemp directory
 * as before, since sudo would log a command line holding the whole probe.
 *
 * Windows shells do nothing with it and never read its stdin: PowerShell stops at `exit`, and
 * cmd.exe reads the whole line as one `echo` (the sh part sits inside one pair of double quotes,
 * which hide `> | &` from cmd, and holds no `%`). No `FSD1 sh` line comes back, and the caller
 * falls back to DETECT_COMMAND and the generic path.
 */
export function unixOneShotCommand(options: { sudo: 'none' | 'nopasswd'; encoding: ProbeEncoding }): string {
  const decode = options.encoding === 'gzip' ? 'gzip -dc' : 'cat';
  const run =
    options.sudo === 'none'
      ? [
          // The probe's text in a variable; a truncated upload fails here, before anything runs.
          `p=$(${decode}); case $p in '#!/bin/sh'*) ;; *) echo cannot read the probe '(a broken upload?)' >&2; exit ${UPLOAD_EXIT.writeFailed};; esac`,
          `echo $l | sh -c $p ${PROBE_NAME} $p $u`,
        ]
      : [
          't=${TMPDIR:-/tmp}',
          `find $t -maxdepth 1 -name '${TEMP_PREFIX}*' -user $(id -u) -mmin +${ORPHAN_AGE_MINUTES} -exec rm -rf {} + 2>/dev/null`,
          `d=$(mktemp -d $t/${TEMP_PREFIX}XXXXXXXX 2>/dev/null) || { echo cannot create a private directory in $t '(read-only or full?)' >&2; exit ${UPLOAD_EXIT.noTempDir}; }`,
          `${decode} >$d/probe.sh || { rm -rf $d; echo cannot write the probe into $d '(disk full or a broken upload?)' >&2; exit ${UPLOAD_EXIT.writeFailed}; }`,
          `echo $l | sudo -n sh $d/probe.sh`,
          'rc=$?',
          'rm -rf $d',
          'exit $rc',
        ];
  // IFS empty and globbing off: the unquoted expansions below are single words, never patterns.
  const sh = [
    'u=$(uname -srm)',
    'echo FSD1 sh $u',
    'case $u in CYGWIN*|MSYS*|MINGW*) exit 0;; esac',
    'IFS=',
    'set -f',
    'umask 077',
    'read -r l || exit 64',
    ...(options.encoding === 'gzip' ? [`command -v gzip >/dev/null 2>&1 || exit ${ONE_SHOT_EXIT.noGzip}`] : []),
    ...run,
  ].join('; ');
  // Inside cmd's one pair of quotes: no quote, percent sign, backtick or newline may appear.
  if (/["%`\\\n\r]/.test(sh)) throw new Error('one-shot command text holds a character cmd.exe or eval would misread');
  return `echo \\\`';exit;echo \\\`';eval "${sh.replace(/\$/g, '\\$')}"`;
}

/** Splits a one-shot reply at its `FSD1 sh` line; null when the target's shell is not sh. */
export function splitOneShotReply(stdout: Buffer): { detect: string; envelope: Buffer } | null {
  const text = stdout.toString('latin1'); // byte offsets = string offsets
  const match = /^FSD1 sh [^\n]*\n/m.exec(text);
  if (!match) return null;
  const end = match.index + match[0].length;
  return { detect: text.slice(0, end), envelope: stdout.subarray(end) };
}
