/**
 * A real SMTP server on 127.0.0.1 for tests and the demo: it receives mails and keeps them
 * (envelope, raw message, parsed headers and decoded plain-text body), and can be told to refuse
 * given recipients with a 4xx/5xx reply, to refuse every connection (421), or to stay silent
 * after accepting a connection (a hung server). With `offerPlainAuth` it offers AUTH on its plain
 * connection, as a hostile server or a network that strips STARTTLS would, and records every
 * login it is sent (`logins`): a client that sends one has leaked its password.
 *
 *   const smtp = await startSmtpCatcher();              // smtp.port
 *   smtp.rejectRecipient('bad@example.org', 550);
 *   … send …
 *   const [mail] = await smtp.waitForMessages(1);
 *   await smtp.stop();
 */
import { createServer, type AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  envelope: { from: string; to: string[] };
  /** The message exactly as received (CRLF line ends). */
  raw: string;
  /** Header fields, names lower-cased, folded lines joined, encoded words decoded; repeated names keep every value. */
  headers: Map<string, string[]>;
  /** First value of a header, or undefined. */
  header(name: string): string | undefined;
  subject: string | undefined;
  /** Body decoded from its transfer encoding, with \n line ends. */
  body: string;
}

/** What the server does when a client connects. */
export type CatcherMode = 'accept' | 'refuse' | 'silent';

export interface SmtpCatcher {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly messages: CaughtMail[];
  /** Credentials clients sent (only with `offerPlainAuth`). */
  readonly logins: { user: string; password: string }[];
  /** Number of connections accepted so far (refused and silent ones included). */
  readonly connections: number;
  /** Answers `code` (4xx or 5xx) to RCPT TO for this address until cleared. */
  rejectRecipient(address: string, code: number, message?: string): void;
  /** Accepts the address again. */
  acceptRecipient(address: string): void;
  setMode(mode: CatcherMode): void;
  /** Resolves once at least `count` messages have arrived; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<CaughtMail[]>;
  /** Stops listening and drops open connections. */
  stop(): Promise<void>;
}

export interface CatcherOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Offer AUTH PLAIN/LOGIN without TLS and accept any login (recorded in `logins`). */
  offerPlainAuth?: boolean;
}

/** A TCP port on 127.0.0.1 that was free a moment ago: for a server that is "down" until started there. */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts a catcher on 127.0.0.1 (never another interface). */
export async function startSmtpCatcher(options: CatcherOptions = {}): Promise<SmtpCatcher> {
  const messages: CaughtMail[] = [];
  const rejections = new Map<string, { code: number; message: string }>();
  const waiters = new Set<() => void>();
  let mode: CatcherMode = 'accept';
  let connections = 0;
  const logins: { user: string; password: string }[] = [];

  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: options.offerPlainAuth === true,
    onAuth(auth, _session, callback) {
      logins.push({ user: auth.username ?? '', password: auth.password ?? '' });
      callback(null, { user: auth.username });
    },
    // The test certificate smtp-server ships would fail verification; tests speak plain SMTP.
    disabledCommands: ['STARTTLS'],
    closeTimeout: 500,
    onConnect(_session, callback) {
      connections += 1;
      if (mode === 'refuse') return callback(smtpError(421, 'catcher refuses connections'));
      if (mode === 'silent') return; // never greet: the client must time out
      callback();
    },
    onRcptTo(address, _session, callback) {
      const rejection = rejections.get(address.address.toLowerCase());
      if (rejection) return callback(smtpError(rejection.code, rejection.message));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        messages.push(parseMessage(raw, { from, to: session.envelope.rcptTo.map((r) => r.address) }));
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  server.on('error', () => undefined); // a client hanging up mid-session is not a test failure

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    messages,
    logins,
    get connections() {
      return connections;
    },
    rejectRecipient(address, code, message = `catcher rejects ${address}`) {
      if (code < 400 || code > 599) throw new Error(`rejectRecipient: ${code} is not a 4xx/5xx reply`);
      rejections.set(address.toLowerCase(), { code, message });
    },
    acceptRecipient(address) {
      rejections.delete(address.toLowerCase());
    },
    setMode(next) {
      mode = next;
    },
    waitForMessages(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          cleanup();
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`smtp catcher: ${messages.length} of ${count} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    stop() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Minimal RFC 5322 parsing, enough for the single-part plain-text mails fleetstat sends. */
function parseMessage(raw: string, envelope: { from: string; to: string[] }): CaughtMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const rawBody = split === -1 ? '' : raw.slice(split + 4);
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  const header = (name: string) => headers.get(name.toLowerCase())?.[0];
  const encoding = (header('content-transfer-encoding') ?? '7bit').toLowerCase();
  return { envelope, raw, headers, header, subject: header('subject'), body: decodeBody(rawBody, encoding) };
}

function decodeBody(body: string, encoding: string): string {
  let decoded = body;
  if (encoding === 'base64') decoded = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') decoded = decodeQuotedPrintable(body);
  return decoded.replace(/\r\n/g, '\n');
}

function decodeQuotedPrintable(text: string): string {
  const bytes = Buffer.from(text.replace(/=\r?\n/g, ''), 'latin1');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const hex = bytes[i] === 0x3d ? bytes.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(bytes[i]!);
    }
  }
  return Buffer.from(out).toString('utf8');
}

/** Decodes RFC 2047 words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=); whitespace between two words is dropped. */
function decodeEncodedWords(value: string): string {
  const word = /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g;
  return value.replace(/(\?=)\s+(?==\?)/g, '$1').replace(word, (_all, _charset: string, kind: string, text: string) => {
    if (kind.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    return decodeQuotedPrintable(text.replace(/_/g, ' '));
  });
}
