/**
 * bench/db-copy-year.ts still runs: a tiny slice (3 hosts, about 15 minutes of rounds) copied
 * into PostgreSQL and MySQL and verified. The figures themselves are for docs/deploy.md, not
 * asserted here.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testDialects } from './support/databases.js';

const run = promisify(execFile);
const TSX = new URL('../node_modules/.bin/tsx', import.meta.url).pathname;
const BENCH = new URL('../bench/db-copy-year.ts', import.meta.url).pathname;

describe('bench/db-copy-year.ts', () => {
  const targets = testDialects().filter((d) => d !== 'sqlite');
  it.skipIf(targets.length === 0)(
    'copies a slice into each target and prints the extrapolated year',
    async () => {
      const { stdout } = await run(TSX, [BENCH, '--hosts', '3', '--days', '0.01', '--targets', targets.join(',')], {
        timeout: 240_000,
      });
      for (const target of targets) {
        expect(stdout).toMatch(new RegExp(`${target}: copied and verified [\\d,]+ rows in [\\d.]+ s`));
        expect(stdout).toMatch(new RegExp(`${target}: a year of 3 hosts \\([\\d,]+ rows\\) at that rate: ~[\\d.]+ h`));
      }
    },
    300_000,
  );
});
