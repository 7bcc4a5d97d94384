/**
 * Imported first by main.ts, so an unsupported Node.js stops with one clear line (exit 2)
 * before the other modules run. Kept free of third-party imports for that reason.
 */
import { checkNodeVersion } from './package-info.js';

const check = checkNodeVersion(process.versions.node);
if (!check.ok) {
  process.stderr.write(`${check.message}\n`);
  process.exit(2);
}
