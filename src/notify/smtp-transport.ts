/**
 * The SMTP transport for the outbox drain, on nodemailer: one pooled connection reused for all
 * mails of a drain, short timeouts so a dead or stalling server cannot hold up a round, STARTTLS
 * whenever the server offers it, and never a password over a connection without verified TLS.
 */
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config/types.js';
import { sanitizeSubject } from './mail-text.js';
import { threadingFields } from './mail-threading.js';
import { tlsVerificationFailure } from './tls-failure.js';
import {
  MailDeliveryError,
  classifyDeliveryError,
  isServerFailure,
  type MailTransport,
  type OutgoingMail,
} from './mail-transport.js';

export interface SmtpTransportOptions {
  /** Connect, greeting, DNS and socket-inactivity timeout. Default 10 s. */
  timeoutMs?: number;
  /** Hard limit for one whole delivery, against a server that trickles replies. Default 30 s. */
  deliveryTimeoutMs?: number;
}

type Pool = ReturnType<typeof nodemailer.createTransport>;

/**
 * Creates a transport that sends plain-text mails from `config.from` through the configured SMTP
 * server. TLS: `secure` connects with TLS from the start (port 465); otherwise STARTTLS is used
 * when offered, and required when `requireTls` is set or credentials are configured: a server
 * (or a network in the middle) that does not offer STARTTLS then gets no AUTH and no mail, and
 * the failure is of kind `tls`. Certificates are verified against the system CAs plus `ca`,
 * unless `tlsVerify` is false. Call `close()` when done.
 */
export function smtpTransport(config: SmtpConfig, options: SmtpTransportOptions = {}): MailTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;
  const hasCredentials = config.user !== undefined && config.user !== '';
  let pool: Pool | undefined;

  const openPool = (): Pool =>
    nodemailer.createTransport({
      pool: true,
      maxConnections: 1,
      maxMessages: 100,
      maxRequeues: 1,
      host: config.host,
      port: config.port,
      secure: config.secure,
      // The password never travels without TLS: credentials make STARTTLS mandatory.
      requireTLS: !config.secure && (config.requireTls || hasCredentials),
      opportunisticTLS: !config.requireTls && !hasCredentials,
      tls: tlsOptions(config),
      auth: hasCredentials ? { user: config.user as string, pass: config.password ?? '' } : undefined,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });

  const dropPool = (): void => {
    pool?.close({ force: true });
    pool = undefined;
  };

  return {
    async send(mail: OutgoingMail): Promise<void> {
      pool ??= openPool();
      const delivery = pool.sendMail({
        from: config.from,
        to: mail.to,
        subject: sanitizeSubject(mail.subject),
        text: mail.body,
        ...threadingFields(mail, config.from),
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // A stalled connection is useless for the next mail too: drop it.
          dropPool();
          reject(
            new MailDeliveryError(
              `no answer from ${config.host}:${config.port} within ${deliveryTimeoutMs} ms`,
              'connection',
            ),
          );
        }, deliveryTimeoutMs);
      });
      try {
        await Promise.race([delivery, deadline]);
      } catch (error) {
        const failure = classifySmtpError(error, config, hasCredentials);
        if (isServerFailure(failure.kind)) dropPool();
        throw new MailDeliveryError(
          `SMTP ${config.host}:${config.port}: ${failure.message}`,
          failure.kind,
          failure.responseCode,
        );
      } finally {
        clearTimeout(timer);
        delivery.catch(() => undefined); // the deadline may have won; do not leave a rejection unhandled
      }
    },
    close(): void {
      pool?.close();
      pool = undefined;
    },
  };
}

/** nodemailer's TLS options: extra trusted CAs, and verification (on unless explicitly turned off). */
function tlsOptions(config: SmtpConfig): { rejectUnauthorized: boolean; ca?: string; minVersion: 'TLSv1.2' } {
  const tls: { rejectUnauthorized: boolean; ca?: string; minVersion: 'TLSv1.2' } = {
    rejectUnauthorized: config.tlsVerify,
    minVersion: 'TLSv1.2',
  };
  // Node's `ca` replaces the system store; add it to the defaults instead so public CAs keep working.
  if (config.ca !== undefined) tls.ca = [...rootCertificates, config.ca].join('\n');
  return tls;
}

/**
 * Sorts nodemailer's errors into delivery-failure kinds. TLS failures are told apart from an
 * unreachable server: a certificate that fails verification (with what to do about it), and a
 * server that does not do STARTTLS when credentials must be sent.
 */
export function classifySmtpError(error: unknown, config: SmtpConfig, hasCredentials: boolean): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const details = (error ?? {}) as {
    message?: unknown;
    code?: unknown;
    originalCode?: unknown;
    command?: unknown;
    responseCode?: unknown;
  };
  const message = typeof details.message === 'string' ? details.message : String(error);
  const certificate = tlsVerificationFailure(error);
  if (certificate !== undefined) {
    const hint = config.ca === undefined ? '; trust the server\'s CA with ca-file="…"' : '';
    return new MailDeliveryError(`TLS certificate verification failed: ${certificate}${hint}`, 'tls');
  }
  if (details.code === 'ETLS' && details.command === 'STARTTLS' && typeof details.responseCode === 'number') {
    const why = hasCredentials ? 'the password is never sent without TLS' : 'require-tls is set';
    return new MailDeliveryError(
      `the server (or something on the network) refused STARTTLS, ${why}: ${message}`,
      'tls',
      details.responseCode,
    );
  }
  if (details.code === 'ETLS') return new MailDeliveryError(`TLS failed: ${message}`, 'tls');
  return classifyDeliveryError(error);
}
