/**
 * The command lines that upload, run and clean up probe.ps1 on a Windows target, for either
 * default shell of OpenSSH for Windows (cmd.exe or PowerShell).
 *
 * Every script runs as `-EncodedCommand <base64 of UTF-16LE>`: base64 has no character that
 * cmd.exe, PowerShell or Win32-OpenSSH's argument escaping would touch, so no quoting layer can
 * change the script. Under cmd the line starts Windows PowerShell directly; under a PowerShell
 * default shell it is decoded and run in that same PowerShell (one process less, and stdin
 * stays the session's own).
 *
 * The directory is `fleetstat-<32 hex>` under the user's temp folder: the name is ours (random
 * on the server), created with an ACL that has inheritance removed and grants only the current
 * user. Paths the target prints back are validated before they reach another command, and only
 * the validated name travels: the target rebuilds the path from its own temp folder.
 */
import { randomBytes } from 'node:crypto';

export type WindowsShell = 'cmd' | 'powershell';

export const WINDOWS_DIR_PREFIX = 'fleetstat-';
const DIR_NAME = /^fleetstat-[0-9a-f]{32}$/;
/** What the upload command prints before the directory path, so stray output cannot pose as it. */
export const UPLOADED_DIR_MARKER = 'FLEETSTAT-DIR ';
// A drive or UNC temp path, no control characters or quotes, ending in our own directory name.
const SAFE_WINDOWS_PATH =
  /^(?:[A-Za-z]:|\\\\[^\\\s"'`]+\\[^\\"'`]+)(?:\\[^\\/:*?"<>|\u0000-\u001f`'\u2018-\u201f]+)*\\(fleetstat-[0-9a-f]{32})$/;

const POWERSHELL_FLAGS = '-NoProfile -NonInteractive -ExecutionPolicy Bypass';

/** A fresh directory name for one run: `fleetstat-` and 16 random bytes as hex. */
export function newWindowsDirName(): string {
  return `${WINDOWS_DIR_PREFIX}${randomBytes(16).toString('hex')}`;
}

