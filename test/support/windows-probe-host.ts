/**
 * Runs the real src/probe/probe.ps1 under pwsh as the collector runs it on a Windows host: the
 * probe file written as the upload script writes it (UTF-8 with BOM, %TEMP%\fleetstat-<hex>),
 * then the collector's own run command line (windowsRunCommand) for a cmd.exe or PowerShell
 * default shell, with the input line on stdin. `powershell.exe` under %SystemRoot% is
 * test/support/windows-host.ps1, which shadows the Windows-only commands (CIM, Get-WinEvent) with
 * stand-ins that read the scenario's fixtures, then runs the probe.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { newRunSecrets, probeInputLine, type ProbeOptions, type RunSecrets } from '../../src/probe/envelope.js';
import { newWindowsDirName, windowsRunCommand, type WindowsShell } from '../../src/probe/windows-commands.js';

export const PS1_PATH = resolve(import.meta.dirname, '../../src/probe/probe.ps1');
export const WINDOWS_FIXTURES = resolve(import.meta.dirname, '../fixtures/windows');
const HOST_SCRIPT = resolve(import.meta.dirname, 'windows-host.ps1');

/** What the simulated host holds (see windows-host.ps1). */
export interface WindowsScenario {
  cim?: string;
  log?: { fixtures: string[]; first: number; count: number; pad?: number } | null;
  access?: 'admin' | 'denied';
  dotnet?: '4.7.2' | '4.6.2';
  standins?: boolean;
  maxVisits?: number;
}

/** One call of a stand-in, as windows-host.ps1 logged it. */
export interface StandInCall {
  cmd: string;
  [key: string]: unknown;
}

export interface WindowsRunOptions {
  scenario: WindowsScenario;
  probe?: Partial<ProbeOptions>;
  /**
   * The host's default shell for OpenSSH ('powershell' loads the account's profile), or 'direct':
   * powershell.exe -File probe.ps1 with `stdin` as it is, without the run command around it.
   */
  shell?: WindowsShell | 'direct';
  /** Text of the PowerShell profile of the account (only a PowerShell default shell loads it). */
  profile?: string;
  /** Replaces the input line (bytes) written to stdin; default: the collector's line. */
  stdin?: Buffer;
  /** Runs it under strace with these options (e.g. ['-f', '-o', file, '-e', 'trace=execve']). */
  strace?: { program: string; options: string[] };
}

export interface WindowsRun {
  code: number | null;
  /** The line written to the probe's stdin. */
  input: Buffer;
  /** This run's own folder: the host's %TEMP% (Temp/) and the account's home (home/). */
  workDir: string;
  stdout: Buffer;
  stderr: string;
  secrets: RunSecrets;
  calls: StandInCall[];
  /** The run command removed the probe's directory. */
  dirRemoved: boolean;
}

/** A throw-away Windows-like host layout: temp folder, %SystemRoot%, home with profile. */
export class WindowsProbeHost {
  private readonly root = mkdtempSync(join(tmpdir(), 'fleetstat-win-'));
  private runs = 0;

  constructor(private readonly pwsh: string) {
    const exeDir = join(this.root, 'SystemRoot', 'System32', 'WindowsPowerShell', 'v1.0');
    mkdirSync(exeDir, { recursive: true });
    const exe = join(exeDir, 'powershell.exe');
    writeFileSync(
      exe,
      `#!/bin/sh\nexec "${pwsh}" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${HOST_SCRIPT}" "$@"\n`,
    );
    chmodSync(exe, 0o755);
    // cmd.exe finds "powershell" on its PATH.
    mkdirSync(join(this.root, 'bin'));
    symlinkSync(pwsh, join(this.root, 'bin', 'powershell'));
  }

