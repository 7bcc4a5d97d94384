/**
 * An exclusive lock between processes, as a lock file created with O_CREAT|O_EXCL: whoever
 * creates it holds the lock until it removes it. Used around known_hosts read-check-append, so
 * a `hosts test` and a running `serve` cannot both record a first key for one host.
 */
import { open, stat, unlink } from 'node:fs/promises';

export interface FileLockOptions {
  /** How long to wait for another holder, in ms (default 10 s). */
  timeoutMs?: number;
  /** A lock file older than this is left by a crashed process and taken over (default 30 s). */
  staleMs?: number;
}

const RETRY_MS = 20;

/** Runs `work` holding the lock file at `lockPath`; rejects when the lock cannot be had in time. */
export async function withFileLock<T>(
  lockPath: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`).finally(() => handle.close());
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(lockPath, staleMs)) {
      // Left by a crashed process. (Two waiters seeing it stale at the same instant could both
      // remove it; after 30 s of nobody holding it, that is a window we accept.)
      await unlink(lockPath).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${lockPath} is held by another process (waited ${Math.round(timeoutMs / 1000)} s); remove it if no fleetstat is running`,
      );
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  try {
    return await work();
  } finally {
    await unlink(lockPath);
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs > staleMs;
  } catch {
    return false; // gone meanwhile: the next attempt may take it
  }
}
