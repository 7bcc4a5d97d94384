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
  if (options.fix && !(await fixFiles(file))) return EXIT.configInvalid;
  const { config, issues } = await checkConfig(file);
  for (const issue of issues) process.stderr.write(`${formatIssueWithSeverity(issue)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  if (!config || errors > 0) {
    process.stderr.write(
      `${file}: invalid (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})\n`,
    );
    return EXIT.configInvalid;
  }
  process.stdout.write(
    `${file}: ok, ${config.clients.length} client${config.clients.length === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
  );
  return EXIT.ok;
}

/**
 * Fixes the main file, then every included file that still has typographic delimiters (they
 * are only found by loading). Prints what changed in each; false when a file could not be written.
 */
async function fixFiles(file: string): Promise<boolean> {
  const fixOne = (target: string): boolean => {
    try {
      const changes = fixConfigFile(target);
      process.stdout.write(
        changes.length ? `${target}: rewrote: ${changes.join('; ')}\n` : `${target}: already in standard form\n`,
      );
      return true;
    } catch (err) {
      process.stderr.write(`${target}: cannot fix (${errorCode(err)})\n`);
      return false;
    }
  };
  if (!fixOne(file)) return false;
  const { issues } = await checkConfig(file);
  const included = new Set(
    issues.filter((i) => i.file !== file && i.message.startsWith(TYPOGRAPHIC_WARNING)).map((i) => i.file),
  );
  return [...included].every(fixOne);
}

const TYPOGRAPHIC_WARNING = 'typographic quotes used around attribute values';
