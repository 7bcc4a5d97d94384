/**
 * The run secrets never leave the probe's shell variables: not in any child's argv or
 * environment (checked with strace, under every shell of the target matrix), and no file is
 * written anywhere (TMPDIR stays empty, and strace sees no open for writing other than
 * /dev/null). Where printf is no builtin (mksh, posh) the probe, and the sudo-password run
 * command, refuse with exit 69 before any secret is used.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import { splitOneShotReply, unixOneShotCommand, unixProbePayload, unixRunCommand } from '../src/probe/unix-commands.js';
import { emptyDir, PROBE_PATH, runProbe, type ShimDir } from './probe-runner.js';
import { requireTool } from './support/requirements.js';
import { matrixShells, pathWithoutDashOrBash } from './targets-matrix.js';

const strace = requireTool('strace', 'it proves secrets stay out of argv');
const cleanup: ShimDir[] = [];
afterAll(() => {
  for (const d of cleanup) d.remove();
});

/** The printf format probe.sh builds for the padded key XOR a pad byte (its "byte form"). */
function octalForm(hexKey: string, pad: number): string {
  const bytes = Buffer.concat([Buffer.from(hexKey, 'hex'), Buffer.alloc(32)]);
  return [...bytes].map((b) => `\\${(b ^ pad).toString(8).padStart(3, '0')}`).join('');
}

const shells = matrixShells();

/** Every form of the secrets a trace might show: hex, upper-case hex, the MAC key's byte forms. */
function expectNoSecret(trace: string, secrets: { encPass: string; macKey: string }, also: string[] = []): void {
  for (const secret of [
    secrets.encPass,
    secrets.macKey,
    secrets.encPass.toUpperCase(),
    secrets.macKey.toUpperCase(),
    ...also,
  ]) {
    expect(trace).not.toContain(secret);
  }
  for (const pad of [0x36, 0x5c, 0]) {
    const form = octalForm(secrets.macKey, pad);
    expect(trace).not.toContain(form.slice(0, 32));
    expect(trace).not.toContain(form.slice(0, 32).replaceAll('\\', '\\\\'));
  }
  // Raw bytes of the MAC key as strace prints them (\x.. escapes).
  const rawKey = [...Buffer.from(secrets.macKey, 'hex').subarray(0, 8)]
    .map((b) => `\\x${b.toString(16).padStart(2, '0')}`)
    .join('');
  expect(trace).not.toContain(rawKey);
}

// Each shell with this machine's PATH (yash, mksh and posh rerun the probe under dash), and
// those three again with no dash or bash on PATH (yash alone; mksh and posh refuse).
const alone = pathWithoutDashOrBash();
cleanup.push(alone);
const cells = [
  ...shells.map((sh) => ({
    name: sh.name,
    shell: sh.argv,
    kind: sh.reruns ? 'full' : sh.kind,
    path: undefined as string | undefined,
  })),
  ...shells
    .filter((sh) => sh.reruns)
    .map((sh) => ({ name: `${sh.name}, no dash or bash`, shell: sh.argv, kind: sh.kind, path: alone.dir })),
];

