/**
 * The shell command lines that upload and run probe.sh on a Unix target. The probe travels on
 * the upload command's stdin into a fresh mktemp directory (mode 0700, made by the remote
 * user) and runs as `sh probe.sh`, so a noexec temp area still works. The run command removes
 * the directory whatever the probe's outcome; a directory orphaned by a killed run is removed
 * by the next run's upload command.
 */

export const TEMP_PREFIX = 'fleetstat.';

/** Exit codes of the upload command, mapped to messages by the collector. */
export const UPLOAD_EXIT = { noTempDir: 73, writeFailed: 74 } as const;

/** Upload command: prints the new directory's path; stdin is the probe script. */
export const UNIX_UPLOAD_COMMAND = [
  'umask 077',
  't="${TMPDIR:-/tmp}"',
  // Orphans of killed runs: our own directories older than 10 minutes (a run is bounded by its timeout).
  `find "$t" -maxdepth 1 -name '${TEMP_PREFIX}*' -user "$(id -u)" -mmin +10 -exec rm -rf {} + 2>/dev/null`,
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
 * `sudo -S` (the password is the first stdin line, read by sudo, never in argv).
 */
export function unixRunCommand(dir: string, sudo: 'none' | 'nopasswd' | 'password' = 'none'): string {
  if (parseUploadedDir(dir) === null) throw new Error(`refusing unsafe directory name ${JSON.stringify(dir)}`);
  const elevate = sudo === 'nopasswd' ? 'sudo -n ' : sudo === 'password' ? "sudo -S -p '' " : '';
  return `${elevate}sh '${dir}/probe.sh'; rc=$?; rm -rf '${dir}'; exit $rc`;
}
