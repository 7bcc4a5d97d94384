/** `fleetstat config check`: every error and warning of a config file as file:line: message. */
import { checkConfig } from '../config/load-config.js';
import { formatIssueWithSeverity } from '../config/issues.js';
import { fixConfigFile } from '../config/fix-config.js';
import { errorCode } from '../config/secrets.js';
import { EXIT } from './exit-codes.js';

/**
 * Prints the issues; resolves with 0 (valid, maybe with warnings) or configInvalid. With `fix`,
 * first rewrites what loading accepts only with a warning (typographic delimiters, a lone
 * <client> root) into standard XML, saying what changed.
 */
export async function configCheckCommand(file: string, options: { fix?: boolean } = {}): Promise<number> {
  if (options.fix) {
    try {
      const changes = fixConfigFile(file);
      process.stdout.write(changes.length ? `${file}: rewrote: ${changes.join('; ')}\n` : `${file}: already in standard form\n`);
    } catch (err) {
      process.stderr.write(`${file}: cannot fix (${errorCode(err)})\n`);
      return EXIT.configInvalid;
    }
  }
  const { config, issues } = await checkConfig(file);
  for (const issue of issues) process.stderr.write(`${formatIssueWithSeverity(issue)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  if (!config || errors > 0) {
    process.stderr.write(`${file}: invalid (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})\n`);
    return EXIT.configInvalid;
  }
  process.stdout.write(`${file}: ok, ${config.clients.length} client${config.clients.length === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`);
  return EXIT.ok;
}
