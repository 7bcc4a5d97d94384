/**
 * A failed TLS certificate verification is reported as such, by the SMTP transport and by the
 * webhook transport, against real TLS servers on 127.0.0.1 with a self-signed certificate
 * made by openssl for the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpTransport } from '../src/notify/smtp-transport.js';
import { webhookTransport } from '../src/notify/webhook-transport.js';
import { requireTool } from './support/requirements.js';

describe('TLS verification failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-tls-'));
  let key: Buffer;
  let cert: Buffer;
  const serverErrors: Error[] = [];
  let smtp: SMTPServer;
  let https: Server;

  beforeAll(async () => {
    requireTool('openssl');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
    smtp = new SMTPServer({ secure: true, key, cert, authOptional: true, logger: false });
    // The client hangs up mid-handshake on purpose; the server reports that as an error event.
    smtp.on('error', (error) => serverErrors.push(error));
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    https = createServer({ key, cert }, (_request, response) => response.writeHead(204).end());
    https.on('tlsClientError', (error) => serverErrors.push(error));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (https ? https.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('SMTP: an untrusted server certificate is named, not a vague connection failure', async () => {
    const port = (smtp.server.address() as AddressInfo).port;
    const transport = smtpTransport(
      { host: '127.0.0.1', port, secure: true, requireTls: false, tlsVerify: true, from: 'fleetstat@example.org' },
      { timeoutMs: 10_000 },
    );
    try {
      await expect(transport.send({ to: 'ops@example.org', subject: 's', body: 'b' })).rejects.toMatchObject({
        kind: 'tls', // its own failure kind: the mail waits, no attempt is used (docs/security.md)
        message: expect.stringMatching(/TLS certificate verification failed.*self[- ]signed certificate/),
      });
    } finally {
      transport.close?.();
    }
  });

  it('webhook: an untrusted receiver certificate is named, and retried', async () => {
    const port = (https.address() as AddressInfo).port;
    const url = `https://127.0.0.1:${port}/hook`;
    const transport = webhookTransport([{ url, format: 'json', secretHeader: 'X-Fleetstat-Token', line: 1 }], {
      timeoutMs: 10_000,
    });
    await expect(transport.send({ to: url, subject: 's', body: '{}' })).rejects.toMatchObject({
      kind: 'temporary',
      message: expect.stringMatching(/TLS certificate verification failed \(self[- ]signed certificate\)/),
    });
  });
});