/** Throws unless `name` is exactly one of our directory names (it is put inside a script). */
export function checkWindowsDirName(name: string): string {
  if (!DIR_NAME.test(name))
    throw new Error(`refusing unsafe Windows directory name ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

/** Wraps a PowerShell script as one command line for the given default shell. */
export function encodedPowerShell(shell: WindowsShell, script: string): string {
  const encoded = Buffer.from(script, 'utf16le').toString('base64');
  if (shell === 'cmd') return `powershell ${POWERSHELL_FLAGS} -EncodedCommand ${encoded}`;
  return `& ([scriptblock]::Create([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('${encoded}'))))`;
}

/** The directory as the target computes it: its own temp folder plus our validated name. */
function dirExpression(name: string): string {
  return `(Join-Path ([IO.Path]::GetTempPath()) '${checkWindowsDirName(name)}')`;
}

/** PowerShell that removes our directories older than a day (orphans of killed runs). */
export function staleDirCleanupScript(): string {
  return [
    "Get-ChildItem -LiteralPath ([IO.Path]::GetTempPath()) -Directory -Filter 'fleetstat-*' -ErrorAction SilentlyContinue |",
    "  Where-Object { $_.Name -cmatch '^fleetstat-[0-9a-f]{32}$' -and $_.LastWriteTimeUtc -lt [DateTime]::UtcNow.AddDays(-1) } |",
    '  Remove-Item -Recurse -Force -ErrorAction SilentlyContinue',
  ].join('\n');
}

/**
 * The upload script: removes stale directories, creates the new one with a private ACL, writes
 * all of stdin (the probe text, then EOF) into probe.ps1 and prints `FLEETSTAT-DIR <path>`.
 */
export function windowsUploadScript(name: string): string {
  return [
    "$ErrorActionPreference = 'Stop'",
    // Best effort: a stale directory that cannot go now (in use, no rights) is tried again by the
    // next run; it must not stop this upload.
    'try { ' + staleDirCleanupScript().replace(/\n\s*/g, ' ') + ' } catch { }',
    `$dir = ${dirExpression(name)}`,
    'try {',
    // -ErrorAction Stop on an existing name: a directory we did not create is never reused.
    '  $null = New-Item -ItemType Directory -Path $dir -ErrorAction Stop',
    '  $me = [Security.Principal.WindowsIdentity]::GetCurrent().User',
    '  $acl = New-Object System.Security.AccessControl.DirectorySecurity',
    '  $acl.SetAccessRuleProtection($true, $false)',
    "  $rule = New-Object System.Security.AccessControl.FileSystemAccessRule($me, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')",
    '  $acl.AddAccessRule($rule)',
    '  Set-Acl -LiteralPath $dir -AclObject $acl',
    '  $text = [Console]::In.ReadToEnd()',
    "  if (-not $text) { throw 'no probe text arrived on stdin' }",
    // UTF-8 with BOM: Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page.
    "  [IO.File]::WriteAllText((Join-Path $dir 'probe.ps1'), $text, (New-Object System.Text.UTF8Encoding $true))",
    `  [Console]::Out.Write('${UPLOADED_DIR_MARKER}' + $dir + [char]10)`,
    '  exit 0',
    '} catch {',
    '  Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue',
    "  [Console]::Error.WriteLine('fleetstat upload failed: ' + $_.Exception.Message)",
    '  exit 74',
    '}',
  ].join('\n');
}

/**
 * The run script: passes the input line (read here, never written anywhere) on the stdin of a
 * fresh Windows PowerShell running probe.ps1, forwards its output and exit code, and removes
 * the directory in every case.
 */
export function windowsRunScript(name: string): string {
  return [
    `$dir = ${dirExpression(name)}`,
    '$rc = 70',
    'try {',
    '  $line = [Console]::In.ReadLine()',
    "  $exe = Join-Path $env:SystemRoot 'System32\\WindowsPowerShell\\v1.0\\powershell.exe'",
    // A profile may set $OutputEncoding to UTF-8 with BOM, which would put a BOM before the line.
    '  $OutputEncoding = New-Object System.Text.ASCIIEncoding',
    `  $out = $line | & $exe ${POWERSHELL_FLAGS} -File (Join-Path $dir 'probe.ps1')`,
    '  $rc = $LASTEXITCODE',
    '  foreach ($l in @($out)) { [Console]::Out.Write([string]$l + [char]10) }',
    '} catch {',
    "  [Console]::Error.WriteLine('fleetstat run failed: ' + $_.Exception.Message)",
    '} finally {',
    '  Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue',
    '}',
    'exit $rc',
  ].join('\n');
}

/** Upload command line for the detected default shell; stdin must carry probe.ps1's text. */
export function windowsUploadCommand(shell: WindowsShell, name: string = newWindowsDirName()): string {
  return encodedPowerShell(shell, windowsUploadScript(name));
}

/** Run command line for the directory that parseWindowsUploadedDir accepted; stdin carries the input line. */
export function windowsRunCommand(shell: WindowsShell, dir: string): string {
  const match = SAFE_WINDOWS_PATH.exec(dir);
  if (!match) throw new Error(`refusing unsafe Windows directory ${JSON.stringify(dir.slice(0, 200))}`);
  return encodedPowerShell(shell, windowsRunScript(match[1]!));
}

/** Command line that only removes stale `fleetstat-*` directories (older than a day). */
export function windowsCleanupCommand(shell: WindowsShell): string {
  return encodedPowerShell(shell, staleDirCleanupScript());
}

/**
 * Finds the `FLEETSTAT-DIR <path>` line in the upload command's stdout and validates the path
 * (drive or UNC, no quotes or control characters, ending in `\fleetstat-<32 hex>`).
 * Returns null when there is no such line or the path is not safe.
 */
export function parseWindowsUploadedDir(stdout: string): string | null {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(UPLOADED_DIR_MARKER));
  if (!line) return null;
  const dir = line.slice(UPLOADED_DIR_MARKER.length).trim();
  return dir.length <= 400 && SAFE_WINDOWS_PATH.test(dir) && !dir.includes('\\..\\') ? dir : null;
}
