/** Turns one `<client>` element (and its `<alert>` children) into a ClientConfig. */
import * as fs from 'node:fs';
import { AttributeReader, checkChildren } from './attribute-reader.js';
import { resolveConfigPath, type ConfigContext } from './context.js';
import type { IssueLog } from './issues.js';
import { defineSecret, errorCode, readSecret, warnIfShared } from './secrets.js';
import type { MaintenanceWindow } from './maintenance-window.js';
import { readRuleExtras, reportDuplicateRules } from './read-alert-extras.js';
import { readMaintenance } from './read-maintenance.js';
import { readWebhook } from './read-webhook.js';
import { ALERT_DEFAULTS, CLIENT_DEFAULTS } from './defaults.js';
import { ALERT_ATTRIBUTES, CLIENT_ATTRIBUTES, CLIENT_CHILDREN } from './elements.js';
import {
  ALERT_MAIL_MODES,
  ALERT_TYPES,
  EVENTS_MAIL_MODES,
  type AlertRule,
  type WebhookConfig,
  type ClientConfig,
  type HostKeyPolicy,
} from './types.js';
import {
  parseBoolean,
  parseChoice,
  parseDuration,
  parseHost,
  parseLoadLimit,
  parseMailList,
  parsePercent,
  parsePort,
} from './value-parsers.js';
import type { XmlElement } from './xml-tree.js';

const HOST_KEY_POLICIES: readonly HostKeyPolicy[] = ['strict', 'accept-new'];
const NOTIFY_MODES = ['on-change', 'every-run'] as const;

/**
 * Reads a `<client>` element. Returns undefined when it has errors (already recorded in
 * ctx.issues); validation still covers every attribute and alert so all errors are reported.
 */
export function readClient(element: XmlElement, ctx: ConfigContext): ClientConfig | undefined {
  const { issues } = ctx;
  const errorsBefore = issues.errorCount();
  const reader = new AttributeReader(element, issues, CLIENT_ATTRIBUTES);

  const ip = reader.has('ip') ? reader.parse('ip', parseHost) : missing(reader, 'ip');
  const who = `client ${ip ?? element.attributes.get('ip')?.value.trim() ?? `at line ${element.line}`}`;
  const username = reader.required('username');
  const port = reader.parse('port', parsePort, CLIENT_DEFAULTS.port);
  const name = reader.text('name') ?? ip ?? '';
  const mail = reader.parse('mail', parseMailList);
  const alertMail = reader.parse('alert-mail', (t) => parseChoice(t, ALERT_MAIL_MODES));
  const eventsMail = reader.parse('events-mail', (t) => parseChoice(t, EVENTS_MAIL_MODES));
  const timeoutSeconds = reader.parse('timeout', positiveDuration, CLIENT_DEFAULTS.timeoutSeconds);
  const hostKey = reader.parse('host-key', (t) => parseChoice(t, HOST_KEY_POLICIES), CLIENT_DEFAULTS.hostKey);
  const sudo = reader.parse('sudo', parseBoolean, CLIENT_DEFAULTS.sudo);
  const agent = reader.parse('agent', parseBoolean, CLIENT_DEFAULTS.agent);
  const keyPath = readKeyPath(reader, who, ctx);
  const password = readSecret(reader, 'password', who, ctx);
  const passphrase = readSecret(reader, 'passphrase', who, ctx);

  // An invalid agent value is already reported; do not pile a second error on it.
  const hasAuth = ['password', 'password-env', 'password-file', 'key'].some((a) => reader.has(a)) || agent !== false;
  if (!hasAuth) {
    issues.error(
      element.line,
      `${who} has no authentication; give password-file, password-env, password, key or agent="true"`,
    );
  }
  if (passphrase !== undefined && !reader.has('key')) {
    issues.warn(reader.line('passphrase'), `${who}: a passphrase is only used with key`);
  }

  const children = checkChildren(element, CLIENT_CHILDREN, issues);
  const alerts = children.filter((child) => child.name === 'alert').map((child) => readAlert(child, ctx));
  const maintenance = children
    .filter((child) => child.name === 'maintenance')
    .map((child) => readMaintenance(child, issues));
  const webhooks = children.filter((child) => child.name === 'webhook').map((child) => readWebhook(child, ctx));
  reportDuplicateRules(
    alerts.filter((rule): rule is AlertRule => rule !== undefined),
    issues,
  );
  if (issues.errorCount() > errorsBefore) return undefined;

  const client: ClientConfig = {
    name,
    ip: ip as string,
    port: port as number,
    username: username as string,
    agent: agent as boolean,
    alerts: alerts as AlertRule[],
    timeoutSeconds: timeoutSeconds as number,
    hostKey: hostKey as HostKeyPolicy,
    sudo: sudo as boolean,
    line: element.line,
  };
  if (keyPath !== undefined) client.keyPath = keyPath;
  if (mail !== undefined) client.mail = mail;
  if (alertMail !== undefined) client.alertMail = alertMail;
  if (maintenance.length > 0) client.maintenance = maintenance as MaintenanceWindow[];
  if (webhooks.length > 0) client.webhooks = webhooks as WebhookConfig[];
  if (eventsMail !== undefined) client.eventsMail = eventsMail;
  defineSecret(client, 'password', password);
  defineSecret(client, 'passphrase', passphrase);
  return client;
}

