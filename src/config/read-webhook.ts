/**
 * Reads `<webhook url="https://…" format="slack" secret-env="HOOK_SECRET"/>` inside a
 * `<client>`: a channel that receives the client's alert notices as JSON POSTs.
 */
import { AttributeReader, checkChildren } from './attribute-reader.js';
import type { ConfigContext } from './context.js';
import { defineSecret, readSecret } from './secrets.js';
import { WEBHOOK_DEFAULTS } from './defaults.js';
import { WEBHOOK_ATTRIBUTES } from './elements.js';
import { WEBHOOK_FORMATS, type WebhookConfig } from './types.js';
import { parseChoice, type Parsed } from './value-parsers.js';
import type { XmlElement } from './xml-tree.js';

/** Reads one `<webhook>`; undefined when invalid (errors recorded at their lines). */
export function readWebhook(element: XmlElement, ctx: ConfigContext): WebhookConfig | undefined {
  const { issues } = ctx;
  const errorsBefore = issues.errorCount();
  checkChildren(element, [], issues);
  const reader = new AttributeReader(element, issues, WEBHOOK_ATTRIBUTES);
  const url = reader.has('url') ? reader.parse('url', parseWebhookUrl) : (reader.required('url'), undefined);
  const format = reader.parse('format', (t) => parseChoice(t, WEBHOOK_FORMATS), WEBHOOK_DEFAULTS.format);
  const secretHeader = reader.parse('secret-header', parseHeaderName, WEBHOOK_DEFAULTS.secretHeader);
  const secret = readSecret(reader, 'secret', `webhook ${url ?? `at line ${element.line}`}`, ctx);
  if (url === undefined || format === undefined || secretHeader === undefined || issues.errorCount() > errorsBefore)
    return undefined;
  const webhook: WebhookConfig = { url, format, secretHeader, line: element.line };
  defineSecret(webhook, 'secret', secret);
  return webhook;
}

function parseWebhookUrl(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'is not a URL (like https://hooks.example.com/T000/B000)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: 'must start with http:// or https://' };
  if (url.username || url.password)
    return { ok: false, reason: 'must not carry credentials; use secret-file or secret-env' };
  return { ok: true, value: url.toString() };
}

function parseHeaderName(text: string): Parsed<string> {
  return /^[A-Za-z0-9-]{1,64}$/.test(text)
    ? { ok: true, value: text }
    : { ok: false, reason: 'is not an HTTP header name (letters, digits, hyphens)' };
}
