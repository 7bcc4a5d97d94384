/**
 * One SSH connection to a client: connect with host key verification and the configured
 * authentication, run commands with stdin and size-capped output, close.
 */
import { readFile } from 'node:fs/promises';
import ssh2, { Client, type ConnectConfig, type ParsedKey } from 'ssh2';
import type { ClientConfig } from '../config/types.js';
import { StageError } from '../errors/stage-error.js';
import type { HostKeyStore } from './host-key-policy.js';

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  signal: string | null;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** Bytes of stdout kept at most; past it the command is ended and the call fails. */
  maxStdoutBytes?: number;
  maxStderrBytes?: number;
}

export interface SshSession {
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  close(): void;
}

export interface ConnectOptions {
  hostKeys: HostKeyStore;
  connectTimeoutMs: number;
  /** Ends the connection (during or after the handshake) when aborted. */
  signal?: AbortSignal;
}

// known_hosts names RSA keys "ssh-rsa"; the server proves them with any of these signatures.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

// A round opens hundreds of sessions with one key file: read it once per few seconds, not per
// host (open + read + close per host was ~6% of a 200-host round's collector time).
const KEY_FILE_CACHE_MS = 5_000;
const keyFiles = new Map<string, Promise<Buffer>>();

function readKeyFile(path: string): Promise<Buffer> {
  const cached = keyFiles.get(path);
  if (cached) return cached;
  const bytes = readFile(path);
  keyFiles.set(path, bytes);
  // Forget it soon (a replaced key is picked up) and at once on failure (the next host retries).
  setTimeout(() => keyFiles.delete(path), KEY_FILE_CACHE_MS).unref();
  // The caller awaiting `bytes` gets the error itself; this only drops it from the cache.
  bytes.catch(() => keyFiles.delete(path));
  return bytes;
}

// Parsed keys per file content read (and passphrase): ssh2 would parse (and, for a passphrase,
// decrypt) the key file again for every connection, ~7 % of the collector's CPU per host.
const parsedKeys = new WeakMap<Buffer, Map<string | undefined, ParsedKey>>();

function parsedKey(bytes: Buffer, client: ClientConfig): ParsedKey {
  let byPassphrase = parsedKeys.get(bytes);
  const cached = byPassphrase?.get(client.passphrase);
  if (cached) return cached;
  // @types/ssh2 leaves parseKey's result untyped; this is what ssh2 returns.
  const parseKey = ssh2.utils.parseKey as (data: Buffer, passphrase?: string) => ParsedKey | ParsedKey[] | Error;
  const parsed = parseKey(bytes, client.passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined || !key.isPrivateKey()) {
    const reason = key instanceof Error ? key.message : 'it holds no private key';
    throw new StageError(
      'auth',
      `cannot use private key ${client.keyPath}: ${reason}`,
      client.passphrase === undefined ? 'is it encrypted? give its passphrase' : 'check the passphrase',
    );
  }
  if (!byPassphrase) parsedKeys.set(bytes, (byPassphrase = new Map<string | undefined, ParsedKey>()));
  byPassphrase.set(client.passphrase, key);
  return key;
}

/** Credentials for one connection; the key is offered through authHandler, already parsed. */
type AuthOptions = Pick<ConnectConfig, 'password' | 'agent'> & { key?: ParsedKey };

