/**
 * probe.ps1 run by pwsh as the collector runs it (the cmd.exe run command: an outer PowerShell
 * that reads the input line and pipes it to powershell.exe -File probe.ps1), the whole process
 * tree under strace: every execve with its argv and environment, every open, rename and link,
 * every write. The run secrets, and what is derived from them (raw key bytes, base64, UTF-16,
 * the PBKDF2 key and IV, the HMAC pads), must appear in no argv, no environment and no write
 * but the one that hands the input line to the probe's stdin; no file the run leaves holds them.
 * The Unix probe's counterpart is test/probe-secrets.test.ts.
 */
import { pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withoutStartupNoise } from '../src/collect/collect-host.js';
import { openEnvelope, type RunSecrets } from '../src/probe/envelope.js';
import { requireTool } from './support/requirements.js';
import { eventFixture, WindowsProbeHost } from './support/windows-probe-host.js';

const pwsh = requireTool(
  'pwsh',
  'the Windows probe runs under PowerShell 7 with stand-ins for the Windows-only commands',
);
const strace = requireTool(
  'strace',
  'it proves the Windows probe keeps its secrets out of argv, environment and files',
);
const host = pwsh && strace ? new WindowsProbeHost(pwsh) : undefined;
const work = mkdtempSync(join(tmpdir(), 'fleetstat-ps1-trace-'));
afterAll(() => {
  host?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

// -xx: every string in hex, so bytes of any encoding can be searched; -y: each fd's file.
const TRACE_CALLS =
  'execve,execveat,open,openat,creat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,write,pwrite64,writev,pwritev,pwritev2,sendto,sendmsg';
const HEX_STRING = /"((?:\\x[0-9a-f]{2})*)"/g;
const bytesOf = (hex: string) => Buffer.from(hex.replaceAll('\\x', ''), 'hex');
/** A trace line with its hex strings and fd names shown as text, for messages. */
const readable = (line: string) =>
  line
    .replace(
      /(["<])((?:\\x[0-9a-f]{2})+)([">])/g,
      (_m, a: string, hex: string, b: string) =>
        `${a}${JSON.stringify(bytesOf(hex).toString('latin1')).slice(1, -1)}${b}`,
    )
    .slice(0, 300);

/** Every form of the run secrets a leak could take, each with a name for the report. */
function secretForms(secrets: RunSecrets, salt: Buffer): Array<[string, Buffer]> {
  const forms: Array<[string, Buffer]> = [];
  const add = (name: string, raw: Buffer) => {
    const head = raw.subarray(0, 16); // a part of a secret is a leak too
    forms.push(
      [`${name} (bytes)`, head],
      [`${name} (hex)`, Buffer.from(head.toString('hex'))],
      [`${name} (HEX)`, Buffer.from(head.toString('hex').toUpperCase())],
      [`${name} (base64)`, Buffer.from(raw.toString('base64').slice(0, 20))],
    );
  };
  for (const [name, hex] of [
    ['enc-pass', secrets.encPass],
    ['mac-key', secrets.macKey],
  ] as const) {
    forms.push(
      [`${name} as text`, Buffer.from(hex.slice(0, 32))],
      [`${name} as upper-case text`, Buffer.from(hex.slice(0, 32).toUpperCase())],
      [`${name} as UTF-16`, Buffer.from(hex.slice(0, 32), 'utf16le')],
    );
    add(name, Buffer.from(hex, 'hex'));
  }
  const material = pbkdf2Sync(Buffer.from(secrets.encPass, 'ascii'), salt, 1000, 48, 'sha256');
  add('AES key', material.subarray(0, 32));
  add('AES IV', material.subarray(32));
  const padded = Buffer.concat([Buffer.from(secrets.macKey, 'hex'), Buffer.alloc(32)]);
  add('HMAC inner pad', Buffer.from(padded.map((b) => b ^ 0x36)));
  add('HMAC outer pad', Buffer.from(padded.map((b) => b ^ 0x5c)));
  return forms;
}

/** The salt of a sealed reply: the 8 bytes after "Salted__" in its ciphertext. */
function saltOf(reply: Buffer): Buffer {
  const ciphertext = Buffer.from(reply.toString('ascii').trim().split(' ')[2]!, 'base64');
  const at = ciphertext.indexOf('Salted__');
  expect(at).toBeGreaterThanOrEqual(0);
  return ciphertext.subarray(at + 8, at + 16);
}

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

describe.skipIf(!host)('probe.ps1 secrets under strace', () => {
  it('are in no argv, no environment and no file: only the pipe that hands the input line to the probe carries them', async () => {
    const traceFile = join(work, 'trace');
    const run = await host!.run({
      scenario: { log: { fixtures: [4624, 4625, 4672].map(eventFixture), first: 48213, count: 6 } },
      strace: {
        program: strace!,
        options: ['-f', '-v', '-xx', '-y', '-s', '1048576', '-o', traceFile, '-e', `trace=${TRACE_CALLS}`],
      },
    });
    expect(run.code, run.stderr).toBe(0);
    // The trace did not change what the probe does: the reply opens, with every event.
    const reply = withoutStartupNoise(run.stdout);
    expect(openEnvelope(reply, run.secrets).events.items.map((e) => e.record_id)).toEqual([
      48213, 48214, 48215, 48216, 48217, 48218,
    ]);
    expect(run.dirRemoved).toBe(true);

    const lines = readFileSync(traceFile, 'utf8').split('\n');
    const execs = lines.filter((l) => /\bexecve(at)?\(/.test(l) && !/ = -1 /.test(l));
    // The outer PowerShell, the dotnet host it is, and powershell.exe with the probe (windows-probe-host.ts).
    expect(execs.length).toBeGreaterThanOrEqual(3);
    // -v: each environment in full, not "/* N vars */".
    const pathVar = [...Buffer.from('PATH=')].map((b) => `\\x${b.toString(16)}`).join('');
    expect(execs.filter((l) => !l.includes(`"${pathVar}`)).map(readable)).toEqual([]);

    // The one write allowed to hold the secrets: the run command piping the input line to the probe.
    const handOver = (l: string) => {
      const m = /\bwrite\(\d+<((?:\\x[0-9a-f]{2})+)>, "((?:\\x[0-9a-f]{2})*)"/.exec(l);
      return (
        m !== null &&
        bytesOf(m[1]!).toString('latin1').startsWith('pipe:') &&
        bytesOf(m[2]!)
          .toString('latin1')
          .replace(/\r?\n$/, '') === run.input.toString('latin1').replace(/\r?\n$/, '')
      );
    };
    expect(lines.filter(handOver)).toHaveLength(1); // and the trace does see the secrets where they travel

    const forms = secretForms(run.secrets, saltOf(reply));
    const rest = lines.filter((l) => !handOver(l));
    const leaks = rest.flatMap((l) => {
      const strings = [...l.matchAll(HEX_STRING)].map((m) => bytesOf(m[1]!));
      return forms
        .filter(([, form]) => strings.some((s) => s.includes(form)))
        .map(([name]) => `${name}: ${readable(l)}`);
    });
    expect(leaks).toEqual([]);
    // Split over several writes (or calls) it would still be there once the pieces are joined.
    const joined = Buffer.concat(rest.flatMap((l) => [...l.matchAll(HEX_STRING)].map((m) => bytesOf(m[1]!))));
    expect(forms.filter(([, form]) => joined.includes(form)).map(([name]) => name)).toEqual([]);

    // What the run leaves on the host (its %TEMP%, the account's home, caches): none of it.
    const files = filesUnder(run.workDir);
    expect(files.length).toBeGreaterThan(0);
    expect(
      files.flatMap((f) =>
        forms.filter(([, form]) => readFileSync(f).includes(form)).map(([name]) => `${name} in ${f}`),
      ),
    ).toEqual([]);
  }, 900_000);
});