function missing(reader: AttributeReader, name: string): undefined {
  reader.required(name);
  return undefined;
}

function positiveDuration(text: string): ReturnType<typeof parseDuration> {
  const parsed = parseDuration(text);
  return parsed.ok && parsed.value <= 0 ? { ok: false, reason: 'must be longer than 0' } : parsed;
}

/** The private key path, resolved and checked readable; warns when others can read it. */
function readKeyPath(reader: AttributeReader, who: string, ctx: ConfigContext): string | undefined {
  const given = reader.text('key');
  if (given === undefined) return undefined;
  const file = resolveConfigPath(ctx, given);
  const line = reader.line('key');
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    ctx.issues.error(line, `${who}: key file ${file} is not readable (${errorCode(err)})`);
    return file;
  }
  warnIfShared(file, line, `key file ${file}`, ctx);
  return file;
}

/** Reads an `<alert>`; returns undefined when invalid (errors recorded). */
function readAlert(element: XmlElement, ctx: ConfigContext): AlertRule | undefined {
  const { issues } = ctx;
  checkChildren(element, [], issues);
  const reader = new AttributeReader(element, issues, ALERT_ATTRIBUTES);
  const type = reader.has('type') ? reader.parse('type', (t) => parseChoice(t, ALERT_TYPES)) : missing(reader, 'type');
  const limit = readLimit(reader, type, issues);
  const forSeconds = reader.parse('for', parseDuration, ALERT_DEFAULTS.forSeconds);
  const repeatSeconds = reader.parse('repeat', positiveDuration, ALERT_DEFAULTS.repeatSeconds);
  const notify = reader.parse('notify', (t) => parseChoice(t, NOTIFY_MODES), ALERT_DEFAULTS.notify);
  const extras = readRuleExtras(reader, type, limit, issues);
  if (
    type === undefined ||
    limit === undefined ||
    forSeconds === undefined ||
    repeatSeconds === undefined ||
    notify === undefined ||
    extras === undefined
  ) {
    return undefined;
  }
  return { type, limit, forSeconds, repeatSeconds, notify, ...extras, line: element.line };
}

/** The numeric limit: a percent for memory/cpu/disk/swap, load per core for load, none for unreachable. */
function readLimit(reader: AttributeReader, type: AlertRule['type'] | undefined, issues: IssueLog): number | undefined {
  if (type === undefined) return undefined; // which unit applies is unknown; the type error says enough
  if (type === 'unreachable') {
    if (!reader.has('limit')) return 0;
    issues.error(reader.line('limit'), 'alert type "unreachable" takes no limit');
    return undefined;
  }
  if (!reader.has('limit')) {
    issues.error(reader.element.line, `alert type "${type}" needs a limit`);
    return undefined;
  }
  return reader.parse('limit', type === 'load' ? parseLoadLimit : parsePercent);
}
