/**
 * The lock file around known_hosts updates (src/ssh/file-lock.ts): exclusive between holders,
 * released after the work (also when it throws), a crashed holder's stale lock taken over, and a
 * live holder waited for only up to the timeout.
 */
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../src/ssh/file-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetstat-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('withFileLock', () => {
  it('lets one holder in at a time and removes the lock afterwards, also on failure', async () => {
    const lock = join(dir, 'a.lock');
    let inside = 0;
    let most = 0;
    const work = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((resolve) => setImmediate(resolve));
      inside--;
    };
    await Promise.all(Array.from({ length: 5 }, () => withFileLock(lock, work)));
    expect(most).toBe(1);
    expect(existsSync(lock)).toBe(false);
    await expect(
      withFileLock(lock, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it("takes over a crashed holder's stale lock", async () => {
    const lock = join(dir, 'stale.lock');
    writeFileSync(lock, '999999\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect(await withFileLock(lock, async () => 'ran')).toBe('ran');
    expect(existsSync(lock)).toBe(false);
  });

  it('gives up on a live holder after the timeout, naming the lock file', async () => {
    const lock = join(dir, 'held.lock');
    writeFileSync(lock, `${process.pid}\n`);
    await expect(withFileLock(lock, async () => 'ran', { timeoutMs: 100 })).rejects.toThrow(
      /held\.lock is held by another process/,
    );
    expect(existsSync(lock)).toBe(true);
  });
});
