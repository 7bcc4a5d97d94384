/**
 * `fleetstat hosts add --to FILE ADDRESS…`: onboarding. Appends machines to a host-list file
 * the config reads (`<client hosts-file="FILE"/>`), checks the whole config again (undoing the
 * append if it no longer loads), then scans the new machines' host keys like `hosts scan`:
 * fingerprints shown, recorded only after confirmation or --yes.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkConfig } from '../config/load-config.js';
import { formatIssueWithSeverity, type ConfigIssue } from '../config/issues.js';
import { hostFilesRead } from '../config/read-fleet.js';
import { errorCode } from '../config/secrets.js';
import { parseHost } from '../config/value-parsers.js';
import { EXIT } from './exit-codes.js';
import { hostsScanCommand } from './hosts-scan-command.js';

export interface HostsAddOptions {
  config: string;
  /** The host-list file to append to. */
  to: string;
  addresses: string[];
  yes?: boolean;
}

/** Resolves with the scan's exit code, or usage / configInvalid when nothing was added. */
export async function hostsAddCommand(options: HostsAddOptions): Promise<number> {
  const bad = options.addresses.flatMap((address) => {
    const parsed = parseHost(address);
    return parsed.ok ? [] : [`"${address}" ${parsed.reason}`];
  });
  if (bad.length > 0) {
    process.stderr.write(`${bad.join('\n')}\n`);
    return EXIT.usage;
  }
  const first = await checkConfig(options.config);
  if (!first.config) return printErrors(first.issues, `${options.config} must load before hosts are added`);
  const target = path.resolve(options.to);
  if (!hostFilesRead(first.config.clients).includes(target)) {
    process.stderr.write(
      `${options.to} is not a hosts-file of ${options.config}; add <client hosts-file="…"/> naming it first (docs/config.md)\n`,
    );
    return EXIT.usage;
  }
  const before = readFileSync(target, 'utf8');
  try {
    appendFileSync(target, `${before === '' || before.endsWith('\n') ? '' : '\n'}${options.addresses.join('\n')}\n`);
  } catch (err) {
    process.stderr.write(`cannot write ${options.to} (${errorCode(err)})\n`);
    return EXIT.usage;
  }
  const after = await checkConfig(options.config);
  if (!after.config) {
    writeFileSync(target, before);
    return printErrors(after.issues, `${options.to} left as it was: the config would not load with these hosts`);
  }
  process.stdout.write(
    `added ${options.addresses.length} host${options.addresses.length === 1 ? '' : 's'} to ${options.to}\n`,
  );
  return hostsScanCommand({ config: options.config, hosts: options.addresses, yes: options.yes ?? false });
}

function printErrors(issues: ConfigIssue[], summary: string): number {
  for (const issue of issues.filter((i) => i.severity === 'error'))
    process.stderr.write(`${formatIssueWithSeverity(issue)}\n`);
  process.stderr.write(`${summary}\n`);
  return EXIT.configInvalid;
}
