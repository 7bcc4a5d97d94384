#!/usr/bin/env node
/** The `fleetstat` command line: one program, a subcommand per job, --help on each. */
import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { collectCommand } from './collect-command.js';
import { configCheckCommand } from './config-check-command.js';
import { dbMigrateCommand, dbPruneCommand } from './db-commands.js';
import { serveCommand } from './serve-command.js';
import { silenceAddCommand, silenceExpireCommand, silenceListCommand } from './silence-commands.js';
import { hostsTestCommand } from './hosts-test-command.js';

const program = new Command('fleetstat')
  .description('Agentless machine statistics over SSH: collect, store, alert.')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

program.addHelpText('after', `
Exit codes:
  0  every host collected          1  some hosts failed        2  usage error
  3  configuration invalid         4  database unavailable     5  every host failed
  70 internal error`);

program.command('collect')
  .description('run one collection round over every client in the config (cron-friendly)')
  .requiredOption('-c, --config <file>', 'XML configuration file')
  .option('--db <url>', 'database URL (overrides the config): sqlite:path, postgres://…, mysql://…')
  .option('--json', 'print the round summary as JSON on stdout')
  .option('-q, --quiet', 'no progress output')
  .action(async (options) => { process.exitCode = await collectCommand(options); });

program.command('serve')
  .description('run rounds every interval and serve the dashboard, JSON API and /metrics')
  .requiredOption('-c, --config <file>', 'XML configuration file (reloaded on SIGHUP and when it changes)')
  .option('--db <url>', 'database URL (overrides the config)')
  .option('--listen <host:port>', 'address of the dashboard (default from <web>, else 127.0.0.1:8080)')
  .option('--grace <seconds>', 'on SIGTERM, how long the running round may finish before its hosts are abandoned', '30')
  .option('--lease-margin <seconds>', 'PostgreSQL/MySQL: how long a host lease outlasts the worst-case round (default 30)')
  .option('--log-format <format>', 'auto (readable on a terminal, JSON lines otherwise), text or json', 'auto')
  .option('--log-level <level>', 'trace, debug, info, warn, error or fatal', 'info')
  .action(async (options) => { process.exitCode = await serveCommand(options); });

const hosts = program.command('hosts').description('check clients of the config');
hosts.command('test')
  .description('collect from clients without storing or mailing, and print what came back or where it failed')
  .requiredOption('-c, --config <file>', 'XML configuration file')
  .argument('[hosts...]', 'client names or IPs (default: every client)')
  .option('--json', 'print the full reports as JSON')
  .action(async (names: string[], options) => { process.exitCode = await hostsTestCommand({ ...options, hosts: names }); });

const config = program.command('config').description('configuration file tools');
config.command('check')
  .description('validate a configuration file; errors and warnings as file:line: message')
  .argument('<file>', 'XML configuration file')
  .action(async (file: string) => { process.exitCode = await configCheckCommand(file); });

const db = program.command('db').description('database tools');
db.command('migrate')
  .description('create or update the database schema (idempotent)')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL: sqlite:path, postgres://…, mysql://…')
  .action(async (options) => { process.exitCode = await dbMigrateCommand(options); });
db.command('prune')
  .description('delete samples, errors, rounds and sent mails older than a duration')
  .requiredOption('--older-than <duration>', 'e.g. 90d, 12h')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (options) => { process.exitCode = await dbPruneCommand(options); });

const silence = program.command('silence').description('mute alert mail for hosts for a while (stored in the database, honoured by every collector)');
silence.command('add')
  .description('add a silence: no alert mail for matching hosts (and rule) until it ends; alerts are still evaluated and shown')
  .requiredOption('--host <pattern>', 'host name or address; * and ? are wildcards (web*, 10.0.1.*)')
  .option('--rule <rule>', 'a rule type (memory) or rule key (memory:critical, disk@/var); default every rule')
  .option('--duration <duration>', 'how long, e.g. 2h, 30m, 1d')
  .option('--until <instant>', 'end, an ISO 8601 instant (2026-11-28T08:00:00Z)')
  .option('--start <instant>', 'start, an ISO 8601 instant (default now)')
  .option('--author <name>', 'who adds it (default the current user)')
  .requiredOption('--comment <text>', 'why')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (options) => { process.exitCode = await silenceAddCommand(options); });
silence.command('list')
  .description('list silences that have not ended')
  .option('--all', 'include ended silences')
  .option('--json', 'print JSON')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (options) => { process.exitCode = await silenceListCommand(options); });
silence.command('expire')
  .description('end a silence now')
  .argument('<id>', 'silence id, as listed')
  .option('-c, --config <file>', 'XML configuration file naming the database')
  .option('--db <url>', 'database URL')
  .action(async (id: string, options) => { process.exitCode = await silenceExpireCommand(id, options); });

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
