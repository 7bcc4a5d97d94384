/**
 * Real OpenSSH sshd instances on loopback addresses, for tests, the demo and benchmarks.
 * Each instance gets its own throwaway host key; all share one client key pair, one
 * authorized_keys file and the local test account made by scripts/test-user.sh.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_USER = process.env.FLEETSTAT_TEST_USER ?? 'fleetstat-test';
const PASSWORD_FILE = process.env.FLEETSTAT_TEST_PASSWORD_FILE ?? '/etc/fleetstat-test.password';

export interface SshdInstance {
  address: string;
  port: number;
  pid: number;
  /** The host's public key line ("ssh-ed25519 AAAA…"). */
  hostPublicKey: string;
  hostKeyPath: string;
  /** One line for a known_hosts file. */
  knownHostsLine: string;
  stop(): Promise<void>;
}

export interface SshdFleet {
  dir: string;
  user: string;
  passwordFile: string;
  clientKeyPath: string;
  hosts: SshdInstance[];
  knownHostsPath: string;
  stop(): Promise<void>;
}

/** The test account's password (root-only file written by scripts/test-user.sh). */
export function testPassword(): string {
  if (!existsSync(PASSWORD_FILE)) {
    execFileSync('sh', [new URL('../../scripts/test-user.sh', import.meta.url).pathname], { stdio: 'inherit' });
  }
  return readFileSync(PASSWORD_FILE, 'utf8').trim();
}

/** A free TCP port on the given loopback address (small race accepted: tests only). */
export async function freePort(address: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function keygen(path: string, type = 'ed25519'): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'fleetstat-test', '-f', path]);
}

// Asynchronous, so the keys of a large fleet are made on every core at once.
function keygenAsync(path: string, type = 'ed25519'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'fleetstat-test', '-f', path], (error) =>
      error ? reject(new Error(`ssh-keygen -t ${type} -f ${path}: ${error.message}`, { cause: error })) : resolve(),
    );
  });
}

function knownHostsLine(address: string, port: number, publicKey: string): string {
  const host = port === 22 ? address : `[${address}]:${port}`;
  const [type, blob] = publicKey.trim().split(/\s+/);
  return `${host} ${type} ${blob}`;
}

/** Options for one sshd; `extraConfig` lines are appended to sshd_config (e.g. ForceCommand). */
export interface SshdOptions {
  address: string;
  port?: number;
  dir: string;
  authorizedKeysPath: string;
  extraConfig?: string[];
  hostKeyType?: string;
  /**
   * argv put before `/usr/sbin/sshd -D …`, which it must exec in the end (same PID), e.g. a
   * private mount namespace (test/support/userlands.ts).
   */
  wrap?: string[];
  /**
   * Detached: sshd outlives this process (scripts/fleet.ts start/stop); its stderr goes to
   * `dir/sshd.log` and it is stopped by PID.
   */
  detached?: boolean;
}

