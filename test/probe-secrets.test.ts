/**
 * The run secrets never leave the probe's shell variables: not in any child's argv or
 * environment (checked with strace), and no file is written anywhere (TMPDIR stays empty, and
 * strace sees no open for writing other than /dev/null).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunSecrets, openEnvelope, probeInputLine } from '../src/probe/envelope.js';
import { emptyDir, runProbe, which, type ShimDir } from './probe-runner.js';
import { requireTool } from './support/requirements.js';

const strace = requireTool('strace', 'it proves secrets stay out of argv');
const cleanup: ShimDir[] = [];
afterAll(() => { for (const d of cleanup) d.remove(); });

/** The printf format probe.sh builds for the padded key XOR a pad byte (its "byte form"). */
function octalForm(hexKey: string, pad: number): string {
  const bytes = Buffer.concat([Buffer.from(hexKey, 'hex'), Buffer.alloc(32)]);
  return [...bytes].map((b) => `\\${(b ^ pad).toString(8).padStart(3, '0')}`).join('');
}

const shells = [['dash'], ...(requireTool('busybox') ? [[which('busybox')!, 'ash']] : [])];

describe.skipIf(!strace).each(shells)('secrets under strace (%s)', (...shell) => {
  it('are in no argv, no environment and no file', async () => {
    const secrets = newRunSecrets();
    const work = emptyDir('fleetstat-trace-');
    const tmp = emptyDir('fleetstat-tmpdir-');
    cleanup.push(work, tmp);
    const traceFile = join(work.dir, 'trace');
    const run = await runProbe(probeInputLine(secrets, { cpuMs: 100, eventCap: 10, lastRecordId: 0 }), {
      shell: [strace!, '-f', '-v', '-s', '65536', '-o', traceFile,
        '-e', 'trace=execve,open,openat,creat,rename,link,symlink', ...shell],
      env: { TMPDIR: tmp.dir },
    });
    expect(run.status).toBe(0);
    // The envelope still opens: the trace did not change what the probe does.
    expect(openEnvelope(run.stdout, secrets).schema).toBe(1);

    const trace = readFileSync(traceFile, 'utf8');
    const execs = trace.split('\n').filter((l) => l.includes('execve('));
    expect(execs.some((l) => l.includes('"openssl"'))).toBe(true); // the trace did see the children
    for (const secret of [secrets.encPass, secrets.macKey, secrets.encPass.toUpperCase(), secrets.macKey.toUpperCase()]) {
      expect(trace).not.toContain(secret);
    }
    for (const pad of [0x36, 0x5c, 0]) {
      const form = octalForm(secrets.macKey, pad);
      expect(trace).not.toContain(form.slice(0, 32));
      expect(trace).not.toContain(form.slice(0, 32).replaceAll('\\', '\\\\'));
    }
    // Raw bytes of the MAC key as strace prints them (\x.. escapes).
    const rawKey = [...Buffer.from(secrets.macKey, 'hex').subarray(0, 8)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    expect(trace).not.toContain(rawKey);

    const writes = trace.split('\n').filter((l) => /O_WRONLY|O_RDWR|O_CREAT|creat\(|rename\(|link\(/.test(l))
      .filter((l) => !l.includes('"/dev/null"') && !/= -1 /.test(l));
    expect(writes).toEqual([]);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});
