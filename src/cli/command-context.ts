/** Steps shared by the commands: load the config, open and migrate the database, report errors. */
import { ConfigError, formatIssue, formatIssueWithSeverity } from '../config/issues.js';
import { loadConfig } from '../config/load-config.js';
import type { ClientConfig, Config } from '../config/types.js';
import { openStore, type Store } from '../store/open-store.js';
import { migrate } from '../store/migrate.js';
import { EXIT } from './exit-codes.js';

/** A failure that ends the command with an exit code after its message is printed. */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Loads and validates the config, passing each warning line to `warn` (default: stderr); throws CommandFailure(configInvalid). */
export async function loadConfigOrFail(
  path: string,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<Config> {
  try {
    return await loadConfig(path, { onWarning: (issue) => warn(formatIssueWithSeverity(issue)) });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CommandFailure(
        error.issues
          .filter((i) => i.severity === 'error')
          .map(formatIssue)
          .join('\n'),
        EXIT.configInvalid,
      );
    }
    throw new CommandFailure(`cannot read ${path}: ${(error as Error).message}`, EXIT.configInvalid);
  }
}

/** Opens the database and brings its schema up to date; throws CommandFailure(databaseUnavailable). */
export async function openMigratedStore(url: string): Promise<Store> {
  let store: Store;
  try {
    store = await openStore(url);
  } catch (error) {
    throw new CommandFailure(`database unavailable: ${(error as Error).message}`, EXIT.databaseUnavailable);
  }
  try {
    await migrate(store);
  } catch (error) {
    // The migration's failure is the one to report; a failed close is added to it, not hidden.
    const closing = await store.close().then(
      () => '',
      (closeError: Error) => `; closing the database failed too: ${closeError.message}`,
    );
    throw new CommandFailure(
      `database migration failed on ${store.url}: ${(error as Error).message}${closing}`,
      EXIT.databaseUnavailable,
    );
  }
  return store;
}

/** Runs a command body, turning CommandFailure into its message on stderr and its exit code. */
export async function runCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof CommandFailure) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}

/**
 * The clients named on the command line (by name or address), or every client when none is
 * named; an unknown name is a usage error naming the config file.
 */
export function chooseClients(config: Config, names: readonly string[], file: string): ClientConfig[] {
  const wanted = new Set(names);
  const unknown = [...wanted].filter((w) => !config.clients.some((c) => c.name === w || c.ip === w));
  if (unknown.length > 0) throw new CommandFailure(`no client named ${unknown.join(', ')} in ${file}`, EXIT.usage);
  return wanted.size === 0 ? config.clients : config.clients.filter((c) => wanted.has(c.name) || wanted.has(c.ip));
}
