/**
 * Keeps the current config and reloads it on SIGHUP or when the file, an included file, a
 * host-list file, or a file a secret was read from (a rotated token-file), changes. An invalid new config is reported (file:line) and
 * the old one kept, so a typo never stops collection. Every
 * reader asks for `config` when it needs it, so what changed (clients, limits, web credentials)
 * applies at once; the serve command is told of each change, to name what needs a restart.
 */
import { realpathSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { checkConfig } from '../config/load-config.js';
import { formatIssueWithSeverity } from '../config/issues.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log/logger.js';

export interface ReloadHooks {
  /** A reason to refuse `next` although it is valid (e.g. it would expose the dashboard), or undefined. */
  vet?: (next: Config) => string | undefined;
  /** Called after `next` replaced `previous`. */
  changed?: (previous: Config, next: Config) => void;
}

export class ConfigReloader {
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private readonly onHangup = () => void this.reload('SIGHUP');

  constructor(
    private current: Config,
    private readonly log: Logger,
    private readonly hooks: ReloadHooks = {},
    /** Watch the files; false leaves SIGHUP as the only trigger (`serve --no-watch`). */
    private readonly watchEnabled = true,
  ) {}

  /** The config in force. */
  get config(): Config {
    return this.current;
  }

  /** Reloads from disk; resolves true when the new config was taken. */
  async reload(reason: string): Promise<boolean> {
    const { config, issues } = await checkConfig(this.current.path);
    const errors = issues.filter((i) => i.severity === 'error');
    if (!config || errors.length > 0) {
      this.log.error(
        `config reload (${reason}) rejected, keeping the previous config:\n${errors.map(formatIssueWithSeverity).join('\n')}`,
      );
      return false;
    }
    const refusal = this.hooks.vet?.(config);
    if (refusal !== undefined) {
      this.log.error(`config reload (${reason}) rejected, keeping the previous config: ${refusal}`);
      return false;
    }
    for (const warning of issues.filter((i) => i.severity === 'warning'))
      this.log.warn(formatIssueWithSeverity(warning));
    const previous = this.current;
    this.current = config;
    this.log.info(`config reloaded (${reason}): ${config.clients.length} clients`);
    this.hooks.changed?.(previous, config);
    if (this.watchers.length > 0) this.watchFiles();
    return true;
  }

  /** Listens for SIGHUP and watches the files (changes are debounced: editors write in steps). */
  start(): void {
    process.on('SIGHUP', this.onHangup);
    if (this.watchEnabled) this.watchFiles();
  }

  stop(): void {
    process.off('SIGHUP', this.onHangup);
    clearTimeout(this.debounce);
    this.closeWatchers();
  }

  /**
   * Watches the directories of the config and secret files, not the files: editors and secret
   * rotation replace a file by renaming a new one over it, which a watch on the old file misses.
   * A file reached through a symlink (config management often links /etc/… into its own tree) is
   * watched where the link points as well, since edits happen there.
   */
  private watchFiles(): void {
    this.closeWatchers();
    const names = new Map<string, Set<string>>();
    const files = [this.current.path, ...(this.current.secretFiles ?? []), ...(this.current.sourceFiles ?? [])];
    for (const file of files.flatMap((f) => withRealPath(resolve(f)))) {
      const set = names.get(dirname(file)) ?? new Set<string>();
      names.set(dirname(file), set.add(basename(file)));
    }
    for (const [dir, files] of names) {
      try {
        this.watchers.push(
          watch(dir, (_event, name) => {
            if (name !== null && !files.has(name)) return;
            clearTimeout(this.debounce);
            this.debounce = setTimeout(() => void this.reload('file changed'), 300);
          }),
        );
      } catch (error) {
        this.log.warn(`cannot watch ${dir} (${(error as Error).message}); reload with SIGHUP`);
      }
    }
  }

  private closeWatchers(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }
}

/** The path, and where it really leads when a symlink is on the way (the path alone when it cannot be resolved). */
function withRealPath(file: string): string[] {
  try {
    const real = realpathSync(file);
    return real === file ? [file] : [file, real];
  } catch {
    return [file]; // not there (yet): its directory is still watched, so its creation is seen
  }
}
