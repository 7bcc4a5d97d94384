/**
 * Resolving secrets (password, passphrase) from the XML, an environment variable or a file, and
 * keeping them out of JSON.stringify, util.inspect and messages. A secret is stored as a
 * non-enumerable getter: `client.password` reads as a plain string, but enumeration, JSON and
 * inspect (even with showHidden, which shows only `[Getter]`) never reveal it.
 */
import * as fs from 'node:fs';
import type { AttributeReader } from './attribute-reader.js';
import { resolveConfigPath, type ConfigContext } from './context.js';

/** Defines `key` on `target` as a hidden, read-only property holding `value` (if defined). */
export function defineSecret<T extends object>(target: T, key: keyof T & string, value: string | undefined): void {
  if (value === undefined) return;
  Object.defineProperty(target, key, { get: () => value, enumerable: false, configurable: false });
}

/**
 * Reads a secret given by `<name>`, `<name>-env` or `<name>-file` on the element (at most one).
 * `who` names the owner in messages, e.g. "client 10.0.0.5"; the value itself is never printed.
 */
export function readSecret(reader: AttributeReader, name: string, who: string, ctx: ConfigContext): string | undefined {
  const { issues } = ctx;
  const sources = [name, `${name}-env`, `${name}-file`].filter((source) => reader.has(source));
  if (sources.length > 1) {
    issues.error(reader.line(sources[1] ?? name), `${who}: use only one of ${sources.join(', ')}`);
    return undefined;
  }
  if (reader.has(name)) {
    const attr = reader.element.attributes.get(name);
    if (!attr || attr.value === '') {
      issues.error(reader.line(name), `${who}: ${name} is empty`);
      return undefined;
    }
    issues.warn(attr.line, `plaintext ${name} for ${who}; prefer ${name}-file or ${name}-env`);
    return attr.value;
  }
  if (reader.has(`${name}-env`)) return readFromEnv(reader, `${name}-env`, who, ctx);
  if (reader.has(`${name}-file`)) return readFromFile(reader, `${name}-file`, who, ctx);
  return undefined;
}

function readFromEnv(reader: AttributeReader, attribute: string, who: string, ctx: ConfigContext): string | undefined {
  const variable = reader.text(attribute);
  if (variable === undefined) return undefined;
  const value = ctx.env[variable];
  if (value === undefined || value === '') {
    ctx.issues.error(reader.line(attribute), `${who}: environment variable ${variable} (${attribute}) is not set`);
    return undefined;
  }
  return value;
}

function readFromFile(reader: AttributeReader, attribute: string, who: string, ctx: ConfigContext): string | undefined {
  const given = reader.text(attribute);
  if (given === undefined) return undefined;
  const file = resolveConfigPath(ctx, given);
  const line = reader.line(attribute);
  const read = readCached(file, ctx);
  if ('code' in read) {
    ctx.issues.error(line, `${who}: ${attribute} ${file} is not readable (${read.code})`);
    return undefined;
  }
  const content = read.text;
  ctx.secretFiles.push(file);
  warnIfShared(file, line, `${attribute} ${file}`, ctx, read.mode);
  // Editors add a final newline; it is never part of the secret.
  const value = content.replace(/\r?\n$/, '');
  if (value === '') {
    ctx.issues.error(line, `${who}: ${attribute} ${file} is empty`);
    return undefined;
  }
  return value;
}

/**
 * Warns when a file holding secrets is readable by group or others. `what` names the file in
 * the message; `line` 0 means the whole config file.
 */
export function warnIfShared(file: string, line: number, what: string, ctx: ConfigContext, knownMode?: number): void {
  if (!ctx.checkModes) return;
  let mode: number;
  try {
    mode = knownMode ?? fs.statSync(file).mode;
  } catch {
    return; // unreadable files are reported where they are read
  }
  if ((mode & 0o077) === 0) return;
  const octal = (mode & 0o777).toString(8).padStart(4, '0');
  ctx.issues.warn(line, `${what} is readable by group or others (mode ${octal}); chmod 600 it`);
}

/** A file's text and mode, read once per load (see ConfigContext.fileCache). */
function readCached(file: string, ctx: ConfigContext): { text: string; mode: number } | { code: string } {
  let entry = ctx.fileCache.get(file);
  if (!entry) {
    try {
      entry = { text: fs.readFileSync(file, 'utf8'), mode: fs.statSync(file).mode };
    } catch (err) {
      entry = { code: errorCode(err) };
    }
    ctx.fileCache.set(file, entry);
  }
  return entry;
}

/** The errno code of a file-system error (ENOENT, EACCES, …), never its full message. */
export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unreadable';
}
