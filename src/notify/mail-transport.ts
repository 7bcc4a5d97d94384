/**
 * What the outbox drain needs from a mail transport, and how a delivery failure is classified.
 * Kept apart from nodemailer so the drain can be tested and reasoned about on its own.
 */
import { describeTlsFailure, tlsVerificationFailure } from './tls-failure.js';

/** One plain-text mail to one recipient. */
export interface OutgoingMail {
  to: string;
  subject: string;
  body: string;
  /** Local part of the Message-ID, stable across retries (see mail-threading.ts). */
  messageId?: string | null;
  /** Local parts of the Message-IDs this mail answers. */
  inReplyTo?: string[];
}

/** Delivers mails. `send` resolves only once the server has accepted the mail. */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  /** Closes pooled connections; call once when done with the transport. */
  close?(): void;
}

/**
 * - connection: the server could not be reached or talked to (refused, timeout, TLS, greeting);
 *   not the mail's fault, so it does not use up one of the mail's attempts.
 * - temporary: the server answered 4xx; try again later.
 * - tls: TLS could not be set up: the certificate failed verification, the handshake failed, or
 *   the server (or the network, by stripping it) offered no STARTTLS while credentials must be
 *   sent. Not the mail's fault either, and retried like `connection`, but reported as what it is
 *   (a configuration or an attack), never as "unreachable".
 * - permanent: the server answered 5xx (e.g. unknown recipient); retried a few times with backoff
 *   in case it is a passing misconfiguration, then left unsent with its error.
 */
export type DeliveryFailureKind = 'connection' | 'tls' | 'temporary' | 'permanent';

/** Kinds that say nothing about the mail itself: the drain stops and retries them later without using an attempt. */
export function isServerFailure(kind: DeliveryFailureKind): boolean {
  return kind === 'connection' || kind === 'tls';
}

/** A failed delivery, with its kind and the server's reply code when there was one. */
export class MailDeliveryError extends Error {
  override readonly name = 'MailDeliveryError';
  constructor(
    message: string,
    readonly kind: DeliveryFailureKind,
    readonly responseCode?: number,
  ) {
    super(message);
  }
}

/**
 * Classifies any error thrown by a transport. A failed TLS certificate verification is its own
 * kind, `tls` (the same one the SMTP transport gives), so it is never reported as unreachable. An error with an SMTP reply code is temporary (4xx)
 * or permanent (5xx), except 421 (the server is closing the connection), which is a connection
 * problem; an error without one is a connection problem.
 */
export function classifyDeliveryError(error: unknown): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const tls = tlsVerificationFailure(error);
  if (tls !== undefined) return new MailDeliveryError(describeTlsFailure(tls), 'tls');
  const details = (error ?? {}) as { message?: unknown; responseCode?: unknown; code?: unknown };
  const message = typeof details.message === 'string' && details.message ? details.message : String(error);
  const code = typeof details.responseCode === 'number' ? details.responseCode : undefined;
  if (code === undefined || code === 421) return new MailDeliveryError(message, 'connection', code);
  if (code >= 500) return new MailDeliveryError(message, 'permanent', code);
  if (code >= 400) return new MailDeliveryError(message, 'temporary', code);
  return new MailDeliveryError(message, 'connection', code);
}
