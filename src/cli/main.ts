#!/usr/bin/env node
/** The `fleetstat` command line: one program, a subcommand per job, --help on each. */
import './node-version-guard.js';
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './exit-codes.js';
import { packageJson } from './package-info.js';

/**
 * A command's function, loaded when it first runs: `config check` and `--help` then never load
 * Fastify, Kysely, the database drivers or ssh2 (about a second of start-up on a busy machine).
 */
function lazy<M, K extends keyof M>(load: () => Promise<M>, name: K): Lazy<M[K]> {
  return (async (...args: unknown[]) => ((await load())[name] as (...a: unknown[]) => unknown)(...args)) as Lazy<M[K]>;
}

/** A loaded-on-first-call function: same parameters, and its result always arrives as a Promise. */
type Lazy<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/**
 * The options object a command takes (its last parameter). Commander hands actions its parsed
 * options untyped; the option declarations below are what make them this shape.
 */
type OptionsOf<F> = F extends (...args: [...infer _, infer O]) => unknown ? O : never;

const collectCommand = lazy(() => import('./collect-command.js'), 'collectCommand');
const configCheckCommand = lazy(() => import('./config-check-command.js'), 'configCheckCommand');
const configShowCommand = lazy(() => import('./config-show-command.js'), 'configShowCommand');
const configInitCommand = lazy(() => import('./config-init-command.js'), 'configInitCommand');
const hostsScanCommand = lazy(() => import('./hosts-scan-command.js'), 'hostsScanCommand');
const hostsAddCommand = lazy(() => import('./hosts-add-command.js'), 'hostsAddCommand');
const dbMigrateCommand = lazy(() => import('./db-commands.js'), 'dbMigrateCommand');
const dbPruneCommand = lazy(() => import('./db-commands.js'), 'dbPruneCommand');
const serveCommand = lazy(() => import('./serve-command.js'), 'serveCommand');
const hostsTestCommand = lazy(() => import('./hosts-test-command.js'), 'hostsTestCommand');
const dbBackupCommand = lazy(() => import('./db-backup-command.js'), 'dbBackupCommand');
const dbCopyCommand = lazy(() => import('./db-copy-command.js'), 'dbCopyCommand');
const silenceAddCommand = lazy(() => import('./silence-commands.js'), 'silenceAddCommand');
const silenceListCommand = lazy(() => import('./silence-commands.js'), 'silenceListCommand');
const silenceExpireCommand = lazy(() => import('./silence-commands.js'), 'silenceExpireCommand');
const completionCommand = lazy(() => import('./completion-command.js'), 'completionCommand');

// One wording for the options several commands share, and one form for defaults in --help:
// "(default: VALUE)", from commander for fixed values, written out for values chosen at run time.
const CONFIG_HELP = 'XML configuration file';
const CONFIG_DB_HELP = 'XML configuration file naming the database';
const DB_HELP = 'database URL (overrides the config): sqlite:path, postgres://…, mysql://…';

/** An option with a fixed default, shown unquoted as "(default: VALUE)". */
function withDefault(flags: string, description: string, value: string): Option {
  return new Option(flags, description).default(value, value);
}

const program = new Command('fleetstat')
  .description('Agentless machine statistics over SSH: collect, store, alert.')
  .version(packageJson().version)
  .exitOverride()
  .showHelpAfterError();

program.addHelpText(
  'after',
  `
Exit codes:
  0  every host collected          1  some hosts failed        2  usage error
  3  configuration invalid         4  database unavailable     5  every host failed
  70 internal error`,
);

program
  .command('collect')
  .description('run one collection round over every client in the config (cron-friendly)')
  .requiredOption('-c, --config <file>', CONFIG_HELP)
  .option('--db <url>', DB_HELP)
  .option('--json', 'print the round summary as JSON on stdout')
  .option('-q, --quiet', 'no progress output')
  .action(async (options: OptionsOf<typeof collectCommand>) => {
    process.exitCode = await collectCommand(options);
  });

