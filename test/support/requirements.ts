/**
 * Tools and services a test file needs. Outside CI a missing one skips the tests that need it,
 * with the reason; with CI=true it is a failure, never a skip (scripts/prepare-machine.sh
 * installs and starts everything, so a miss there is a broken machine setup).
 *
 *   const strace = requireTool('strace');            // path or undefined (undefined only outside CI)
 *   describe.skipIf(!strace)('under strace', …);
 */
import { execFileSync } from 'node:child_process';

export const IN_CI = process.env.CI === 'true';

/** Absolute path of `name` on the PATH, or undefined. */
export function which(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Throws in CI, warns once otherwise: `what` is missing, and why the tests need it. */
export function missing(what: string, why: string): undefined {
  const message = `${what} is missing: ${why} (scripts/prepare-machine.sh installs it)`;
  if (IN_CI) throw new Error(`CI: ${message}`);
  console.warn(`skipping: ${message}`);
  return undefined;
}

/** The path of a required command: a failure in CI when absent, a skip (undefined) elsewhere. */
export function requireTool(name: string, why = 'tests need it'): string | undefined {
  return which(name) ?? missing(name, why);
}

/** `available` as a condition: a failure in CI when false, a skip elsewhere. */
export function requireService(available: boolean, what: string, why = 'tests need it'): boolean {
  if (!available) missing(what, why);
  return available;
}
