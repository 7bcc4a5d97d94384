/**
 * Delivers webhook notices: a JSON POST to the row's URL with a bounded time, the shared secret
 * in a header and an HMAC-SHA256 signature of the body when a secret is configured. Every
 * failure is classified per receiver: a receiver that is down, slow or answering 5xx/408/429 is
 * retried with backoff (temporary); any other answer is permanent. One receiver's outage never
 * holds back the others (unlike SMTP, there is no one server to wait for).
 */
import { createHmac } from 'node:crypto';
import type { WebhookConfig } from '../config/types.js';
import { MailDeliveryError, type MailTransport, type OutgoingMail } from './mail-transport.js';
import { describeTlsFailure, tlsVerificationFailure } from './tls-failure.js';

export interface WebhookTransportOptions {
  /** Whole-request limit. Default 10 s. */
  timeoutMs?: number;
}

/** The signature header value: `sha256=` and the hex HMAC-SHA256 of the exact body with the secret. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A transport for outbox rows of channel `webhook`; `webhooks` supplies each URL's secret. */
export function webhookTransport(
  webhooks: readonly WebhookConfig[],
  options: WebhookTransportOptions = {},
): MailTransport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const byUrl = new Map<string, WebhookConfig>();
  for (const webhook of webhooks) if (!byUrl.has(webhook.url)) byUrl.set(webhook.url, webhook);

  return {
    async send(notice: OutgoingMail): Promise<void> {
      const webhook = byUrl.get(notice.to);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'fleetstat' };
      if (notice.messageId) headers['x-fleetstat-delivery'] = notice.messageId;
      if (webhook?.secret !== undefined) {
        headers[webhook.secretHeader.toLowerCase()] = webhook.secret;
        headers['x-fleetstat-signature'] = webhookSignature(webhook.secret, notice.body);
      }
      let response: Response;
      try {
        response = await fetch(notice.to, {
          method: 'POST',
          headers,
          body: notice.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        const tls = tlsVerificationFailure(error);
        const reason =
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : tls !== undefined
              ? describeTlsFailure(tls)
              : `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
        throw new MailDeliveryError(`POST ${redact(notice.to)}: ${reason}`, 'temporary');
      }
      await response.body?.cancel().catch(() => undefined); // the answer's body is not needed; free the socket
      if (response.ok) return;
      const code = response.status;
      const kind = code >= 500 || code === 408 || code === 429 ? 'temporary' : 'permanent';
      throw new MailDeliveryError(
        `POST ${redact(notice.to)}: HTTP ${code}${code >= 300 && code < 400 ? ' (redirects are not followed)' : ''}`,
        kind,
        code,
      );
    },
  };
}

/** A URL for messages: scheme, host and port only (paths of chat webhooks are secrets). */
function redact(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}/…`;
}