program
  .command('serve')
  .description('run rounds every interval and serve the dashboard, JSON API and /metrics')
  .requiredOption('-c, --config <file>', 'XML configuration file (reloaded on SIGHUP and when it changes)')
  .option('--db <url>', DB_HELP)
  .option('--listen <host:port>', 'address of the dashboard (default: from <web>, else 127.0.0.1:8080)')
  .option('--no-watch', 'reload the config on SIGHUP only, not when its files change')
  .addOption(
    withDefault(
      '--grace <seconds>',
      'on SIGTERM, how long the running round may finish before its hosts are abandoned',
      '30',
    ),
  )
  .addOption(
    withDefault(
      '--lease-margin <seconds>',
      'PostgreSQL/MySQL: how long a host lease outlasts the worst-case round',
      '30',
    ),
  )
  .addOption(
    withDefault('--log-format <format>', 'auto (readable on a terminal, JSON lines otherwise), text or json', 'auto'),
  )
  .addOption(withDefault('--log-level <level>', 'trace, debug, info, warn, error or fatal', 'info'))
  .action(async (options: OptionsOf<typeof serveCommand>) => {
    process.exitCode = await serveCommand(options);
  });

const hosts = program.command('hosts').description('check clients of the config');
hosts
  .command('test')
  .description('collect from clients without storing or mailing, and print what came back or where it failed')
  .requiredOption('-c, --config <file>', CONFIG_HELP)
  .argument('[hosts...]', 'client names or IPs (default: every client)')
  .option('--json', 'print the full reports as JSON')
  .action(async (names: string[], options: Omit<OptionsOf<typeof hostsTestCommand>, 'hosts'>) => {
    process.exitCode = await hostsTestCommand({ ...options, hosts: names });
  });

hosts
  .command('scan')
  .description(
    "show each client's host key fingerprint and record new ones in known_hosts after confirmation; a changed key is never replaced",
  )
  .requiredOption('-c, --config <file>', CONFIG_HELP)
  .argument('[hosts...]', 'client names or IPs (default: every client)')
  .option('-y, --yes', 'record new keys without asking (only when the fingerprints were checked another way)')
  .action(async (names: string[], options: Omit<OptionsOf<typeof hostsScanCommand>, 'hosts'>) => {
    process.exitCode = await hostsScanCommand({ ...options, hosts: names });
  });

hosts
  .command('add')
  .description(
    'append machines to a host-list file the config reads, check the config, then scan their host keys (as hosts scan)',
  )
  .requiredOption('-c, --config <file>', CONFIG_HELP)
  .requiredOption('--to <file>', 'host-list file named by a <client hosts-file="…"/> of the config')
  .argument('<addresses...>', 'addresses or host names to add')
  .option('-y, --yes', 'record the new host keys without asking')
  .action(async (addresses: string[], options: Omit<OptionsOf<typeof hostsAddCommand>, 'addresses'>) => {
    process.exitCode = await hostsAddCommand({ ...options, addresses });
  });

const config = program.command('config').description('configuration file tools');
config
  .command('check')
  .description('validate a configuration file; errors and warnings as file:line: message')
  .argument('<file>', CONFIG_HELP)
  .option('--fix', 'first rewrite typographic quote delimiters and a lone <client> root into standard XML')
  .action(async (file: string, options: { fix?: boolean }) => {
    process.exitCode = await configCheckCommand(file, options);
  });
config
  .command('show')
  .description("print each client's effective settings and rules, with the file:line each came from (secrets redacted)")
  .requiredOption('-c, --config <file>', CONFIG_HELP)
  .argument('[hosts...]', 'client names or IPs (default: every client)')
  .option('--json', 'print JSON')
  .action(async (names: string[], options: Omit<OptionsOf<typeof configShowCommand>, 'hosts'>) => {
    process.exitCode = await configShowCommand({ ...options, hosts: names });
  });

