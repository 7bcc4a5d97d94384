import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { DETECT_COMMAND, DetectError, parseDetectReply } from '../src/probe/detect.js';
import { requireTool } from './support/requirements.js';
import { parsePowerShell, syntaxErrors } from './fixtures/windows/powershell-parser.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/detect/${name}`, import.meta.url), 'utf8');

function runWith(shell: string[]): { stdout: string; stderr: string } {
  const [file, ...args] = shell;
  const stdout = execFileSync(file!, [...args, '-c', DETECT_COMMAND], { encoding: 'utf8' });
  return { stdout, stderr: '' };
}

describe('DETECT_COMMAND on real POSIX shells', () => {
  const shells = [['dash'], ['bash'], ['busybox', 'sh']];
  for (const shell of shells) {
    it.skipIf(!requireTool(shell[0]!))(`${shell.join(' ')} answers as unix with this machine's uname`, () => {
      const reply = runWith(shell);
      expect(Buffer.byteLength(reply.stdout)).toBeLessThan(200);
      const target = parseDetectReply({ ...reply, exitCode: 0 });
      expect(target).toEqual({
        family: 'unix',
        shell: 'sh',
        os: os.type().toLowerCase(),
        kernel: os.release(),
        arch: os.machine(),
      });
    });
  }
});

describe('DETECT_COMMAND is valid PowerShell', () => {
  it('parses without ERROR or MISSING nodes, and the sh part sits after exit', async () => {
    const tree = await parsePowerShell(DETECT_COMMAND);
    expect(syntaxErrors(tree)).toEqual([]);
    const text = tree.rootNode.text;
    expect(text.indexOf('exit;')).toBeLessThan(text.indexOf('uname'));
  });
  it('stays short enough that cmd echoing it back keeps the answer under 200 bytes', () => {
    expect(Buffer.byteLength(fixture('windows-cmd.stdout'))).toBeLessThan(200);
    // the cmd fixture must be exactly what cmd would echo of the current command
    const echoed = DETECT_COMMAND.slice('echo '.length, DETECT_COMMAND.indexOf('&ver')).replace(
      '%PROCESSOR_ARCHITECTURE%',
      'AMD64',
    );
    expect(fixture('windows-cmd.stdout').split('\r\n')[0]).toBe(echoed);
  });
});

describe('parseDetectReply on recorded Windows answers', () => {
  it('cmd.exe', () => {
    expect(parseDetectReply({ stdout: fixture('windows-cmd.stdout'), stderr: '', exitCode: 0 })).toEqual({
      family: 'windows',
      shell: 'cmd',
      arch: 'AMD64',
      version: '10.0.20348.2113',
    });
    expect(parseDetectReply({ stdout: fixture('windows-cmd-de.stdout'), stderr: '', exitCode: 0 })).toEqual({
      family: 'windows',
      shell: 'cmd',
      arch: 'x86',
      version: '10.0.19045.4291',
    });
  });
  it('Windows PowerShell 5.1 and PowerShell 7', () => {
    expect(parseDetectReply({ stdout: fixture('windows-powershell51.stdout'), stderr: '', exitCode: 0 })).toEqual({
      family: 'windows',
      shell: 'powershell',
      arch: 'AMD64',
      version: '10.0.20348.0',
    });
    expect(parseDetectReply({ stdout: fixture('windows-pwsh7.stdout'), stderr: '', exitCode: 0 })).toEqual({
      family: 'windows',
      shell: 'powershell',
      arch: 'ARM64',
      version: '10.0.22631.0',
    });
  });
  it('refuses a POSIX layer on Windows with advice', () => {
    expect(() => parseDetectReply({ stdout: fixture('windows-msys-bash.stdout'), stderr: '', exitCode: 0 })).toThrow(
      /POSIX layer on Windows.*DefaultShell/,
    );
  });
  it('refuses an unknown answer, quoting a short sanitised excerpt', () => {
    const call = () => parseDetectReply({ stdout: fixture('csh.stdout'), stderr: fixture('csh.stderr'), exitCode: 1 });
    expect(call).toThrow(DetectError);
    expect(call).toThrow(/exit 1; stdout: ""; stderr: "Illegal variable name\."/);
  });
  it('does not take the echoed command for an answer', () => {
    // cmd output without the ver line, and an unexpanded variable: nothing ran
    const echoed = DETECT_COMMAND.slice(5);
    expect(() => parseDetectReply({ stdout: `${echoed}\r\n`, stderr: '', exitCode: 0 })).toThrow(DetectError);
  });
  it('strips control characters and bounds the excerpt', () => {
    const hostile = `\u001b[31mevil\r\nBcc: x@y\u0007${'A'.repeat(500)}`;
    try {
      parseDetectReply({ stdout: hostile, stderr: Buffer.from('oops\n'), exitCode: 127 });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(message.length).toBeLessThan(400);
      expect(message).toContain('exit 127');
    }
  });
});