  /** Runs the probe once; resolves when pwsh has exited (generous deadline, killed by pid after it). */
  run(opts: WindowsRunOptions): Promise<WindowsRun> {
    const n = (this.runs += 1);
    const work = join(this.root, `run-${n}`);
    const temp = join(work, 'Temp');
    const home = join(work, 'home');
    mkdirSync(join(home, '.config', 'powershell'), { recursive: true });
    if (opts.profile !== undefined)
      writeFileSync(join(home, '.config', 'powershell', 'Microsoft.PowerShell_profile.ps1'), opts.profile);
    const name = newWindowsDirName();
    mkdirSync(join(temp, name), { recursive: true });
    // As the upload script writes it: UTF-8 with BOM.
    writeFileSync(
      join(temp, name, 'probe.ps1'),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(PS1_PATH)]),
    );
    const scenarioFile = join(work, 'scenario.json');
    const callsFile = join(work, 'calls.jsonl');
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        cim: join(WINDOWS_FIXTURES, 'cim', 'server-2022.json'),
        access: 'admin',
        dotnet: '4.7.2',
        ...opts.scenario,
        calls: callsFile,
      }),
    );

    const secrets = newRunSecrets();
    const input =
      opts.stdin ?? Buffer.from(probeInputLine(secrets, { cpuMs: 100, eventCap: 500, lastRecordId: 0, ...opts.probe }));
    const shell = opts.shell ?? 'cmd';
    // The path the upload command printed; the run command keeps only its validated name.
    const command = windowsRunCommand(
      shell === 'direct' ? 'cmd' : shell,
      `C:\\Users\\fleet\\AppData\\Local\\Temp\\${name}`,
    );
    // cmd.exe runs the line as `powershell <flags> -EncodedCommand <b64>`; OpenSSH with a
    // PowerShell default shell runs `powershell -c <line>`, profile included.
    const direct = [
      'powershell.exe',
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      join(temp, name, 'probe.ps1'),
    ];
    const argv =
      shell === 'direct'
        ? direct
        : shell === 'cmd'
          ? command.split(' ')
          : ['pwsh', '-NoLogo', '-NonInteractive', '-c', command];
    const env: NodeJS.ProcessEnv = {
      PATH: `${join(this.root, 'bin')}:${process.env.PATH ?? ''}`,
      HOME: home,
      TMPDIR: temp,
      SystemRoot: join(this.root, 'SystemRoot'),
      FLEETSTAT_TEST_SCENARIO: scenarioFile,
      PROCESSOR_ARCHITECTURE: 'AMD64',
      TZ: 'America/New_York',
      LANG: 'C.UTF-8',
      POWERSHELL_TELEMETRY_OPTOUT: '1',
      POWERSHELL_UPDATECHECK: 'Off',
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    };
    const exe =
      argv[0] === 'powershell.exe'
        ? join(this.root, 'SystemRoot', 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe')
        : argv[0] === 'powershell'
          ? join(this.root, 'bin', 'powershell')
          : this.pwsh;
    return new Promise((done, fail) => {
      const [program, args] = opts.strace
        ? [opts.strace.program, [...opts.strace.options, exe, ...argv.slice(1)]]
        : [exe, argv.slice(1)];
      const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      const timer = setTimeout(() => {
        if (child.pid) process.kill(child.pid, 'SIGKILL');
      }, 300_000);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString('utf8');
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const calls = existsSync(callsFile)
          ? readFileSync(callsFile, 'utf8')
              .split('\n')
              .filter((l) => l.trim())
              .map((l) => JSON.parse(l) as StandInCall)
          : [];
        done({
          code,
          input,
          workDir: work,
          stdout: Buffer.concat(out),
          stderr: err,
          secrets,
          calls,
          dirRemoved: !existsSync(join(temp, name)),
        });
      });
      child.stdin.on('error', () => undefined); // the probe may exit before reading all of stdin
      child.stdin.end(input);
    });
  }

  /** Removes every file the runs made. */
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The event fixture files (real Security event XML), by event id. */
export function eventFixture(eventId: number): string {
  return join(WINDOWS_FIXTURES, 'events', `${eventId}.xml`);
}
