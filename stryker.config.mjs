// Mutation testing of the core modules (`npm run mutation`; docs/mutation.md has the scores).
// Not in CI: a full run takes tens of minutes on two cores. Each module is mutated against the
// test files that cover it (not the whole suite), so a run finishes: `MUTATE=envelope,outbox npm
// run mutation` picks modules by the keys below; without MUTATE every module except `round` runs
// (round.ts's tests start sshd fleets for every mutant; run it alone with MUTATE=round).
// @ts-check

/** Module key -> the files mutated and the test files that cover them. */
const MODULES = {
  envelope: {
    mutate: ['src/probe/envelope.ts'],
    // Not fuzz-envelope.test.ts, envelope-vectors.test.ts (openssl) or the probe runs: every
    // mutant of openEnvelope is reached by all of them, which made a run take hours.
    tests: ['test/envelope.test.ts', 'test/envelope-mutants*.test.ts'],
  },
  // The envelope's checks alone (openEnvelope and splitLine): a whole-module run needs hours on
  // two busy cores; this one fits in a session.
  'envelope-checks': {
    mutate: ['src/probe/envelope.ts:84-150'],
    tests: ['test/envelope-mutants*.test.ts'],
  },
  'alert-state': {
    mutate: ['src/alerts/alert-state.ts'],
    tests: ['test/alerts-state.test.ts', 'test/alert-state-mutants*.test.ts'],
  },
  'value-parsers': {
    mutate: ['src/config/value-parsers.ts'],
    // The parsers are reached by every config test; these two call them most directly (the
    // whole config set made a run take close to an hour on two busy cores).
    tests: ['test/config-errors.test.ts', 'test/value-parsers-mutants*.test.ts'],
  },
  outbox: {
    mutate: ['src/notify/outbox.ts', 'src/notify/drain-outbox.ts'],
    tests: ['test/notify-outbox.test.ts', 'test/notify-delivery.test.ts', 'test/outbox-mutants*.test.ts'],
  },
  'known-hosts': {
    mutate: ['src/ssh/known-hosts.ts'],
    tests: ['test/known-hosts.test.ts', 'test/known-hosts-mutants*.test.ts'],
  },
  // Only tests that call collectRound in-process can kill a mutant (a test spawning
  // dist/cli/main.js runs the unmutated build): the problems a round survives and the alerts of
  // failed hosts (closed ports, no sshd), the spool and store-timeout, CPU counters over rounds,
  // alerting over a round and a flooding target (storage limits, events mail), SQLite only. The
  // whole file fits in about 15 minutes on two cores; faults-store-locks (PostgreSQL, MariaDB,
  // 35 s a run) is left out, round-spool covers the store-timeout bound on SQLite.
  round: {
    mutate: ['src/collect/round.ts'],
    tests: [
      'test/round-problems.test.ts',
      'test/round-spool.test.ts',
      'test/cpu-counters-round.test.ts',
      'test/alerts-fleet.test.ts',
      'test/faults-flood.test.ts',
      'test/round-mutants*.test.ts',
    ],
  },
};

const DEFAULT = Object.keys(MODULES).filter((key) => key !== 'round' && key !== 'envelope-checks');
const picked = (process.env.MUTATE ?? DEFAULT.join(',')).split(',').filter(Boolean);
for (const key of picked) {
  if (!(key in MODULES)) throw new Error(`MUTATE: unknown module "${key}"; known: ${Object.keys(MODULES).join(', ')}`);
}
const chosen = picked.map((key) => MODULES[/** @type {keyof typeof MODULES} */ (key)]);
const runName = picked.join('+');

// The outbox's logic does not depend on the dialect; its tests run against SQLite only here
// (the suite runs them against all three databases).
process.env.FLEETSTAT_TEST_DIALECTS ??= 'sqlite';
// Instrumented code on a busy machine is slow: a test that takes seconds in the suite (the
// 50 MB oversize reply) must not time out in the initial run.
process.env.FLEETSTAT_TEST_TIMEOUT_MS ??= '300000';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: chosen.flatMap((m) => m.mutate),
  testFiles: [...new Set(chosen.flatMap((m) => m.tests))],
  // Per-test coverage: each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants such as a parser's regular expression) are not
  // re-evaluated between runs by the vitest runner here, so every one reports as survived; each
  // of those checked by hand (docs/mutation.md) fails the tests. Leave them out of the score.
  ignoreStatic: true,
  // The machine is shared and the integration tests start servers: one or two sandboxes at most.
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  // A busy machine makes tests slow, not wrong: generous per-mutant timeouts.
  timeoutMS: 60_000,
  timeoutFactor: 3,
  // Only what the tests read goes into the sandbox. round-problems.test.ts also runs the built
  // CLI (dist/, unmutated: it passes the initial run and kills nothing), so the round keeps dist/
  // (`npm run build` first).
  ignorePatterns: [
    ...(picked.includes('round') ? [] : ['dist']),
    'coverage',
    'reports',
    '.fleetstat',
    '.fleetstat-demo',
    '*.sqlite',
  ],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${runName}.html` },
  jsonReporter: { fileName: `reports/mutation/${runName}.json` },
  thresholds: { high: 90, low: 75, break: null },
  // Stryker rewrites tsconfig.json's `extends`/`references` through the TypeScript JS API, which
  // the native TypeScript 7 this repo uses does not have; ours has neither, so point the rewrite
  // at a file that does not exist and it is skipped (no typescript-checker either, same reason).
  tsconfigFile: 'tsconfig.stryker-skip.json',
  tempDirName: `.stryker-tmp/${runName}`,
  cleanTempDir: true,
};
