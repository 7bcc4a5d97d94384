/** What validation needs to know besides the XML: where the file lives, the environment, the issue log. */
import * as os from 'node:os';
import * as path from 'node:path';
import type { IssueLog } from './issues.js';

export interface ConfigContext {
  issues: IssueLog;
  /** Directory of the config file; relative paths in the config are relative to it. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  homeDir: string;
  /** Mode-bit checks make no sense on Windows. */
  checkModes: boolean;
  /** Files secrets were read from (password-file, token-file, …), collected for serve to watch. */
  secretFiles: string[];
  /**
   * Files already read during this load (content, or the errno code): a password-file shared
   * by 5,000 clients through a group is read and stat'ed once, not 5,000 times.
   */
  fileCache: Map<string, { text: string; mode: number } | { code: string }>;
  /** Included files and host-list files read (absolute), for serve to watch. */
  sourceFiles: string[];
}

export interface ContextOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides the directory relative paths resolve against (default: the config file's). */
  baseDir?: string;
  /** Overrides the home directory used to expand `~` (default: os.homedir()). */
  homeDir?: string;
}

/** Builds the context for validating the config file `fileName`. */
export function makeContext(fileName: string, issues: IssueLog, opts: ContextOptions = {}): ConfigContext {
  return {
    issues,
    baseDir: opts.baseDir ?? path.dirname(path.resolve(fileName)),
    env: opts.env ?? process.env,
    homeDir: opts.homeDir ?? os.homedir(),
    checkModes: process.platform !== 'win32',
    secretFiles: [],
    fileCache: new Map(),
    sourceFiles: [],
  };
}

/** Expands a leading `~` and makes a relative path relative to the config file's directory. */
export function resolveConfigPath(ctx: ConfigContext, file: string): string {
  if (file === '~') return ctx.homeDir;
  if (file.startsWith('~/')) return path.join(ctx.homeDir, file.slice(2));
  return path.resolve(ctx.baseDir, file);
}
