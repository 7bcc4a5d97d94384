/**
 * The SMTP transport for the outbox drain, on nodemailer: one pooled connection reused for all
 * mails of a drain, short timeouts so a dead or stalling server cannot hold up a round, and
 * STARTTLS whenever the server offers it.
 */
import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config/types.js';
import { sanitizeSubject } from './mail-text.js';
import { threadingFields } from './mail-threading.js';
import { MailDeliveryError, classifyDeliveryError, type MailTransport, type OutgoingMail } from './mail-transport.js';

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
 * when offered, and required when `requireTls` is set. Without credentials, a failing STARTTLS
 * upgrade falls back to plain text (opportunistic); with credentials it fails rather than send
 * the password in the clear. Call `close()` when done.
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
      requireTLS: config.requireTls,
      opportunisticTLS: !config.requireTls && !hasCredentials,
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
          reject(new MailDeliveryError(`no answer from ${config.host}:${config.port} within ${deliveryTimeoutMs} ms`, 'connection'));
        }, deliveryTimeoutMs);
      });
      try {
        await Promise.race([delivery, deadline]);
      } catch (error) {
        const failure = classifyDeliveryError(error);
        if (failure.kind === 'connection') dropPool();
        throw new MailDeliveryError(`SMTP ${config.host}:${config.port}: ${failure.message}`, failure.kind, failure.responseCode);
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
