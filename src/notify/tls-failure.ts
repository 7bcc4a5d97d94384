/**
 * Recognises a failed TLS certificate verification in a delivery error (SMTP or webhook), so it
 * is reported as what it is, not as a vague connection problem: the fix is the certificate or
 * the trusted CA, not the network.
 */

// OpenSSL verification codes as Node reports them (err.code), and their messages.
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);
const TLS_VERIFY_MESSAGES =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate has expired|certificate is not yet valid|does not match certificate's altnames|certificate (signature failure|revoked|chain too long)/i;

/**
 * The reason when `error` (or its cause) is a TLS certificate verification failure, else
 * undefined. The one recogniser for SMTP (nodemailer keeps the TLS code in `originalCode`) and
 * webhooks (undici puts it in `cause`). The message is read only on errors that carry no server
 * reply code, so a server's reply text can never pass for a local verification failure.
 */
export function tlsVerificationFailure(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const { code, originalCode, message, responseCode, cause } = current as {
      code?: unknown;
      originalCode?: unknown;
      message?: unknown;
      responseCode?: unknown;
      cause?: unknown;
    };
    const text = typeof message === 'string' && message ? message : undefined;
    for (const candidate of [code, originalCode]) {
      if (typeof candidate === 'string' && TLS_VERIFY_CODES.has(candidate)) return text ?? candidate;
    }
    if (responseCode === undefined && text !== undefined && TLS_VERIFY_MESSAGES.test(text)) return text;
    current = cause;
  }
  return undefined;
}

/** The message to report for a TLS verification failure. */
export function describeTlsFailure(reason: string): string {
  return `TLS certificate verification failed (${reason}): the server's certificate is not trusted; fix the certificate or trust its CA (NODE_EXTRA_CA_CERTS), never turn verification off`;
}
