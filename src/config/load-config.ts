/**
 * Loading a config file: parse, validate everything, and either return a Config or throw a
 * ConfigError listing every problem as `file:line: message`.
 */
import { readFile } from 'node:fs/promises';
import { checkChildren } from './attribute-reader.js';
import { makeContext, type ConfigContext, type ContextOptions } from './context.js';
import { deepFreeze } from './deep-freeze.js';
import { TOP_LEVEL_ELEMENTS } from './elements.js';
import { ConfigError, IssueLog, type ConfigIssue } from './issues.js';
import { readSettings, readSmtp } from './read-settings.js';
import { errorCode, warnIfShared } from './secrets.js';
import type { Config } from './types.js';
import { readXmlTree, type XmlElement } from './xml-tree.js';
import { readWeb } from './read-web.js';
import { spliceIncludes } from './include-files.js';
import { readFleet } from './read-fleet.js';
import { countLines, SourceMap } from './source-map.js';
import { acceptTypographicDelimiters } from './typographic-delimiters.js';
import * as path from 'node:path';

export interface ConfigOptions extends ContextOptions {
  /** loadConfig/parseConfig call this for each warning of a config that loads (errors throw). */
  onWarning?: (issue: ConfigIssue) => void;
}

export interface ConfigCheck {
  /** Present when there are no errors (warnings allowed); deep-frozen. */
  config?: Config;
  /** Errors and warnings, in line order. */
  issues: ConfigIssue[];
}

/**
 * Validates config XML text without throwing. `fileName` is used in messages and to resolve
 * relative paths; secrets named by password-file / password-env are read.
 */
export function analyzeConfig(xmlText: string, fileName: string, opts: ConfigOptions = {}): ConfigCheck {
  const issues = new IssueLog(fileName);
  const ctx = makeContext(fileName, issues, opts);
  const sources = new SourceMap(fileName, countLines(xmlText));
  const root = readXmlTree(acceptTypographicDelimiters(xmlText, issues), issues);
  const fileIssues: ConfigIssue[] = [];
  const config = root ? readRoot(root, fileName, ctx, sources, fileIssues) : undefined;
  const all = [...sources.relocate(issues.sorted()), ...fileIssues];
  const clean = issues.errorCount() === 0 && !fileIssues.some((issue) => issue.severity === 'error');
  // Frozen: serve hands one config to the scheduler, the web server and the reloader at once.
  return clean && config ? { config: deepFreeze(config), issues: all } : { issues: all };
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
    return {
      issues: [{ file: path, line: 0, message: `cannot read config file (${errorCode(err)})`, severity: 'error' }],
    };
  }
  const result = analyzeConfig(text, path, opts);
  const modeIssues = new IssueLog(path);
  warnIfShared(path, 0, 'config file', makeContext(path, modeIssues, opts));
  return { ...result, issues: [...modeIssues.issues, ...result.issues] };
}

function readRoot(
  given: XmlElement,
  fileName: string,
  ctx: ConfigContext,
  sources: SourceMap,
  fileIssues: ConfigIssue[],
): Config | undefined {
  const { issues } = ctx;
  const root = acceptLoneClient(given, ctx);
  if (root.name !== 'clients') {
    issues.error(root.line, `root element is <${root.name}>; expected <clients>`);
    return undefined;
  }
  if (root.attributes.size > 0) {
    const [name, attr] = [...root.attributes][0] ?? [];
    issues.error(attr?.line ?? root.line, `unknown attribute "${name}" on <clients>; <clients> takes no attributes`);
  }
  const topLevel = checkChildren(root, TOP_LEVEL_ELEMENTS, issues);
  const mainFile = path.resolve(fileName);
  const children = spliceIncludes(
    topLevel,
    mainFile,
    ctx.baseDir,
    ctx,
    sources,
    { prepare: acceptTypographicDelimiters },
    fileIssues,
    fileName,
  );
  const settingsEl = single(children, 'settings', ctx);
  const databaseEl = single(children, 'database', ctx);
  const smtpEl = single(children, 'smtp', ctx);
  const settings = readSettings(settingsEl, databaseEl, ctx);
  const smtp = readSmtp(smtpEl, ctx);
  const web = readWeb(single(children, 'web', ctx), ctx);

  const clients = readFleet(children, single(children, 'defaults', ctx), ctx, sources);
  if (!children.some((child) => child.name === 'client' || child.name === 'group'))
    issues.warn(root.line, 'no <client> elements; nothing will be collected');
  if (!smtpEl && clients.some((c) => c.mail !== undefined || c.alerts.length > 0)) {
    issues.warn(root.line, 'clients have mail or alerts but there is no <smtp>; no mail will be sent');
  }

  const config: Config = { path: fileName, settings, web, clients, secretFiles: [...new Set(ctx.secretFiles)] };
  if (smtp) config.smtp = smtp;
  if (ctx.sourceFiles.length > 0) config.sourceFiles = [...new Set(ctx.sourceFiles)];
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
 * The original assignment's example is a lone `<client>` as the root: read it as if it were
 * wrapped in `<clients>`, with a warning saying so.
 */
function acceptLoneClient(root: XmlElement, ctx: ConfigContext): XmlElement {
  if (root.name !== 'client') return root;
  ctx.issues.warn(
    root.line,
    'root element is a lone <client>; read as <clients><client …/></clients> (standard form: wrap it in <clients>; `fleetstat config check --fix` does)',
  );
  return { name: 'clients', line: root.line, attributes: new Map(), children: [root] };
}
