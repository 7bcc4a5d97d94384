/** `fleetstat db copy --to URL`: the current database, every table, into another (empty) one. */
import { copyDatabase } from '../store/copy/copy-database.js';
import { existsSync } from 'node:fs';
import { StoreError, redactUrl } from '../store/store-error.js';
import { parseStoreUrl } from '../store/store-url.js';
import { EXIT } from './exit-codes.js';
import { CommandFailure, loadConfigOrFail, openMigratedStore, runCommand } from './command-context.js';
import { copyProgress } from './copy-progress.js';

/** Options of `db copy`. */
export interface DbCopyOptions {
  config?: string;
  db?: string;
  to: string;
  batchSize: string;
}

function batchSize(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 100_000)
    throw new CommandFailure(`--batch-size ${text}: a whole number from 1 to 100000`, EXIT.usage);
  return value;
}

/** A mistyped SQLite path would otherwise become a new, empty source that "copies" nothing. */
function refuseMissingSqlite(url: string): void {
  let target;
  try {
    target = parseStoreUrl(url);
  } catch (error) {
    if (error instanceof StoreError) throw new CommandFailure(error.message, EXIT.usage);
    throw error;
  }
  if (target.dialect === 'sqlite' && !existsSync(target.path))
    throw new CommandFailure(`no SQLite database at ${target.path}`, EXIT.usage);
}

/** Copies, then prints the verification counts; 0 when every table matches, 1 otherwise. */
export function dbCopyCommand(options: DbCopyOptions): Promise<number> {
  return runCommand(async () => {
    const size = batchSize(options.batchSize);
    const from =
      options.db ?? (options.config ? (await loadConfigOrFail(options.config)).settings.databaseUrl : undefined);
    if (!from) throw new CommandFailure('name the source database with --db <url> or --config <file>', EXIT.usage);
    if (from === options.to) throw new CommandFailure('--to names the source database itself', EXIT.usage);
    refuseMissingSqlite(from);
    const source = await openMigratedStore(from);
    try {
      const target = await openMigratedStore(options.to);
      const progress = copyProgress();
      try {
        const outcome = await copyDatabase(source, target, {
          batchSize: size,
          onEvent: (event) => progress.onEvent(event),
        });
        progress.stop();
        if (outcome.status === 'refused') throw new CommandFailure(`copy refused: ${outcome.reason}`, EXIT.usage);
        process.stdout.write(`${source.url} → ${redactUrl(options.to)}\n`);
        for (const c of outcome.counts) {
          process.stdout.write(
            `${c.table.padEnd(16)} ${String(c.source).padStart(10)} ${String(c.target).padStart(10)}${c.source === c.target ? '' : '  MISMATCH'}\n`,
          );
        }
        process.stdout.write(
          outcome.status === 'verified'
            ? 'verified: every table has the same row count\n'
            : 'row counts differ (was the source written to during the copy?)\n',
        );
        return outcome.status === 'verified' ? EXIT.ok : EXIT.hostsFailed;
      } finally {
        progress.stop();
        await target.close();
      }
    } finally {
      await source.close();
    }
  });
}
