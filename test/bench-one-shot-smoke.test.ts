/**
 * bench/one-shot-cost.ts still runs: one series of two runs of the current one-shot command and
 * the floor's, with its process count. The figures are for docs/performance.md, not asserted.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { requireTool } from './support/requirements.js';

const run = promisify(execFile);
const TSX = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
const BENCH = new URL('../bench/one-shot-cost.ts', import.meta.url).pathname;

describe.skipIf(
  !requireTool('strace', 'the benchmark counts processes') || !requireTool('time', 'the benchmark times runs'),
)('bench/one-shot-cost.ts', () => {
  it('prints the processes, programs and CPU of the one-shot command and of the floor', async () => {
    const { stdout } = await run(TSX, [BENCH, '--runs', '2', '--rounds', '1'], { timeout: 240_000 });
    expect(stdout).toMatch(/^\| current \| \d+ \| \d+: sh uname gzip sh .*openssl.* \| [\d.]+ \| [\d.]+ \|$/m);
    expect(stdout).toMatch(/^\| floor \(cat\) \| \d+ \| 2: sh cat \| [\d.]+ \| [\d.]+ \|$/m);
  }, 300_000);
});
