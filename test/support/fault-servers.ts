/**
 * Misbehaving TCP endpoints on loopback for fault tests and the faulty-round benchmark:
 * a closed port (host down), a tarpit (accepts TCP, never speaks SSH) and a server that sends
 * an SSH banner and then nothing (stalls mid-handshake), and a hostile server that answers the
 * client's identification with an SSH_MSG_DISCONNECT whose reason text is attacker-chosen bytes
 * (escapes, forged log lines, bidi overrides, invalid UTF-8), before any host key is offered.
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
    get connections() {
      return connections;
    },
    stop: () =>
      new Promise<void>((resolve) => {
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

/** Reason code of that disconnect: SSH_DISCONNECT_PROTOCOL_ERROR (RFC 4253 §11.1). */
const DISCONNECT_PROTOCOL_ERROR = 2;

/** An unencrypted SSH binary packet (RFC 4253 §6): length, padding length, payload, padding. */
function sshPacket(payload: Buffer): Buffer {
  let padding = 8 - ((5 + payload.length) % 8);
  if (padding < 4) padding += 8;
  const packet = Buffer.alloc(5 + payload.length + padding);
  packet.writeUInt32BE(1 + payload.length + padding, 0);
  packet.writeUInt8(padding, 4);
  payload.copy(packet, 5);
  return packet;
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

/**
 * Speaks like sshd (identification line first), then, once the client has sent its own, sends
 * SSH_MSG_DISCONNECT with `reason` as the description, exactly as given, and closes: no key
 * exchange, so no host key is ever presented or trusted.
 */
export function startDisconnecter(address: string, reason: Buffer): Promise<FaultEndpoint> {
  const payload = Buffer.concat([Buffer.from([1]), Buffer.alloc(4), sshString(reason), sshString(Buffer.alloc(0))]);
  payload.writeUInt32BE(DISCONNECT_PROTOCOL_ERROR, 1);
  return holdingServer(address, (socket) => {
    socket.write('SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n');
    socket.once('data', () => socket.end(sshPacket(payload)));
  });
}
