/** Reads `<settings>`, `<database>` and `<smtp>`: the server-wide part of the config. */
import * as fs from 'node:fs';
import { AttributeReader, checkChildren } from './attribute-reader.js';
import { resolveConfigPath, type ConfigContext } from './context.js';
import { defineSecret, errorCode, readSecret } from './secrets.js';
import { SETTINGS_DEFAULTS, SMTP_DEFAULTS } from './defaults.js';
import { DATABASE_ATTRIBUTES, SETTINGS_ATTRIBUTES, SMTP_ATTRIBUTES } from './elements.js';
import { ALERT_MAIL_MODES, EVENTS_MAIL_MODES, type Settings, type SmtpConfig } from './types.js';
import {
  parseBoolean,
  parseChoice,
  parseDuration,
  parseHost,
  parseInteger,
  parseMailList,
  parseMilliseconds,
  parsePercent,
  parsePort,
  type Parsed,
} from './value-parsers.js';
import type { XmlElement } from './xml-tree.js';

/**
 * Reads the optional `<settings>` and `<database>` elements (at most one of each, and the
 * database given in only one place) into Settings with every default filled in.
 */
export function readSettings(
  settingsEl: XmlElement | undefined,
  databaseEl: XmlElement | undefined,
  ctx: ConfigContext,
): Settings {
  const { issues } = ctx;
  const reader = settingsEl && new AttributeReader(settingsEl, issues, SETTINGS_ATTRIBUTES);
  if (settingsEl) checkChildren(settingsEl, [], issues);
  const d = SETTINGS_DEFAULTS;

  // databaseUrl is added below as a hidden property: the URL may carry a database password.
  const settings = {
    knownHostsPath: resolveConfigPath(ctx, reader?.text('known-hosts') ?? d.knownHosts),
    concurrency: reader?.parse('concurrency', (t) => parseInteger(t, 1, 10_000)) ?? d.concurrency,
    connectTimeoutSeconds: reader?.parse('connect-timeout', positiveDuration) ?? d.connectTimeoutSeconds,
    cpuSampleMs: reader?.parse('cpu-sample', (t) => inRange(parseMilliseconds(t), 10, 600_000, 'ms')) ?? d.cpuSampleMs,
    intervalSeconds:
      reader?.parse('interval', (t) => inRange(parseDuration(t), 1, 7 * 86400, 's')) ?? d.intervalSeconds,
    eventCap: reader?.parse('event-cap', (t) => parseInteger(t, 0, 5000)) ?? d.eventCap,
    spoolDir: resolveConfigPath(ctx, reader?.text('spool-dir') ?? d.spoolDir),
    storeTimeoutSeconds:
      reader?.parse('store-timeout', (t) => inRange(parseDuration(t), 0.1, 3600, 's')) ?? d.storeTimeoutSeconds,
    alertMail: reader?.parse('alert-mail', (t) => parseChoice(t, ALERT_MAIL_MODES)) ?? d.alertMail,
    eventsMail: reader?.parse('events-mail', (t) => parseChoice(t, EVENTS_MAIL_MODES)) ?? d.eventsMail,
    inhibitShare: reader?.parse('inhibit-share', parsePercent) ?? d.inhibitShare,
    inhibitMinHosts: reader?.parse('inhibit-min-hosts', (t) => parseInteger(t, 1, 1_000_000)) ?? d.inhibitMinHosts,
  } as Settings;
  const retention = reader?.has('retention') ? reader.parse('retention', parseRetention) : d.retentionSeconds;
  if (typeof retention === 'number') settings.retentionSeconds = retention;
  defineSecret(settings, 'databaseUrl', readDatabaseUrl(reader, databaseEl, ctx));
  return settings;
}

function readDatabaseUrl(
  settings: AttributeReader | undefined,
  databaseEl: XmlElement | undefined,
  ctx: ConfigContext,
): string {
  const { issues } = ctx;
  let raw: string | undefined;
  let line = 0;
  let fromEnv = false;
  if (databaseEl) {
    checkChildren(databaseEl, [], issues);
    const reader = new AttributeReader(databaseEl, issues, DATABASE_ATTRIBUTES);
    if (settings?.has('database')) {
      issues.error(
        databaseEl.line,
        `database given twice: in <settings database> (line ${settings.line('database')}) and <database>`,
      );
    }
    if (reader.has('url') && reader.has('url-env'))
      issues.error(databaseEl.line, 'database: use only one of url, url-env');
    else if (reader.has('url-env')) {
      const variable = reader.text('url-env');
      raw = variable === undefined ? undefined : ctx.env[variable];
      if (variable !== undefined && !raw)
        issues.error(reader.line('url-env'), `database: environment variable ${variable} (url-env) is not set`);
      fromEnv = true;
      line = reader.line('url-env');
    } else if (reader.has('url')) {
      raw = reader.text('url');
      line = reader.line('url');
    } else issues.error(databaseEl.line, 'database is missing url');
  } else if (settings?.has('database')) {
    raw = settings.text('database');
    line = settings.line('database');
  }
  if (raw === undefined) return resolveDatabaseUrl(SETTINGS_DEFAULTS.database, ctx) ?? '';
  return resolveDatabaseUrl(raw, ctx, line, fromEnv) ?? '';
}

