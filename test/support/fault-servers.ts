/**
 * Misbehaving TCP endpoints on loopback for fault tests and the faulty-round benchmark:
 * a closed port (host down), a tarpit (accepts TCP, never speaks SSH) and a server that sends
 * an SSH banner and then nothing (stalls mid-handshake).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from './sshd.js';

export interface FaultEndpoint {
  address: string;
  port: number;
  /** Connections accepted so far (0 for a closed port). */
  readonly connections: number;
  stop(): Promise<void>;
}

/** A port on `address` where nothing listens: connecting is refused (host down). */
export async function closedPort(address: string): Promise<FaultEndpoint> {
  const port = await freePort(address);
  return { address, port, connections: 0, stop: async () => {} };
}

async function holdingServer(address: string, onSocket: (socket: Socket) => void): Promise<FaultEndpoint> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and drop whatever the client sends
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    address,
    port,
    get connections() { return connections; },
    stop: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Accepts TCP connections and never writes a byte (a tarpit, or a wedged sshd). */
export function startTarpit(address: string): Promise<FaultEndpoint> {
  return holdingServer(address, () => {});
}

/** Sends an SSH identification line, then nothing: the key exchange never starts. */
export function startBannerStall(address: string): Promise<FaultEndpoint> {
  return holdingServer(address, (socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 stalled\r\n'));
}
