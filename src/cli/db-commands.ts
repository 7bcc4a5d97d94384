/** `fleetstat db migrate` and `fleetstat db prune`. */
import type { Config } from '../config/types.js';
import { parseDuration } from '../config/value-parsers.js';
import { pruneOlderThan } from '../store/prune.js';
import { EXIT } from './exit-codes.js';
import { CommandFailure, loadConfigOrFail, openMigratedStore, runCommand } from './command-context.js';

interface DatabaseOptions {
  config?: string;
  db?: string;
}

async function databaseUrl(options: DatabaseOptions): Promise<string> {
  if (options.db) return options.db;
  if (options.config) return (await loadConfigOrFail(options.config)).settings.databaseUrl;
  throw new CommandFailure('name the database with --db <url> or --config <file>', EXIT.usage);
}

/** Creates or updates the schema; prints what was applied. */
export function dbMigrateCommand(options: DatabaseOptions): Promise<number> {
  return runCommand(async () => {
    const store = await openMigratedStore(await databaseUrl(options));
    process.stdout.write(`${store.url}: schema up to date\n`);
    await store.close();
    return EXIT.ok;
  });
}

/** The age past which rows go: `--older-than`, else the config's `retention` (default 90 days). */
function pruneAge(options: DatabaseOptions & { olderThan?: string }, config: Config | undefined): number {
  if (options.olderThan !== undefined) {
    const age = parseDuration(options.olderThan);
    if (!age.ok) throw new CommandFailure(`--older-than ${options.olderThan}: ${age.reason}`, EXIT.usage);
    return age.value;
  }
  if (!config)
    throw new CommandFailure(
      'give --older-than <duration>, or --config <file> to use its retention setting',
      EXIT.usage,
    );
  const { retentionSeconds } = config.settings;
  if (retentionSeconds === undefined)
    throw new CommandFailure(
      `${options.config}: retention is "off"; give --older-than <duration> to prune anyway`,
      EXIT.usage,
    );
  return retentionSeconds;
}

/** Deletes rows older than `--older-than`, or than the config's retention. */
export function dbPruneCommand(options: DatabaseOptions & { olderThan?: string }): Promise<number> {
  return runCommand(async () => {
    const config =
      options.olderThan === undefined && options.config ? await loadConfigOrFail(options.config) : undefined;
    const age = pruneAge(options, config);
    const store = await openMigratedStore(
      config && !options.db ? config.settings.databaseUrl : await databaseUrl(options),
    );
    try {
      const cutoff = new Date(Date.now() - age * 1000);
      const deleted = await pruneOlderThan(store, cutoff);
      process.stdout.write(
        `pruned rows older than ${cutoff.toISOString()}: ${Object.entries(deleted)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}\n`,
      );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  });
}
