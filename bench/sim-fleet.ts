/**
 * A simulated fleet that costs the collector's machine almost nothing, to measure the collector
 * alone (docs/performance.md, "The collector alone"). One process listens on N loopback
 * addresses (127.B.x.y, one port: Linux routes all of 127.0.0.0/8 to lo, so nothing is added to
 * the machine), speaks real SSH (ssh2's server: ed25519 host keys listed in a known_hosts file,
 * public-key authentication) and answers the collector's commands as a Unix target does:
 * the one-shot command (src/probe/unix-commands.ts) and the generic detect / upload / run steps.
 * It reads the probe's input line from stdin, and seals a plausible report (bench/sim-report.ts)
 * with the run's own secrets, exactly as probe.sh does (sealEnvelope, src/probe/envelope.ts);
 * it sleeps the CPU-sample interval on a timer instead of running a probe.
 *
 * Some hosts misbehave (each kind at --fault-share of the hosts, spread evenly): `slow` answers
 * after --slow-ms (still a success), `exit` makes the probe exit 1, `garbage` replies with no
 * envelope, `auth` refuses the key, `closed` has no listener (connection refused).
 *
 *   npx tsx bench/sim-fleet.ts --hosts 1000 --dir /tmp/sim [--port 2222] [--octet 200]
 *
 * Writes DIR/sim-fleet.json (hosts, modes, key and known_hosts paths), then prints one line
 * `SIMFLEET-READY DIR/sim-fleet.json`. It prints its own CPU as `SIMFLEET-CPU {json}` when it
 * reads `cpu` on stdin or gets SIGUSR2, and once more as it exits (SIGTERM, SIGINT, stdin closed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import ssh2, { type AuthContext, type Connection, type ServerChannel } from 'ssh2';
import { DETECT_COMMAND } from '../src/probe/detect.js';
import { sealEnvelope, type RunSecrets } from '../src/probe/envelope.js';
import { reportSchema } from '../src/probe/report.js';
import { UNIX_UPLOAD_COMMAND, unixOneShotCommand } from '../src/probe/unix-commands.js';
import { simReport } from './sim-report.js';

const { Server, utils } = ssh2;

/** How a simulated host behaves; `stage` is where the collector must record its failure. */
export const SIM_MODES = {
  ok: undefined,
  slow: undefined,
  exit: 'run',
  garbage: 'decrypt',
  auth: 'auth',
  closed: 'connect',
} as const;
export type SimMode = keyof typeof SIM_MODES;

export interface SimHost {
  name: string;
  address: string;
  port: number;
  mode: SimMode;
}

/** DIR/sim-fleet.json: what a collector config needs to reach the simulated fleet. */
export interface SimManifest {
  user: string;
  clientKeyPath: string;
  knownHostsPath: string;
  hosts: SimHost[];
}

export const SIM_USER = 'fleetstat-sim';
export const MANIFEST_NAME = 'sim-fleet.json';
const HOST_KEYS = 8;
const UNAME = 'Linux 6.1.0-28-amd64 x86_64';
const MAX_STDIN = 256 * 1024;
const INPUT_LINE = /^FLEETSTAT1 ([0-9a-f]{32}) ([0-9a-f]{64}) ([0-9a-f]{64}) (\d{1,5}) (\d{1,4}) (\d{1,16})$/;