/**
 * Checks a database URL and makes a relative sqlite path absolute (relative to the config
 * file's directory). Messages never echo the URL: it may hold a password.
 */
function resolveDatabaseUrl(url: string, ctx: ConfigContext, line = 0, fromEnv = false): string | undefined {
  if (url.startsWith('sqlite:')) {
    let file = url.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') {
      ctx.issues.error(line, 'database URL sqlite: needs a file name, like sqlite:fleetstat.sqlite');
      return undefined;
    }
    return file === ':memory:' ? url : `sqlite:${resolveConfigPath(ctx, file)}`;
  }
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme || !['postgres', 'postgresql', 'mysql', 'mariadb'].includes(scheme)) {
    ctx.issues.error(line, 'database URL must start with sqlite:, postgres://, postgresql://, mysql:// or mariadb://');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    ctx.issues.error(line, `database URL (${scheme}://…) is not a valid URL`);
    return undefined;
  }
  if (parsed.password && !fromEnv) {
    ctx.issues.warn(line, 'plaintext database password in the config; prefer <database url-env="VAR"/>');
  }
  return url;
}

/** Reads the optional `<smtp>` element; undefined when absent or invalid (errors recorded). */
export function readSmtp(element: XmlElement | undefined, ctx: ConfigContext): SmtpConfig | undefined {
  if (!element) return undefined;
  const { issues } = ctx;
  const errorsBefore = issues.errorCount();
  checkChildren(element, [], issues);
  const reader = new AttributeReader(element, issues, SMTP_ATTRIBUTES);
  const host = reader.has('host') ? reader.parse('host', parseHost) : reader.required('host');
  const secure = reader.parse('secure', parseBoolean, SMTP_DEFAULTS.secure);
  const port = reader.parse('port', parsePort, secure ? SMTP_DEFAULTS.securePort : SMTP_DEFAULTS.port);
  const requireTls = reader.parse('require-tls', parseBoolean, SMTP_DEFAULTS.requireTls);
  const tlsVerify = reader.parse('tls-verify', parseBoolean, SMTP_DEFAULTS.tlsVerify);
  const ca = readCaFile(reader, ctx);
  const user = reader.text('user');
  const password = readSecret(reader, 'password', 'smtp', ctx);
  const from = reader.has('from') ? reader.parse('from', parseMailList) : reader.required('from');
  if (password !== undefined && user === undefined) issues.error(element.line, 'smtp has a password but no user');
  if (tlsVerify === false && reader.has('ca-file')) {
    issues.error(
      reader.line('tls-verify'),
      'smtp: give ca-file (verify against it) or tls-verify="false" (verify nothing), not both',
    );
  } else if (tlsVerify === false) {
    issues.warn(
      reader.line('tls-verify'),
      'smtp tls-verify="false": the server\'s certificate is not checked, so anyone on the network path can read the mail and the SMTP password; prefer ca-file',
    );
  }
  if (issues.errorCount() > errorsBefore) return undefined;

  const smtp: SmtpConfig = {
    host: host as string,
    port: port as number,
    secure: secure as boolean,
    requireTls: requireTls as boolean,
    tlsVerify: tlsVerify as boolean,
    from: from as string,
  };
  if (ca !== undefined) smtp.ca = ca;
  if (user !== undefined) smtp.user = user;
  defineSecret(smtp, 'password', password);
  return smtp;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const MAX_CA_FILE_BYTES = 1024 * 1024;

/** Reads `ca-file`: PEM certificates to trust for the SMTP server (a private CA or the server's own self-signed one). */
function readCaFile(reader: AttributeReader, ctx: ConfigContext): string | undefined {
  const given = reader.text('ca-file');
  if (given === undefined) return undefined;
  const file = resolveConfigPath(ctx, given);
  const line = reader.line('ca-file');
  let content: string;
  try {
    if (fs.statSync(file).size > MAX_CA_FILE_BYTES) {
      ctx.issues.error(line, `smtp ca-file ${file} is larger than 1 MiB; is it a certificate file?`);
      return undefined;
    }
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    ctx.issues.error(line, `smtp ca-file ${file} is not readable (${errorCode(err)})`);
    return undefined;
  }
  if (!PEM_CERTIFICATE.test(content)) {
    ctx.issues.error(line, `smtp ca-file ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return undefined;
  }
  return content;
}

/** `off` keeps everything (null); otherwise a duration of at least an hour. */
function parseRetention(text: string): Parsed<number | null> {
  if (text === 'off') return { ok: true, value: null };
  const parsed = inRange(parseDuration(text), 3600, 100 * 365 * 86400, 's');
  return parsed.ok ? parsed : { ok: false, reason: `${parsed.reason} (or "off" to keep everything)` };
}

function positiveDuration(text: string): Parsed<number> {
  return inRange(parseDuration(text), Number.MIN_VALUE, Infinity, 's');
}

function inRange(parsed: Parsed<number>, min: number, max: number, unit: string): Parsed<number> {
  if (!parsed.ok) return parsed;
  if (parsed.value < min)
    return { ok: false, reason: min === Number.MIN_VALUE ? 'must be longer than 0' : `is under ${min} ${unit}` };
  if (parsed.value > max) return { ok: false, reason: `is over ${max} ${unit}` };
  return parsed;
}
