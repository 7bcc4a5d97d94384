import { defineConfig } from 'vitest/config';

// Integration tests start real sshd, SMTP and database servers; on a 2-core machine
// running files one at a time keeps timings honest and ports free.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