/** Address i (0-based) of the simulated fleet: 127.octet.1.1 … 127.octet.1.250, 127.octet.2.1, … */
export function simAddress(octet: number, i: number): string {
  return `127.${octet}.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** The mode of host i of n: each failure kind on `share` of the hosts, spread evenly. */
export function simModes(n: number, share: number): SimMode[] {
  const modes: SimMode[] = new Array<SimMode>(n).fill('ok');
  const kinds: SimMode[] = ['slow', 'exit', 'garbage', 'auth', 'closed'];
  const each = share > 0 ? Math.max(1, Math.round(n * share)) : 0;
  const total = Math.min(n, each * kinds.length);
  for (let k = 0; k < total; k++) modes[Math.floor(((k + 0.5) * n) / total)] = kinds[k % kinds.length]!;
  return modes;
}

function keygen(path: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleetstat-sim', '-f', path]);
}

/** Collects a channel's stdin up to EOF (bounded), then calls `done` with it. */
function readStdin(channel: ServerChannel, done: (input: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  channel.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_STDIN) chunks.push(chunk);
  });
  channel.once('end', () => done(Buffer.concat(chunks)));
}

function finish(channel: ServerChannel, code: number, stdout: string, stderr = ''): void {
  if (stdout) channel.write(stdout);
  if (stderr) channel.stderr.write(stderr);
  channel.exit(code);
  channel.end();
}

interface SimState {
  started: number;
  runs: number[];
  slowMs: number;
  sessions: number;
}

/** The probe's part: open the input line, wait the sample interval, print the sealed report. */
function runProbe(
  channel: ServerChannel,
  index: number,
  mode: SimMode,
  input: Buffer,
  state: SimState,
  prefix: string,
): void {
  const newline = input.indexOf(0x0a);
  const match = INPUT_LINE.exec(input.subarray(0, newline < 0 ? input.length : newline).toString('latin1'));
  if (!match) return finish(channel, 64, prefix, 'probe.sh: bad input line on stdin\n');
  const secrets: RunSecrets = { runId: match[1]!, encPass: match[2]!, macKey: match[3]! };
  const cpuMs = Number(match[4]);
  const delay = cpuMs + (mode === 'slow' ? state.slowMs : 0);
  setTimeout(() => {
    state.sessions++;
    if (mode === 'exit') return finish(channel, 1, prefix, 'probe.sh: simulated failure (cannot read /proc/stat)\n');
    if (mode === 'garbage') return finish(channel, 0, `${prefix}Segmentation fault\n\x1b[31mgarbage\x1b[0m\n`);
    const run = state.runs[index]!++;
    const report = simReport(index, run, Date.now(), cpuMs, state.started);
    finish(channel, 0, prefix + sealEnvelope(report, secrets));
  }, delay);
}

/** Answers one exec request the way a Unix target's login shell does. */
function answer(channel: ServerChannel, command: string, index: number, mode: SimMode, state: SimState): void {
  if (
    command === unixOneShotCommand({ sudo: 'none', encoding: 'gzip' }) ||
    command === unixOneShotCommand({ sudo: 'none', encoding: 'plain' })
  ) {
    readStdin(channel, (input) => runProbe(channel, index, mode, input, state, `FSD1 sh ${UNAME}\n`));
  } else if (command === DETECT_COMMAND) {
    readStdin(channel, () => finish(channel, 0, `\`\nFSD1 sh ${UNAME}\n`));
  } else if (command === UNIX_UPLOAD_COMMAND) {
    readStdin(channel, () => finish(channel, 0, `/tmp/fleetstat.sim${String(index).padStart(6, '0')}\n`));
  } else if (/^sh '\/tmp\/fleetstat\.sim\d{6}\/probe\.sh'; rc=\$\?; rm -rf /.test(command)) {
    readStdin(channel, (input) => runProbe(channel, index, mode, input, state, ''));
  } else {
    readStdin(channel, () => finish(channel, 127, '', `sh: 1: ${command.slice(0, 40)}: not found\n`));
  }
}