/** Starts one sshd in the foreground (-D) as a child process and waits until it accepts connections. */
export async function startSshd(opts: SshdOptions): Promise<SshdInstance> {
  const port = opts.port ?? (await freePort(opts.address));
  const name = `${opts.address}_${port}`;
  const hostKeyPath = join(opts.dir, `host_${name}`);
  if (!existsSync(hostKeyPath)) await keygenAsync(hostKeyPath, opts.hostKeyType);
  const configPath = join(opts.dir, `sshd_${name}.conf`);
  writeFileSync(
    configPath,
    [
      `ListenAddress ${opts.address}:${port}`,
      `HostKey ${hostKeyPath}`,
      `PidFile none`,
      `AuthorizedKeysFile ${opts.authorizedKeysPath}`,
      'StrictModes no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin no',
      `AllowUsers ${TEST_USER}`,
      'MaxStartups 2000:30:4000',
      'MaxSessions 20',
      'LoginGraceTime 60',
      'UseDNS no',
      'LogLevel ERROR',
      'Subsystem sftp internal-sftp',
      ...(opts.extraConfig ?? []),
    ].join('\n') + '\n',
  );
  let child: ChildProcess;
  let stderr = '';
  const [program, ...args] = [...(opts.wrap ?? []), '/usr/sbin/sshd'];
  if (opts.detached) {
    const log = openSync(join(opts.dir, 'sshd.log'), 'a');
    child = spawn(program, [...args, '-D', '-e', '-f', configPath], {
      stdio: ['ignore', 'ignore', log],
      detached: true,
    });
    closeSync(log);
    child.unref();
  } else {
    child = spawn(program, [...args, '-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
  }
  await waitForListener(opts.address, port, child, () => stderr);
  const hostPublicKey = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim();
  return {
    address: opts.address,
    port,
    pid: child.pid!,
    hostPublicKey,
    hostKeyPath,
    knownHostsLine: knownHostsLine(opts.address, port, hostPublicKey),
    stop: () => (opts.detached ? stopPid(child.pid!) : stopChild(child)),
  };
}

async function waitForListener(
  address: string,
  port: number,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd on ${address}:${port} exited: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGTERM');
  throw new Error(`sshd on ${address}:${port} did not start: ${stderr()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops a process by PID: SIGTERM, then SIGKILL after 3 s; resolves once it is gone. */
export async function stopPid(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (alive()) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Loopback address number i (0-based) of a fleet: 127.0.1.1 … 127.0.1.250, 127.0.2.1, … */
export function fleetAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

export interface FleetOptions {
  extraConfig?: string[];
  firstIndex?: number;
  /** Directory for keys and configs (default: a fresh temp dir); removed by stop(). */
  dir?: string;
  /** sshd instances outlive this process (see SshdOptions.detached). */
  detached?: boolean;
  /** How many sshd start at once (default 16; large fleets start faster with more). */
  batchSize?: number;
  /** Per-host additions: sshd_config lines after `extraConfig`, and a `wrap` (SshdOptions). */
  perHost?: (index: number) => Pick<SshdOptions, 'extraConfig' | 'wrap'>;
}

/**
 * Starts `count` sshd instances on distinct loopback addresses, with a client key, an
 * authorized_keys file and a known_hosts file listing every host key.
 */
export async function startFleet(count: number, opts: FleetOptions = {}): Promise<SshdFleet> {
  const password = testPassword();
  void password;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fleetstat-fleet-'));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // sshd reads authorized_keys as the test user
  const clientKeyPath = join(dir, 'client_ed25519');
  keygen(clientKeyPath);
  const authorizedKeysPath = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeysPath, readFileSync(`${clientKeyPath}.pub`));
  chmodSync(authorizedKeysPath, 0o644);
  const hosts: SshdInstance[] = [];
  const first = opts.firstIndex ?? 0;
  try {
    const batchSize = opts.batchSize ?? 16;
    for (let i = 0; i < count; i += batchSize) {
      const batch = Array.from({ length: Math.min(batchSize, count - i) }, (_, k) => {
        const own = opts.perHost?.(i + k);
        return startSshd({
          address: fleetAddress(first + i + k),
          dir,
          authorizedKeysPath,
          detached: opts.detached,
          extraConfig: [...(opts.extraConfig ?? []), ...(own?.extraConfig ?? [])],
          wrap: own?.wrap,
        });
      });
      // allSettled: the instances of a batch that did start must still be stopped on failure.
      const settled = await Promise.allSettled(batch);
      for (const r of settled) if (r.status === 'fulfilled') hosts.push(r.value);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (error) {
    await Promise.all(hosts.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(knownHostsPath, hosts.map((h) => h.knownHostsLine).join('\n') + '\n');
  return {
    dir,
    user: TEST_USER,
    passwordFile: PASSWORD_FILE,
    clientKeyPath,
    hosts,
    knownHostsPath,
    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
