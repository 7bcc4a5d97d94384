/**
 * The one sanitiser for untrusted text: anything a monitored host or a library put into a string
 * (disconnect reasons, banners, stderr excerpts, report fields, exception messages) passes here
 * before it reaches a terminal, a log, the database, a mail, JSON or HTML.
 *
 * What it removes, and why: C0/C1 controls and DEL (terminal escapes, CR/LF that forge log lines
 * or mail headers), Unicode line/paragraph separators, bidi embeddings, overrides and isolates
 * (U+202A–202E, U+2066–2069: text that reads differently from what it is), zero-width and other
 * invisible format characters, and unpaired surrogates (invalid UTF-16 that a JSON `\ud800`
 * escape can produce; databases refuse it). Invalid UTF-8 in bytes becomes U+FFFD when decoded.
 * Every result is cut to a length, so no field can flood a line, a row or a mail.
 *
 * HTML escaping, JSON encoding and SQL parameters are still the sinks' jobs: this makes text
 * printable, not safe to paste into markup or code.
 */
import { inspect } from 'node:util';

/** Default cap of a one-line text, in characters (code points). */
export const MAX_LINE_CHARS = 1000;

const ELLIPSIS = '…';

// Invisible or line-breaking characters besides the C0/C1 controls: ALM, zero-width and
// direction marks, line/paragraph separators, bidi embeddings/overrides, word joiner,
// invisible operators, bidi isolates and deprecated format characters, BOM, annotations.
const FORMAT = '\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb';
// Runs of anything unsafe on one line (tab, CR and LF included).
const UNSAFE_IN_LINE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${FORMAT}]+`, 'g');
// In a block, \n and \t stay; CR has already become \n.
const UNSAFE_IN_BLOCK = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${FORMAT}]`, 'g');
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text from anything: bytes are decoded as UTF-8 (invalid sequences become U+FFFD). */
function asText(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : Buffer.isBuffer(value)
        ? value.toString('utf8')
        : value instanceof Error
          ? value.message
          : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
            ? String(value)
            : // Anything else is shown, not stringified as "[object Object]" (inspect never runs a toString).
              value === null || value === undefined
              ? ''
              : inspect(value, { depth: 2, breakLength: Infinity });
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/** Cuts `text` to at most `max` characters (code points), marking the cut with an ellipsis. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
}

/**
 * One printable line for a message, a log line, a header or a table cell: every run of unsafe
 * characters (line breaks and tabs included) becomes a space, runs of spaces collapse, the ends
 * are trimmed, and the result is at most `max` characters.
 */
export function oneLine(value: unknown, max = MAX_LINE_CHARS): string {
  return truncateText(asText(value).replace(UNSAFE_IN_LINE, ' ').replace(/ {2,}/g, ' ').trim(), max);
}

/**
 * A printable single-line value that is data (a mount point, a user name): like oneLine, but
 * spaces the host sent are kept as they are (no trim), so distinct values stay distinct.
 */
export function fieldText(value: unknown, max: number): string {
  return truncateText(asText(value).replace(UNSAFE_IN_LINE, ' '), max);
}

export interface BlockLimits {
  /** Longest line, in characters. */
  maxLineChars: number;
  /** Longest whole text, in characters. */
  maxChars: number;
}

/**
 * Printable multi-line text (an event message, a mail body): CR LF and CR become \n, \n and \t
 * stay, other unsafe characters are removed, each line and the whole are cut to their limits.
 */
export function textBlock(value: unknown, limits: BlockLimits): string {
  const joined = asText(value)
    .replace(/\r\n?/g, '\n')
    .replace(UNSAFE_IN_BLOCK, '')
    .split('\n')
    .map((line) => truncateText(line, limits.maxLineChars))
    .join('\n');
  if (joined.length <= limits.maxChars) return joined;
  return truncateText(joined, limits.maxChars - 40) + '\n[truncated]';
}