/** Public-key authentication as sshd does it: the offered key must be ours, its signature valid. */
function authenticate(ctx: AuthContext, clientKey: ReturnType<typeof utils.parseKey>, mode: SimMode): void {
  if (ctx.method !== 'publickey' || ctx.username !== SIM_USER || mode === 'auth' || clientKey instanceof Error)
    return ctx.reject(['publickey']);
  const offered = ctx.key.algo === clientKey.type && ctx.key.data.equals(clientKey.getPublicSSH());
  if (!offered) return ctx.reject(['publickey']);
  if (!ctx.signature) return ctx.accept(); // the key is acceptable: the client signs next
  if (clientKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
  ctx.reject(['publickey']);
}

function cpuLine(state: SimState): string {
  const { user, system } = process.cpuUsage();
  return `SIMFLEET-CPU ${JSON.stringify({ userMs: Math.round(user / 1000), systemMs: Math.round(system / 1000), probeRuns: state.sessions, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) })}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '1000' },
      dir: { type: 'string' },
      port: { type: 'string', default: '2222' },
      octet: { type: 'string', default: '200' },
      'fault-share': { type: 'string', default: '0.005' },
      'slow-ms': { type: 'string', default: '3000' },
    },
  });
  if (!values.dir) throw new Error('--dir DIR is required');
  const n = Number(values.hosts);
  const port = Number(values.port);
  const octet = Number(values.octet);
  if (!Number.isInteger(n) || n < 1 || n > 250 * 250) throw new Error(`--hosts must be 1–62500, not ${values.hosts}`);
  if (!Number.isInteger(octet) || octet < 1 || octet > 255)
    throw new Error(`--octet must be 1–255, not ${values.octet}`);
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });

  const clientKeyPath = join(dir, 'client_ed25519');
  keygen(clientKeyPath);
  const clientKey = utils.parseKey(readFileSync(`${clientKeyPath}.pub`));
  const hostKeys = Array.from({ length: HOST_KEYS }, (_, k) => {
    const path = join(dir, `host_ed25519_${k}`);
    keygen(path);
    return {
      private: readFileSync(path),
      public: readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    };
  });
  const modes = simModes(n, Number(values['fault-share']));
  const hosts: SimHost[] = modes.map((mode, i) => ({
    name: `sim-${i + 1}`,
    address: simAddress(octet, i),
    port,
    mode,
  }));
  const knownHostsPath = join(dir, 'known_hosts');
  writeFileSync(
    knownHostsPath,
    hosts.map((h, i) => `[${h.address}]:${h.port} ${hostKeys[i % HOST_KEYS]!.public}`).join('\n') + '\n',
  );

  const state: SimState = {
    started: Date.now(),
    runs: new Array<number>(n).fill(0),
    slowMs: Number(values['slow-ms']),
    sessions: 0,
  };
  // Which host a connection is for: the listener that accepted it, keyed by the peer's address.
  const pending = new Map<string, number>();
  const servers = hostKeys.map(
    (key) =>
      new Server(
        {
          hostKeys: [key.private],
          algorithms: { kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org'], serverHostKey: ['ssh-ed25519'] },
        },
        (connection: Connection, info) => {
          const peer = `${info.ip}:${info.port}`;
          const index = pending.get(peer);
          pending.delete(peer);
          if (index === undefined) return connection.end();
          const mode = modes[index]!;
          connection.on('error', () => undefined); // the collector ends sessions as it likes
          connection.on('authentication', (ctx) => authenticate(ctx, clientKey, mode));
          connection.on('ready', () => {
            connection.on('session', (accept) => {
              accept().on('exec', (acceptExec, _reject, request) =>
                answer(acceptExec(), request.command, index, mode, state),
              );
            });
          });
        },
      ),
  );
  const listeners: NetServer[] = [];
  const listen = (i: number) =>
    new Promise<void>((done, fail) => {
      const listener = createServer((socket: Socket) => {
        pending.set(`${socket.remoteAddress}:${socket.remotePort}`, i);
        servers[i % HOST_KEYS]!.injectSocket(socket);
      });
      listener.once('error', (error) =>
        fail(new Error(`cannot listen on ${hosts[i]!.address}:${port}: ${error.message}`)),
      );
      listener.listen({ host: hosts[i]!.address, port, backlog: 128 }, () => {
        listeners.push(listener);
        done();
      });
    });
  for (let i = 0; i < n; i += 500) {
    await Promise.all(hosts.slice(i, i + 500).flatMap((h, k) => (h.mode === 'closed' ? [] : [listen(i + k)])));
  }

  const manifest: SimManifest = { user: SIM_USER, clientKeyPath, knownHostsPath, hosts };
  const manifestPath = join(dir, MANIFEST_NAME);
  writeFileSync(manifestPath, JSON.stringify(manifest));
  // The report this fleet sends must pass the collector's schema: fail here, not in every host.
  reportSchema.parse(simReport(0, 0, Date.now(), 10, state.started));

  const printCpu = () => process.stdout.write(cpuLine(state));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    printCpu();
    for (const listener of listeners) listener.close();
    process.exit(0);
  };
  process.on('SIGUSR2', printCpu);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line.trim() === 'cpu') printCpu();
    })
    .once('close', stop);
  process.stdout.write(`SIMFLEET-READY ${manifestPath}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`sim-fleet: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
