import { describe, expect, it } from 'vitest';
import {
  UPLOADED_DIR_MARKER,
  checkWindowsDirName,
  newWindowsDirName,
  parseWindowsUploadedDir,
  windowsCleanupCommand,
  windowsRunCommand,
  windowsRunScript,
  windowsUploadCommand,
  windowsUploadScript,
} from '../src/probe/windows-commands.js';
import { parsePowerShell, syntaxErrors } from './fixtures/windows/powershell-parser.js';

const NAME = 'fleetstat-0123456789abcdef0123456789abcdef';
const TEMP = 'C:\\Users\\svc-monitor\\AppData\\Local\\Temp';

/** Recovers the script from a command line made for either shell. */
function decode(command: string): string {
  const cmd = /^powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ([A-Za-z0-9+/=]+)$/.exec(
    command,
  );
  const ps =
    /^& \(\[scriptblock\]::Create\(\[Text\.Encoding\]::Unicode\.GetString\(\[Convert\]::FromBase64String\('([A-Za-z0-9+/=]+)'\)\)\)\)$/.exec(
      command,
    );
  const b64 = cmd?.[1] ?? ps?.[1];
  if (!b64) throw new Error(`not an encoded command: ${command.slice(0, 80)}`);
  return Buffer.from(b64, 'base64').toString('utf16le');
}

describe('command lines for cmd.exe and PowerShell default shells', () => {
  const commands = {
    upload: (shell: 'cmd' | 'powershell') => windowsUploadCommand(shell, NAME),
    run: (shell: 'cmd' | 'powershell') => windowsRunCommand(shell, `${TEMP}\\${NAME}`),
    cleanup: (shell: 'cmd' | 'powershell') => windowsCleanupCommand(shell),
  };
  for (const [what, make] of Object.entries(commands)) {
    it(`${what}: the cmd line uses only characters no shell layer rewrites, and fits cmd's 8191 limit`, () => {
      const line = make('cmd');
      expect(line).toMatch(/^[A-Za-z0-9+/= -]+$/);
      expect(line.length).toBeLessThan(8191);
    });
    it(`${what}: both shells carry the same script, which parses as PowerShell`, async () => {
      const script = decode(make('cmd'));
      expect(decode(make('powershell'))).toBe(script);
      expect(syntaxErrors(await parsePowerShell(script))).toEqual([]);
      // the PowerShell wrapper itself is valid PowerShell too
      expect(syntaxErrors(await parsePowerShell(make('powershell')))).toEqual([]);
    });
  }

  it('the parser used above does flag broken PowerShell', async () => {
    expect(syntaxErrors(await parsePowerShell("try { $x = 'unterminated }"))).not.toEqual([]);
  });

  it('upload: private ACL without inheritance, stdin into probe.ps1, prints the marker line', () => {
    const script = windowsUploadScript(NAME);
    expect(script).toContain(`Join-Path ([IO.Path]::GetTempPath()) '${NAME}'`);
    expect(script).toContain('SetAccessRuleProtection($true, $false)');
    expect(script).toContain('WindowsIdentity]::GetCurrent().User');
    expect(script).toContain('[Console]::In.ReadToEnd()');
    expect(script).toContain(`'${UPLOADED_DIR_MARKER}'`);
    expect(script).toMatch(/Get-ChildItem[^\n]*fleetstat-\*/); // stale directories first
    expect(script).toContain('exit 74');
  });

  it('run: the probe runs with the agreed flags, the input line only on its stdin, and the directory always goes', () => {
    const script = windowsRunScript(NAME);
    expect(script).toMatch(
      /\$line \| & \$exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \(Join-Path \$dir 'probe\.ps1'\)/,
    );
    expect(script).toMatch(/finally \{\s*Remove-Item -LiteralPath \$dir -Recurse -Force/);
    expect(script).toContain('exit $rc');
    expect(script).not.toMatch(/\$env:[A-Za-z_]+\s*=/); // nothing put into the environment
    expect(script).not.toMatch(/Set-Content|Out-File|WriteAll/); // nor into a file
  });

  it('each upload gets a fresh random name', () => {
    const a = newWindowsDirName();
    const b = newWindowsDirName();
    expect(a).not.toBe(b);
    expect(checkWindowsDirName(a)).toBe(a);
    expect(decode(windowsUploadCommand('cmd'))).toMatch(/'fleetstat-[0-9a-f]{32}'/);
  });
});

describe('validating directory names and paths before they reach a command', () => {
  it('accepts what Windows prints for temp folders', () => {
    for (const temp of [
      TEMP,
      'C:\\Users\\SVC-MO~1\\AppData\\Local\\Temp',
      'C:\\Users\\José Pérez\\AppData\\Local\\Temp',
      'D:\\tmp',
    ]) {
      const dir = `${temp}\\${NAME}`;
      expect(parseWindowsUploadedDir(`noise\r\n${UPLOADED_DIR_MARKER}${dir}\r\n`)).toBe(dir);
      expect(decode(windowsRunCommand('cmd', dir))).toContain(`'${NAME}'`);
    }
  });

  it('refuses anything else', () => {
    const bad = [
      `${TEMP}\\fleetstat-0123`, // not our name
      `${TEMP}\\fleetstat-0123456789ABCDEF0123456789ABCDEF`, // not our hex
      `${TEMP}\\${NAME}'; Remove-Item C:\\ -Recurse; '`,
      `C:\\Users\\a'b\\Temp\\${NAME}`,
      `C:\\Users\\a\u2019b\\Temp\\${NAME}`, // PowerShell also closes strings on curly quotes
      `C:\\Users\\a"b\\Temp\\${NAME}`,
      `C:\\Users\\a\nb\\Temp\\${NAME}`,
      `C:\\Users\\..\\Temp\\${NAME}`,
      `relative\\${NAME}`,
      `/tmp/${NAME}`,
    ];
    for (const dir of bad) {
      expect(parseWindowsUploadedDir(`${UPLOADED_DIR_MARKER}${dir}\n`), dir).toBeNull();
    }
    for (const dir of bad.filter((d) => !d.includes('\\..\\'))) {
      expect(() => windowsRunCommand('cmd', dir), dir).toThrow(/unsafe/);
    }
    expect(() => checkWindowsDirName(`${NAME}'`)).toThrow(/unsafe/);
    expect(parseWindowsUploadedDir(`${TEMP}\\${NAME}\n`)).toBeNull(); // no marker
  });
});
