/**
 * Loading a config file: parse, validate everything, and either return a Config or throw a
 * ConfigError listing every problem as `file:line: message`.
 */
import { readFile } from 'node:fs/promises';
import { checkChildren } from './attribute-reader.js';
import { makeContext, type ConfigContext, type ContextOptions } from './context.js';
import { ConfigError, IssueLog, type ConfigIssue } from './issues.js';
import { readClient } from './read-client.js';
import { readSettings, readSmtp } from './read-settings.js';
import { errorCode, warnIfShared } from './secrets.js';
import type { ClientConfig, Config } from './types.js';
import { parsePort } from './value-parsers.js';
import { readXmlTree, type XmlElement } from './xml-tree.js';
import { readWeb } from './read-web.js';

export interface ConfigOptions extends ContextOptions {
  /** loadConfig/parseConfig call this for each warning of a config that loads (errors throw). */
  onWarning?: (issue: ConfigIssue) => void;
}

export interface ConfigCheck {
  /** Present when there are no errors (warnings allowed). */
  config?: Config;
  /** Errors and warnings, in line order. */
  issues: ConfigIssue[];
}

const TOP_LEVEL = ['settings', 'database', 'smtp', 'web', 'client'];

/**
 * Validates config XML text without throwing. `fileName` is used in messages and to resolve
 * relative paths; secrets named by password-file / password-env are read.
 */
export function analyzeConfig(xmlText: string, fileName: string, opts: ConfigOptions = {}): ConfigCheck {
  const issues = new IssueLog(fileName);
  const ctx = makeContext(fileName, issues, opts);
  const root = readXmlTree(xmlText, issues);
  const config = root ? readRoot(root, fileName, ctx) : undefined;
  return issues.errorCount() === 0 && config ? { config, issues: issues.sorted() } : { issues: issues.sorted() };
}

/** Parses and validates config XML text; throws ConfigError listing all errors. */
export function parseConfig(xmlText: string, fileName: string, opts: ConfigOptions = {}): Config {
  return configOrThrow(analyzeConfig(xmlText, fileName, opts), opts);
}

/** Reads, parses and validates the config file at `path`; throws ConfigError on any error. */
export async function loadConfig(path: string, opts: ConfigOptions = {}): Promise<Config> {
  return configOrThrow(await checkConfig(path, opts), opts);
}

function configOrThrow({ config, issues }: ConfigCheck, opts: ConfigOptions): Config {
  if (!config) throw new ConfigError(issues);
  for (const issue of issues) opts.onWarning?.(issue);
  return config;
}

/**
 * For `fleetstat config check`: everything loadConfig checks, plus the config file's own mode
 * bits, returned as a list of issues (warnings included) instead of thrown.
 */
export async function checkConfig(path: string, opts: ConfigOptions = {}): Promise<ConfigCheck> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { issues: [{ file: path, line: 0, message: `cannot read config file (${errorCode(err)})`, severity: 'error' }] };
  }
  const result = analyzeConfig(text, path, opts);
  const modeIssues = new IssueLog(path);
  warnIfShared(path, 0, 'config file', makeContext(path, modeIssues, opts));
  return { ...result, issues: [...modeIssues.issues, ...result.issues] };
}

function readRoot(root: XmlElement, fileName: string, ctx: ConfigContext): Config | undefined {
  const { issues } = ctx;
  if (root.name !== 'clients') {
    issues.error(root.line, `root element is <${root.name}>; expected <clients>`);
    return undefined;
  }
  if (root.attributes.size > 0) {
    const [name, attr] = [...root.attributes][0] ?? [];
    issues.error(attr?.line ?? root.line, `unknown attribute "${name}" on <clients>; <clients> takes no attributes`);
  }
  const children = checkChildren(root, TOP_LEVEL, issues);
  const settingsEl = single(children, 'settings', ctx);
  const databaseEl = single(children, 'database', ctx);
  const smtpEl = single(children, 'smtp', ctx);
  const settings = readSettings(settingsEl, databaseEl, ctx);
  const smtp = readSmtp(smtpEl, ctx);
  const web = readWeb(single(children, 'web', ctx), ctx);

  const clientElements = children.filter((child) => child.name === 'client');
  if (clientElements.length === 0) issues.warn(root.line, 'no <client> elements; nothing will be collected');
  const clients = clientElements.map((el) => readClient(el, ctx)).filter((c): c is ClientConfig => c !== undefined);
  reportDuplicates(clientElements, ctx);
  if (!smtpEl && clients.some((c) => c.mail !== undefined || c.alerts.length > 0)) {
    issues.warn(root.line, 'clients have mail or alerts but there is no <smtp>; no mail will be sent');
  }

  const config: Config = { path: fileName, settings, web, clients, secretFiles: [...new Set(ctx.secretFiles)] };
  if (smtp) config.smtp = smtp;
  return config;
}

/** The one element named `name`; a second one is an error at its line. */
function single(children: XmlElement[], name: string, ctx: ConfigContext): XmlElement | undefined {
  const found = children.filter((child) => child.name === name);
  for (const extra of found.slice(1)) {
    ctx.issues.error(extra.line, `<${name}> given more than once (first at line ${found[0]?.line})`);
  }
  return found[0];
}

/**
 * Two clients with the same address and port would be collected twice; name both lines.
 * Works on the elements, so a duplicate is found even when one of the pair has other errors.
 */
function reportDuplicates(elements: XmlElement[], ctx: ConfigContext): void {
  const seen = new Map<string, number>();
  for (const element of elements) {
    const ip = element.attributes.get('ip')?.value.trim().toLowerCase();
    const port = parsePort(element.attributes.get('port')?.value ?? '22');
    if (!ip || !port.ok) continue;
    const key = `${ip}|${port.value}`;
    const firstLine = seen.get(key);
    if (firstLine === undefined) seen.set(key, element.line);
    else ctx.issues.error(element.line, `duplicate client ${ip} port ${port.value} (lines ${firstLine} and ${element.line})`);
  }
}
