/**
 * One recogniser for TLS certificate failures (src/notify/tls-failure.ts): the SMTP transport,
 * the generic delivery classifier and the webhook transport all name them the same way, from
 * the shapes nodemailer and undici really give (code, originalCode, cause), and a server's
 * reply text never passes for one.
 */
import { describe, expect, it } from 'vitest';
import { classifyDeliveryError } from '../src/notify/mail-transport.js';
import { classifySmtpError } from '../src/notify/smtp-transport.js';
import { tlsVerificationFailure } from '../src/notify/tls-failure.js';

const smtp = { host: '127.0.0.1', port: 25, secure: false, requireTls: false, tlsVerify: true, from: 'f@example.org' };

function nodeError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('TLS failure recognition', () => {
  it("reads the verification code from code, from nodemailer's originalCode and from a cause", () => {
    expect(tlsVerificationFailure(nodeError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe(
      'self-signed certificate',
    );
    expect(tlsVerificationFailure(nodeError('x', { code: 'ETLS', originalCode: 'CERT_HAS_EXPIRED' }))).toBe('x');
    const undici = new TypeError('fetch failed', {
      cause: nodeError('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    });
    expect(tlsVerificationFailure(undici)).toBe('unable to verify the first certificate');
  });

  it('falls back to the message only when no server replied', () => {
    expect(tlsVerificationFailure(nodeError('certificate has expired', { code: 'ESOCKET' }))).toBe(
      'certificate has expired',
    );
    expect(
      tlsVerificationFailure(nodeError('550 self-signed certificate rejected here', { responseCode: 550 })),
    ).toBeUndefined();
    expect(
      tlsVerificationFailure(nodeError('connect ECONNREFUSED 127.0.0.1:25', { code: 'ECONNREFUSED' })),
    ).toBeUndefined();
  });

  it('gives the same kind, tls, from the SMTP classifier and the generic one', () => {
    const error = nodeError('self-signed certificate in certificate chain', {
      code: 'ESOCKET',
      originalCode: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(classifySmtpError(error, smtp, false)).toMatchObject({
      kind: 'tls',
      message: expect.stringMatching(/^TLS certificate verification failed: self-signed/),
    });
    expect(classifyDeliveryError(error)).toMatchObject({
      kind: 'tls',
      message: expect.stringMatching(/^TLS certificate verification failed/),
    });
  });

  it('keeps a 5xx reply that mentions certificates a permanent failure', () => {
    const reply = nodeError('554 5.7.1 client certificate required', { code: 'EENVELOPE', responseCode: 554 });
    expect(classifySmtpError(reply, smtp, false).kind).toBe('permanent');
  });
});
