/**
 * An online, consistent backup of a SQLite database through SQLite's backup API, safe while
 * serve writes to it: the copy is a snapshot of one moment, written to a temporary file,
 * checked with integrity_check, and renamed into place only when complete.
 */
import { chmodSync, renameSync, rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

/** How a backup ended. */
export type BackupOutcome = { status: 'done'; pages: number } | { status: 'failed'; reason: string };

/** Copies the database at `sourcePath` into `file` (replaced atomically if it exists). */
export async function backupSqlite(sourcePath: string, file: string): Promise<BackupOutcome> {
  if (sourcePath === ':memory:') return { status: 'failed', reason: 'an in-memory database cannot be backed up' };
  let source: BetterSqlite3.Database;
  try {
    // fileMustExist: a mistyped path must not create an empty database and "back it up".
    source = new BetterSqlite3(sourcePath, { fileMustExist: true });
  } catch (error) {
    return { status: 'failed', reason: (error as Error).message };
  }
  const partial = `${file}.partial-${process.pid}`;
  try {
    source.pragma('busy_timeout = 5000');
    const result = await source.backup(partial, {
      // After the first step, copy all remaining pages in one step: one read transaction is one
      // snapshot, and in WAL mode it does not block serve's writes. Small steps would restart
      // whenever serve commits in between, and might never finish on a busy database.
      progress: ({ remainingPages }) => Math.max(remainingPages, 1),
    });
    const check = checkIntegrity(partial);
    if (check !== 'ok') return fail(partial, `integrity_check of the copy: ${check}`);
    chmodSync(partial, 0o600);
    renameSync(partial, file);
    return { status: 'done', pages: result.totalPages };
  } catch (error) {
    return fail(partial, (error as Error).message);
  } finally {
    source.close();
  }
}

function checkIntegrity(path: string): string {
  const copy = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    return String(copy.pragma('integrity_check', { simple: true }));
  } finally {
    copy.close();
  }
}

function fail(partial: string, reason: string): BackupOutcome {
  rmSync(partial, { force: true });
  return { status: 'failed', reason };
}
