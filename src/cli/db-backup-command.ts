/** `fleetstat db backup FILE`: an online, consistent copy of the SQLite database. */
import { backupSqlite } from '../store/sqlite-backup.js';
import { StoreError } from '../store/store-error.js';
import { parseStoreUrl, type StoreTarget } from '../store/store-url.js';
import { EXIT } from './exit-codes.js';
import { CommandFailure, loadConfigOrFail, runCommand } from './command-context.js';

/** Options of `db backup`. */
export interface DbBackupOptions {
  config?: string;
  db?: string;
}

/** Backs the database up into `file`; PostgreSQL and MySQL are pointed at their own tools. */
export function dbBackupCommand(file: string, options: DbBackupOptions): Promise<number> {
  return runCommand(async () => {
    const url =
      options.db ?? (options.config ? (await loadConfigOrFail(options.config)).settings.databaseUrl : undefined);
    if (!url) throw new CommandFailure('name the database with --db <url> or --config <file>', EXIT.usage);
    let target: StoreTarget;
    try {
      target = parseStoreUrl(url);
    } catch (error) {
      if (error instanceof StoreError) throw new CommandFailure(error.message, EXIT.usage);
      throw error;
    }
    if (target.dialect === 'postgres')
      throw new CommandFailure(
        'db backup copies SQLite databases; for PostgreSQL use pg_dump -Fc (see docs/deploy.md)',
        EXIT.usage,
      );
    if (target.dialect === 'mysql')
      throw new CommandFailure(
        'db backup copies SQLite databases; for MySQL/MariaDB use mariadb-dump --single-transaction (see docs/deploy.md)',
        EXIT.usage,
      );
    const outcome = await backupSqlite(target.path, file);
    if (outcome.status === 'failed')
      throw new CommandFailure(`backup of ${target.path} failed: ${outcome.reason}`, EXIT.databaseUnavailable);
    process.stdout.write(`backed up ${target.path} to ${file} (${outcome.pages} pages, integrity ok)\n`);
    return EXIT.ok;
  });
}