config
  .command('init')
  .description('write a commented starter configuration (never over an existing file)')
  .argument('<file>', 'where to write it, e.g. /etc/fleetstat/config.xml')
  .addOption(
    withDefault(
      '--state-dir <dir>',
      'directory for the SQLite database, known_hosts and spool (relative: to the config file), e.g. /var/lib/fleetstat',
      '.',
    ),
  )
  .option('--force', 'replace an existing file')
  .action(async (file: string, options: OptionsOf<typeof configInitCommand>) => {
    process.exitCode = await configInitCommand(file, options);
  });

const db = program.command('db').description('database tools');
db.command('migrate')
  .description('create or update the database schema (idempotent)')
  .option('-c, --config <file>', CONFIG_DB_HELP)
  .option('--db <url>', DB_HELP)
  .action(async (options: OptionsOf<typeof dbMigrateCommand>) => {
    process.exitCode = await dbMigrateCommand(options);
  });
db.command('prune')
  .description("delete samples, errors, rounds and sent mails older than a duration (default: the config's retention)")
  .option('--older-than <duration>', 'e.g. 90d, 12h; without it, the retention setting of --config')
  .option('-c, --config <file>', CONFIG_DB_HELP)
  .option('--db <url>', DB_HELP)
  .action(async (options: OptionsOf<typeof dbPruneCommand>) => {
    process.exitCode = await dbPruneCommand(options);
  });
db.command('backup')
  .description('an online, consistent copy of the SQLite database into FILE, safe while serve runs')
  .argument('<file>', 'the backup file (replaced atomically if it exists)')
  .option('-c, --config <file>', CONFIG_DB_HELP)
  .option('--db <url>', DB_HELP)
  .action(async (file: string, options: OptionsOf<typeof dbBackupCommand>) => {
    process.exitCode = await dbBackupCommand(file, options);
  });
db.command('copy')
  .description(
    'copy every table into an empty PostgreSQL or MySQL database (batched, resumable; exits 1 when the final row counts differ)',
  )
  .requiredOption('--to <url>', 'target database URL: postgres://…, mysql://…')
  .option('-c, --config <file>', CONFIG_DB_HELP)
  .option('--db <url>', DB_HELP)
  .addOption(withDefault('--batch-size <rows>', 'rows per batch', '1000'))
  .action(async (options: OptionsOf<typeof dbCopyCommand>) => {
    process.exitCode = await dbCopyCommand(options);
  });

program
  .command('completion')
  .description(
    'print a shell completion script: eval "$(fleetstat completion bash)" in ~/.bashrc, or for zsh into a file on $fpath named _fleetstat',
  )
  .argument('<shell>', 'bash or zsh')
  .action(async (shell: string) => {
    process.exitCode = await completionCommand(program, shell);
  });

const silence = program
  .command('silence')
  .description('mute alert mail for hosts for a while (stored in the database, honoured by every collector)');
silence
  .command('add')
  .description(
    'add a silence: no alert mail for matching hosts (and rule) until it ends; alerts are still evaluated and shown',
  )
  .requiredOption('--host <pattern>', 'host name or address; * and ? are wildcards (web*, 10.0.1.*)')
  .option('--rule <rule>', 'a rule type (memory) or rule key (memory:critical, disk@/var); default every rule')
  .option('--duration <duration>', 'how long, e.g. 2h, 30m, 1d')
  .option('--until <instant>', 'end, an ISO 8601 instant (2026-11-28T08:00:00Z)')
  .option('--start <instant>', 'start, an ISO 8601 instant (default now)')
  .option('--author <name>', 'who adds it (default the current user)')
  .requiredOption('--comment <text>', 'why')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (options: OptionsOf<typeof silenceAddCommand>) => {
    process.exitCode = await silenceAddCommand(options);
  });
silence
  .command('list')
  .description('list silences that have not ended')
  .option('--all', 'include ended silences')
  .option('--json', 'print JSON')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (options: OptionsOf<typeof silenceListCommand>) => {
    process.exitCode = await silenceListCommand(options);
  });
silence
  .command('expire')
  .description('end a silence now')
  .argument('<id>', 'silence id, as listed')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (id: string, options: OptionsOf<typeof silenceExpireCommand>) => {
    process.exitCode = await silenceExpireCommand(id, options);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`fleetstat: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.internal;
  }
}
