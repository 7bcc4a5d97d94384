/**
 * What the installed package says about itself: its version and the Node.js versions it
 * supports, read from the package.json that ships beside dist/ (one source of truth).
 */
import { readFileSync } from 'node:fs';

/** The lowest Node.js major version fleetstat runs on; package.json `engines.node` says the same. */
export const MIN_NODE_MAJOR = 20;

interface PackageJson {
  version: string;
  engines: { node: string };
}

/** package.json of this installation (dist/cli/ → ../../package.json, also from src/cli/). */
export function packageJson(): PackageJson {
  return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson;
}

/** The outcome of comparing a running Node.js version with MIN_NODE_MAJOR. */
export type NodeVersionCheck = { ok: true } | { ok: false; message: string };

/** Whether `version` (as in process.versions.node, "20.11.1") is supported. */
export function checkNodeVersion(version: string): NodeVersionCheck {
  const major = Number(version.split('.')[0]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return { ok: true };
  return { ok: false, message: `fleetstat needs Node.js ${MIN_NODE_MAJOR} or later; this is Node.js ${version}` };
}
