/**
 * The body of a webhook notice. `json` follows Alertmanager's webhook payload (version 4), which
 * many receivers already accept, plus a `fleetstat` object; `slack` and `mattermost` are their
 * incoming-webhook `{"text": …}` messages; `teams` is a Microsoft Teams MessageCard. Host-provided
 * text is sanitised, and escaped for the receivers that read markup.
 */
import type { AlertSeverity, WebhookFormat } from '../config/types.js';
import { oneLine } from '../text/untrusted-text.js';
import { sanitizeBody } from './mail-text.js';

/** One alert notice for webhooks. */
export interface WebhookNotice {
  transition: 'firing' | 'reminder' | 'resolved';
  host: { id: number; name: string; ip: string };
  rule: { key: string; type: string; severity: AlertSeverity; mount?: string };
  value: number | null;
  limit: number;
  /** One line: `FIRING [critical]: memory 97.0% > 95% on web1 (10.0.0.1)`. */
  headline: string;
  /** The full text, as in the mail. */
  text: string;
  /** When the alert started firing. */
  startsAt: Date;
  at: Date;
  /** Stable id of the alert episode (the mail thread id). */
  fingerprint: string;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
const TEAMS_COLOURS: Record<AlertSeverity, string> = { critical: 'D13438', warning: 'F2C744', info: '2F80ED' };

/** Renders the JSON body of `notice` in `format`. */
export function renderWebhookPayload(format: WebhookFormat, notice: WebhookNotice): string {
  const headline = oneLine(notice.headline, 300);
  const text = sanitizeBody(notice.text);
  switch (format) {
    case 'json':
      return JSON.stringify(alertmanagerPayload(notice, headline, text));
    case 'slack':
    case 'mattermost':
      return JSON.stringify({ text: `*${escapeMarkup(headline)}*\n${escapeMarkup(text)}` });
    case 'teams':
      return JSON.stringify({
        '@type': 'MessageCard',
        '@context': 'https://schema.org/extensions',
        summary: headline,
        themeColor: notice.transition === 'resolved' ? '2EB886' : TEAMS_COLOURS[notice.rule.severity],
        title: escapeMarkup(headline),
        text: escapeMarkup(text).replace(/\n/g, '  \n'),
      });
  }
}

function alertmanagerPayload(notice: WebhookNotice, headline: string, text: string): object {
  const status = notice.transition === 'resolved' ? 'resolved' : 'firing';
  const labels: Record<string, string> = {
    alertname: notice.rule.type,
    rule: notice.rule.key,
    severity: notice.rule.severity,
    host: oneLine(notice.host.name, 200),
    ip: oneLine(notice.host.ip, 64),
  };
  if (notice.rule.mount !== undefined) labels.mount = oneLine(notice.rule.mount, 200);
  const annotations = { summary: headline, description: text };
  return {
    version: '4',
    groupKey: `fleetstat:${notice.host.id}:${notice.rule.key}`,
    truncatedAlerts: 0,
    status,
    receiver: 'fleetstat',
    groupLabels: { host: labels.host, rule: labels.rule },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: '',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: notice.startsAt.toISOString(),
        endsAt: status === 'resolved' ? notice.at.toISOString() : ZERO_TIME,
        generatorURL: '',
        fingerprint: notice.fingerprint,
      },
    ],
    fleetstat: {
      transition: notice.transition,
      host_id: notice.host.id,
      value: notice.value,
      limit: notice.limit,
      at: notice.at.toISOString(),
    },
  };
}

/** Slack, Mattermost and Teams read `&`, `<` and `>` as markup: escape them (Slack's own rule). */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
