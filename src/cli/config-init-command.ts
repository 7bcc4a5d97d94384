/** `fleetstat config init FILE`: writes a commented starter config, never over an existing file. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EXIT } from './exit-codes.js';
import { CommandFailure, runCommand } from './command-context.js';
import { starterConfig, type StarterOptions } from './starter-config.js';

/** Options of `config init`. */
export interface ConfigInitOptions extends StarterOptions {
  force?: boolean;
}

/** Writes the starter config to `file` (mode 0600); refuses to overwrite unless --force. */
export function configInitCommand(file: string, options: ConfigInitOptions): Promise<number> {
  return runCommand(async () => {
    try {
      await mkdir(dirname(file), { recursive: true });
      // 'wx' fails if the file exists, so an existing config is never lost by accident.
      await writeFile(file, starterConfig(options), { mode: 0o600, flag: options.force ? 'w' : 'wx' });
      await chmod(file, 0o600); // a replaced file keeps its old mode otherwise
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST')
        throw new CommandFailure(`${file} already exists; not overwritten (use --force to replace it)`, EXIT.usage);
      throw new CommandFailure(`cannot write ${file}: ${(error as Error).message}`, EXIT.usage);
    }
    process.stdout.write(`wrote ${file}; add <client> elements, then: fleetstat config check ${file}\n`);
    return EXIT.ok;
  });
}
