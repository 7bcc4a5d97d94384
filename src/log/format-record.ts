/**
 * Renders one pino record as a line a person reads on a terminal:
 * `2026-01-02T03:04:05.678Z INFO  scheduler: round 3: 2 ok, 0 failed [req=…] key=value`.
 * Control characters are shown escaped and continuation lines are indented, so nothing in a
 * message (a target's error text, a request path) can forge a record or drive the terminal.
 */
import { textBlock } from '../text/untrusted-text.js';

const SHOWN_FIRST = new Set(['time', 'level', 'component', 'msg', 'reqId', 'err']);

/** One readable line (plus indented continuation lines) for `record`, ending in a newline. */
export function formatRecord(record: Record<string, unknown>): string {
  const level = scalar(record.level ?? 'info')
    .toUpperCase()
    .padEnd(5);
  const msg = scalar(record.msg ?? '');
  // A message that already names its component ("mail: …") is not prefixed a second time.
  const component =
    typeof record.component === 'string' && !msg.startsWith(`${record.component}: `) ? `${record.component}: ` : '';
  let line = `${scalar(record.time ?? '')} ${level} ${component}${printable(msg)}`;
  if (record.reqId !== undefined) line += ` [req ${printable(scalar(record.reqId))}]`;
  for (const [key, value] of Object.entries(record)) {
    if (SHOWN_FIRST.has(key) || value === undefined) continue;
    line += ` ${key}=${printable(typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value))}`;
  }
  const err = record.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err) line += `\n${printable(err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`)}`;
  return `${line.replace(/\n/g, '\n    ')}\n`;
}

const LOG_TEXT_LIMITS = { maxLineChars: 4000, maxChars: 16_000 };

/** The one sanitiser's multi-line form; newlines stay for indenting. */
function printable(text: string): string {
  return textBlock(text, LOG_TEXT_LIMITS);
}

/** A field's text: strings, numbers and booleans as themselves, anything else as JSON (never "[object Object]"). */
function scalar(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}
