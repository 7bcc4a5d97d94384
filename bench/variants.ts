/**
 * What the benchmark compares, each as a command line over the same fleet at the same
 * concurrency, with a check that reads its output and counts the hosts it really reached:
 *
 * - fleetstat        `fleetstat collect`, CPU sample as configured (default 1000 ms: the probe
 *                    sleeps that long between its two /proc/stat reads, by design)
 * - fleetstat-cpu10  the same with the shortest CPU sample the config allows (10 ms)
 * - fleetstat-baseline  another build of fleetstat (--baseline-cli), to compare before/after
 * - ansible          `ansible all -m setup -f C` (fact gathering)
 * - floor            plain OpenSSH, `xargs -P C ssh HOST 'cat /proc/stat /proc/meminfo /proc/uptime'`
 * - floor-sleep1     the floor with `sleep 1` first: what the 1 s CPU sample costs at best
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetManifest } from './fleet-files.js';

export const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;
export const FLOOR_COMMAND = 'cat /proc/stat /proc/meminfo /proc/uptime';

export interface Variant {
  name: string;
  /** One line saying what it runs. */
  describe: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** Hosts that answered, from the command's stdout and exit code. */
  countOk(stdout: string, exitCode: number): number;
  /** Runs after each measured run, outside the timing, before the target CPU is read (cleanup). */
  after?: () => void;
}

export interface VariantFiles {
  fleet: FleetManifest;
  concurrency: number;
  /** fleetstat configs by CPU sample (ms). */
  fleetstatConfigs: Map<number, string>;
  inventoryPath: string;
  sshConfigPath: string;
  hostsPath: string;
  /** Scratch directory of this benchmark run. */
  workDir: string;
}

function fleetstatVariant(
  name: string,
  cpuMs: number,
  files: VariantFiles,
  extraNodeArgs: string[],
  cli = CLI,
): Variant {
  const db = `sqlite:${join(files.workDir, `${name}.sqlite`)}`;
  // Migrations are a one-time cost: run them before the clock starts.
  execFileSync(process.execPath, [cli, 'db', 'migrate', '--db', db], { stdio: 'ignore' });
  return {
    name,
    describe: `fleetstat collect, cpu-sample ${cpuMs} ms, concurrency ${files.concurrency}${cli === CLI ? '' : ` (${cli})`}`,
    argv: [
      process.execPath,
      ...extraNodeArgs,
      cli,
      'collect',
      '--config',
      files.fleetstatConfigs.get(cpuMs)!,
      '--db',
      db,
      '--json',
      '--quiet',
    ],
    countOk(stdout) {
      try {
        return Number((JSON.parse(stdout) as { hosts_ok: number }).hosts_ok);
      } catch {
        return 0;
      }
    },
  };
}

/** Ends the ControlPersist masters Ansible left, so runs do not share connections. */
function closeControlMasters(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    try {
      execFileSync('ssh', ['-o', `ControlPath=${join(dir, name)}`, '-O', 'exit', 'x'], {
        stdio: 'ignore',
        timeout: 5000,
      });
    } catch {
      // Already gone.
    }
  }
}

function ansibleVariant(files: VariantFiles): Variant {
  const controlDir = join(files.workDir, 'ansible-cp');
  const localTemp = join(files.workDir, 'ansible-tmp');
  mkdirSync(controlDir, { recursive: true });
  mkdirSync(localTemp, { recursive: true });
  return {
    name: 'ansible',
    describe: `ansible all -m setup -f ${files.concurrency} (its default ssh args: ControlPersist 60s)`,
    argv: ['ansible', 'all', '-i', files.inventoryPath, '-m', 'setup', '-f', String(files.concurrency)],
    env: {
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
      ANSIBLE_LOCAL_TEMP: localTemp,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
      ANSIBLE_DEPRECATION_WARNINGS: 'False',
    },
    countOk: (stdout) => stdout.split('\n').filter((line) => /^\S+ \| SUCCESS\b/.test(line)).length,
    after: () => closeControlMasters(controlDir),
  };
}

function floorVariant(name: string, remote: string, files: VariantFiles): Variant {
  return {
    name,
    describe: `xargs -P ${files.concurrency} ssh HOST '${remote}'`,
    argv: [
      'xargs',
      '-a',
      files.hostsPath,
      '-P',
      String(files.concurrency),
      '-I{}',
      'ssh',
      '-F',
      files.sshConfigPath,
      '{}',
      remote,
    ],
    // Each host's /proc/stat starts with exactly one "cpu " line.
    countOk: (stdout) => stdout.split('\n').filter((line) => line.startsWith('cpu ')).length,
  };
}

export interface VariantChoice {
  /** Names to run, in order. */
  names: string[];
  cpuSampleMs: number;
  /** Extra node flags for the main fleetstat variant (e.g. --cpu-prof). */
  nodeArgs: string[];
  /** Another build's dist/cli/main.js, run as the variant fleetstat-baseline (before/after). */
  baselineCli?: string;
}

/** Builds the chosen variants. */
export function buildVariants(files: VariantFiles, choice: VariantChoice): Variant[] {
  const all: Record<string, () => Variant> = {
    fleetstat: () => fleetstatVariant('fleetstat', choice.cpuSampleMs, files, choice.nodeArgs),
    'fleetstat-cpu10': () => fleetstatVariant('fleetstat-cpu10', 10, files, []),
    'fleetstat-baseline': () => {
      if (!choice.baselineCli) throw new Error('fleetstat-baseline needs --baseline-cli PATH/dist/cli/main.js');
      return fleetstatVariant('fleetstat-baseline', choice.cpuSampleMs, files, [], choice.baselineCli);
    },
    ansible: () => ansibleVariant(files),
    floor: () => floorVariant('floor', FLOOR_COMMAND, files),
    'floor-sleep1': () => floorVariant('floor-sleep1', `sleep 1; ${FLOOR_COMMAND}`, files),
  };
  return choice.names.map((name) => {
    const make = all[name];
    if (!make) throw new Error(`unknown variant ${name}; known: ${Object.keys(all).join(', ')}`);
    return make();
  });
}

/** True when the `ansible` command is installed. */
export function ansibleInstalled(): boolean {
  try {
    execFileSync('ansible', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Reads a file as text, empty when missing. */
export function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