describe.skipIf(!strace).each(cells)('secrets under strace ($name)', ({ shell, kind, path }) => {
  it('are in no argv, no environment and no file', async () => {
    const secrets = newRunSecrets();
    const work = emptyDir('fleetstat-trace-');
    const tmp = emptyDir('fleetstat-tmpdir-');
    cleanup.push(work, tmp);
    const traceFile = join(work.dir, 'trace');
    const run = await runProbe(probeInputLine(secrets, { cpuMs: 100, eventCap: 10, lastRecordId: 0 }), {
      // -y names each fd's file, so writes into pipes (where the secrets travel) are told apart.
      shell: [
        strace!,
        '-f',
        '-v',
        '-y',
        '-s',
        '65536',
        '-o',
        traceFile,
        '-e',
        'trace=execve,open,openat,creat,rename,link,symlink,write',
        ...shell,
      ],
      env: { TMPDIR: tmp.dir, ...(path ? { PATH: path } : {}) },
    });
    const trace = readFileSync(traceFile, 'utf8');
    const execs = trace.split('\n').filter((l) => l.includes('execve('));
    expect(execs.length).toBeGreaterThan(0);
    // -v: every environment is in the trace too, not abbreviated as "/* N vars */".
    expect(execs.every((l) => l.includes('"PATH=') || l.includes('= -1 '))).toBe(true);
    if (kind === 'refuses') {
      expect(run.status).toBe(69);
      expect(run.stderr).toContain('no printf builtin in this sh');
      expect(execs.some((l) => l.includes('"openssl"'))).toBe(false);
    } else {
      expect(run.status).toBe(0);
      // The envelope still opens: the trace did not change what the probe does.
      expect(openEnvelope(run.stdout, secrets).schema).toBe(1);
      expect(execs.some((l) => l.includes('"openssl"'))).toBe(true); // the trace did see the children
    }
    const lines = trace.split('\n');
    // Writes into pipes (socketpairs in ksh93) carry the secrets to openssl by design; nothing else may hold them.
    expectNoSecret(lines.filter((l) => !/ write\(\d+<(pipe|socket):/.test(l)).join('\n'), secrets);
    expect(lines.filter((l) => / write\(\d+<(pipe|socket):/.test(l)).some((l) => l.includes(secrets.encPass))).toBe(
      kind !== 'refuses',
    );

    // ksh93 buffers $(...) output in unlinked /dev/shm files of its own: allowed, as the check
    // above shows that no secret was written into them. Nothing else opens a file for writing.
    const writes = lines
      .filter((l) => /O_WRONLY|O_RDWR|O_CREAT|creat\(|rename\(|link\(/.test(l))
      .filter((l) => !l.includes('"/dev/null"') && !/= -1 /.test(l))
      .filter(
        (l) =>
          !(
            kind === 'full' &&
            shell[0]!.endsWith('ksh') &&
            /openat\(AT_FDCWD<[^>]*>, "\/dev\/shm\/sf[\w.]+", O_RDWR\|O_CREAT\|O_EXCL/.test(l)
          ),
      );
    expect(writes).toEqual([]);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});

describe.skipIf(!strace || !requireTool('sudo', 'the sudo-password run command is traced')).each(shells)(
  'the sudo password under strace ($name as login shell)',
  ({ argv: shell, kind }) => {
    // The run command has no rerun: where printf is no builtin (kind 'refuses') it refuses.
    it('is in no argv and no environment, or the command refuses first', async () => {
      const secrets = newRunSecrets();
      const password = `pw-${newRunSecrets().runId}`;
      const dir = mkdtempSync(join(tmpdir(), 'fleetstat.'));
      copyFileSync(PROBE_PATH, join(dir, 'probe.sh'));
      const stdin = `${password}\n${probeInputLine(secrets, { cpuMs: 0, eventCap: 0, lastRecordId: 0 })}`;
      const { status, out, err, trace } = await traceCommand(shell, unixRunCommand(dir, 'password'), stdin);
      if (kind === 'refuses') {
        expect(status).toBe(69);
        expect(err).toContain('the sudo password would reach its argv');
      } else {
        expect(status).toBe(0);
        expect(openEnvelope(out, secrets).schema).toBe(1);
        expect(trace).toMatch(/execve\("[^"]*sudo"/); // sudo did run
      }
      expect(existsSync(dir)).toBe(false); // removed whatever the outcome
      expectNoSecret(trace, secrets, [password]);
    });
  },
);

describe.skipIf(!strace).each(shells)('the one-shot command under strace ($name as login shell)', ({ argv: shell }) => {
  it('passes the input line by the echo builtin: no secret in any argv or environment', async () => {
    const secrets = newRunSecrets();
    const stdin = Buffer.concat([
      Buffer.from(probeInputLine(secrets, { cpuMs: 0, eventCap: 0, lastRecordId: 0 })),
      unixProbePayload(readFileSync(PROBE_PATH, 'utf8'), 'gzip'),
    ]);
    const { status, out, trace } = await traceCommand(
      shell,
      unixOneShotCommand({ sudo: 'none', encoding: 'gzip' }),
      stdin,
    );
    expect(status).toBe(0);
    const reply = splitOneShotReply(out);
    expect(openEnvelope(reply!.envelope, secrets).schema).toBe(1);
    expect(trace).toMatch(/execve\("[^"]*openssl"/);
    expectNoSecret(trace, secrets);
  });
});

/** Runs `shell -c command` under strace (execve with argv and environments) with `stdin`. */
async function traceCommand(
  shell: string[],
  command: string,
  stdin: string | Buffer,
): Promise<{ status: number | null; out: Buffer; err: string; trace: string }> {
  const work = emptyDir('fleetstat-trace-');
  cleanup.push(work);
  const traceFile = join(work.dir, 'trace');
  const child = spawn(
    strace!,
    ['-f', '-v', '-s', '65536', '-o', traceFile, '-e', 'trace=execve', ...shell, '-c', command],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  child.stdin.on('error', () => {}); // a refusing command may exit before reading all of stdin; the status says so
  child.stdin.end(stdin);
  const status = await new Promise<number | null>((done) => child.on('close', done));
  return { status, out: Buffer.concat(out), err, trace: readFileSync(traceFile, 'utf8') };
}
