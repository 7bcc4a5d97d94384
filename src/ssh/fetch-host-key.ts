/**
 * Fetches the host key a server presents, without authenticating: the handshake is stopped at
 * the key check (like ssh-keyscan), so nothing is trusted and no credential is sent.
 */
import { Client } from 'ssh2';

// known_hosts names RSA keys "ssh-rsa"; the server proves them with any of these signatures.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = { 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] };

export type FetchedHostKey = { ok: true; key: Buffer } | { ok: false; message: string };

/**
 * Connects to host:port and returns the public key blob it presents. `preferTypes` (key types
 * already recorded for the host) are offered first, so a host with several keys shows the one
 * known_hosts can be compared with.
 */
export function fetchHostKey(
  host: string,
  port: number,
  timeoutMs: number,
  preferTypes: string[] = [],
): Promise<FetchedHostKey> {
  const prepend = preferTypes.flatMap((type) => HOST_KEY_ALGORITHMS[type] ?? [type]);
  return new Promise((resolve) => {
    const connection = new Client();
    let key: Buffer | undefined;
    let settled = false;
    const finish = (outcome: FetchedHostKey): void => {
      if (settled) return;
      settled = true;
      connection.destroy();
      resolve(outcome);
    };
    connection.on('error', (error: Error & { code?: string; level?: string }) => {
      if (key) finish({ ok: true, key });
      else finish({ ok: false, message: describe(error, host, port) });
    });
    connection.once('close', () =>
      finish(
        key
          ? { ok: true, key }
          : { ok: false, message: `connection to ${host}:${port} closed before it showed a host key` },
      ),
    );
    connection.once('ready', () => finish(key ? { ok: true, key } : { ok: false, message: 'no host key seen' }));
    connection.connect({
      host,
      port,
      username: 'fleetstat-scan',
      readyTimeout: timeoutMs,
      ...(prepend.length > 0 ? { algorithms: { serverHostKey: { prepend } as never } } : {}),
      hostVerifier: (presented: Buffer, verify: (valid: boolean) => void) => {
        key = Buffer.from(presented);
        verify(false); // stop here: we only wanted to see the key
      },
    });
  });
}

function describe(error: Error & { code?: string; level?: string }, host: string, port: number): string {
  if (error.code === 'ECONNREFUSED') return `connection refused by ${host}:${port}`;
  if (error.level === 'client-timeout') return `no SSH handshake from ${host}:${port} within the connect timeout`;
  return `SSH connection to ${host}:${port} failed: ${error.message}`;
}