async function authOptions(client: ClientConfig): Promise<AuthOptions> {
  const auth: AuthOptions = {};
  if (client.password !== undefined) auth.password = client.password;
  if (client.keyPath) {
    let bytes: Buffer;
    try {
      bytes = await readKeyFile(client.keyPath);
    } catch (error) {
      throw new StageError('auth', `cannot read private key ${client.keyPath}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    auth.key = parsedKey(bytes, client);
  }
  if (client.agent) {
    if (!process.env.SSH_AUTH_SOCK)
      throw new StageError('auth', 'agent="true" but SSH_AUTH_SOCK is not set', 'start ssh-agent and add the key');
    auth.agent = process.env.SSH_AUTH_SOCK;
  }
  return auth;
}

function classifyConnectError(error: Error & { level?: string; code?: string }, client: ClientConfig): StageError {
  const where = `${client.ip}:${client.port}`;
  if (error.level === 'client-authentication') {
    return new StageError(
      'auth',
      `authentication as ${client.username} failed on ${where} (methods tried: ${error.message.replace(/^All configured authentication methods failed$/, 'all configured')})`,
      { hint: 'check the password, key or account', cause: error },
    );
  }
  if (error.level === 'client-timeout') {
    return new StageError('connect', `no SSH handshake from ${where} within the connect timeout`, {
      hint: 'is sshd running and reachable?',
      cause: error,
    });
  }
  if (error.code === 'ECONNREFUSED')
    return new StageError('connect', `connection refused by ${where}`, {
      hint: 'is sshd running on that port?',
      cause: error,
    });
  if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH')
    return new StageError('connect', `${where} is unreachable (${error.code})`, { cause: error });
  if (error.code === 'ECONNRESET')
    return new StageError('connect', `connection reset by ${where} during the handshake`, { cause: error });
  return new StageError('connect', `SSH connection to ${where} failed: ${error.message}`, { cause: error });
}

/** The methods ssh2 would try by default for these options, in its order. */
function authMethods(
  auth: AuthOptions,
  username: string,
): (string | { type: 'publickey'; username: string; key: ParsedKey })[] {
  return [
    'none',
    ...(auth.password !== undefined ? ['password'] : []),
    ...(auth.key !== undefined ? [{ type: 'publickey' as const, username, key: auth.key }] : []),
    ...(auth.agent !== undefined ? ['agent'] : []),
  ];
}

/**
 * Connects and authenticates; rejects with a StageError (connect, hostkey or auth).
 * Under accept-new, a first-seen host key is recorded only after the key exchange has verified
 * the server's signature with it (ssh2's hostVerifier runs before that check, so recording there
 * would let anyone who merely *sends* a host's public key plant it): on 'handshake', and before
 * any credential is sent, since authentication waits for the record.
 */
export async function openSession(client: ClientConfig, options: ConnectOptions): Promise<SshSession> {
  const auth = await authOptions(client);
  const knownTypes = options.hostKeys
    .knownKeyTypes(client.ip, client.port)
    .flatMap((t) => HOST_KEY_ALGORITHMS[t] ?? [t]);
  const connection = new Client();
  let hostKeyError: StageError | undefined;
  let firstSeenKey: Buffer | undefined;
  let recording: Promise<void> | undefined;
  const methods = authMethods(auth, client.username);
  let nextMethod = 0;

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: StageError) => {
      if (settled) return;
      settled = true;
      connection.end();
      reject(error);
    };
    // destroy (before fail's end(), which would leave the socket half-closed and destroy() a no-op):
    // a peer that never speaks SSH would keep an ended socket open until the ready timeout.
    options.signal?.addEventListener(
      'abort',
      () => {
        connection.destroy();
        if (!settled) fail(new StageError('connect', 'aborted'));
      },
      { once: true },
    );
    connection.once('ready', () => {
      settled = true;
      resolve();
    });
    connection.on('error', (error: Error & { level?: string; code?: string }) =>
      fail(hostKeyError ?? classifyConnectError(error, client)),
    );
    connection.once('close', () =>
      fail(
        hostKeyError ??
          new StageError('connect', `connection to ${client.ip}:${client.port} closed during the handshake`),
      ),
    );
    // Emitted once the key exchange is complete, its signature verified with the presented key.
    connection.on('handshake', () => {
      if (!firstSeenKey) return;
      recording = options.hostKeys.recordFirstSeen(client.ip, client.port, firstSeenKey);
      firstSeenKey = undefined;
      recording.catch((error: StageError) => {
        hostKeyError = error;
        fail(error);
      });
    });
    const nextAuth = () => (nextMethod < methods.length ? methods[nextMethod++]! : false);
    connection.connect({
      host: client.ip,
      port: client.port,
      username: client.username,
      readyTimeout: options.connectTimeoutMs,
      keepaliveInterval: 15_000,
      password: auth.password,
      agent: auth.agent,
      ...(knownTypes.length > 0 ? { algorithms: { serverHostKey: { prepend: knownTypes } as never } } : {}),
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        options.hostKeys.verify(client.ip, client.port, key, client.hostKey).then(
          (decision) => {
            if (decision.kind === 'first-seen') firstSeenKey = key;
            verify(true);
          },
          (error: StageError) => {
            hostKeyError = error;
            verify(false);
          },
        );
      },
      // No credential leaves before a first-seen host key is recorded (or refused).
      authHandler: ((
        _methodsLeft: unknown,
        _partial: unknown,
        callback: (method: ReturnType<typeof nextAuth>) => void,
      ) => {
        if (!recording) return nextAuth();
        recording.then(
          () => callback(nextAuth()),
          () => undefined /* reported by the 'handshake' listener */,
        );
        return undefined;
      }) as never,
    });
  });

  return {
    exec: (command, execOptions = {}) => execCommand(connection, command, execOptions),
    close: () => connection.end(),
  };
}

function execCommand(connection: Client, command: string, options: ExecOptions): Promise<ExecResult> {
  const maxStdout = options.maxStdoutBytes ?? 1024 * 1024;
  const maxStderr = options.maxStderrBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    connection.exec(command, (error, channel) => {
      if (error) {
        reject(new StageError('run', `cannot start a command: ${error.message}`, { cause: error }));
        return;
      }
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = '';
      let code: number | null = null;
      let signal: string | null = null;
      let overflow = false;
      channel.on('data', (chunk: Buffer) => {
        if (overflow) return;
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxStdout) {
          overflow = true;
          channel.close();
          return;
        }
        stdout.push(chunk);
      });
      channel.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < maxStderr) stderr += chunk.toString('utf8').slice(0, maxStderr - stderr.length);
      });
      channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
        code = exitCode;
        signal = exitSignal ?? null;
      });
      channel.on('close', () => {
        if (overflow) reject(new StageError('run', `reply exceeds ${maxStdout} bytes; reading stopped`));
        else resolve({ stdout: Buffer.concat(stdout), stderr, code, signal });
      });
      if (options.stdin !== undefined) channel.end(options.stdin);
      else channel.end();
    });
  });
}
