/**
 * The original assignment's example writes attributes as `ip=’10.0.0.5’`: typographic quotes
 * as delimiters, as a word processor makes them. Such a file is accepted: each line with them
 * gets one warning saying what was assumed, and the text the parser sees has plain quotes.
 * Typographic quotes *inside* a value delimited by plain quotes are left alone.
 * `config check --fix` writes the same rewrite back to the file.
 */
import type { IssueLog } from './issues.js';

const TYPOGRAPHIC = new Set(['\u2018', '\u2019', '\u201C', '\u201D']);

/** The rewritten text and the 1-based lines where delimiters were replaced. */
export interface DelimiterRewrite {
  text: string;
  lines: number[];
  /** Per rewritten line: the attributes whose delimiters were replaced, and how the first non-secret one now reads. */
  details: Map<number, { names: string[]; example?: string }>;
}

/** Attributes whose values are never echoed (they may hold a secret). */
const SECRET_ATTRIBUTE = /password|passphrase|token|url|database/i;

/**
 * Replaces typographic quotes used as attribute delimiters by `"` (escaping any `"` inside the
 * value). Only attribute values inside tags are touched; comments, text, CDATA and plain-quoted
 * values are copied as they are. A closing delimiter is a typographic quote followed by
 * white space, `/`, `>` or the end, so `name=’Bob’s box’` keeps its apostrophe.
 */
export function rewriteTypographicDelimiters(text: string): DelimiterRewrite {
  let out = '';
  const details = new Map<number, { names: string[]; example?: string }>();
  let line = 1;
  let i = 0;
  let inTag = false;
  const copy = (to: number): void => {
    for (let k = i; k < to; k++) if (text.charCodeAt(k) === 10) line++;
    out += text.slice(i, to);
    i = to;
  };
  while (i < text.length) {
    if (!inTag) {
      const next = text.indexOf('<', i);
      if (next < 0) {
        copy(text.length);
        break;
      }
      copy(next);
      const skipTo = skipSpecial(text, i);
      if (skipTo !== undefined) {
        copy(skipTo);
        continue;
      }
      inTag = true;
      copy(i + 1);
      continue;
    }
    const char = text[i]!;
    if (char === '>') {
      inTag = false;
      copy(i + 1);
      continue;
    }
    if (char === '"' || char === "'") {
      const end = text.indexOf(char, i + 1);
      copy(end < 0 ? text.length : end + 1);
      continue;
    }
    const attribute = TYPOGRAPHIC.has(char) ? /([A-Za-z_][\w.:-]*)\s*=\s*$/.exec(out.slice(-80))?.[1] : undefined;
    if (attribute !== undefined) {
      const end = closingDelimiter(text, i + 1);
      if (end !== undefined) {
        const value = text.slice(i + 1, end);
        const entry = details.get(line) ?? { names: [] };
        entry.names.push(attribute);
        if (entry.example === undefined && !SECRET_ATTRIBUTE.test(attribute) && value.length <= 40)
          entry.example = `${attribute}="${value}"`;
        details.set(line, entry);
        for (const c of value) if (c === '\n') line++;
        out += `"${value.replace(/"/g, '&quot;')}"`;
        i = end + 1;
        continue;
      }
    }
    copy(i + 1);
  }
  return { text: out, lines: [...details.keys()], details };
}

/** End of a comment, CDATA section or processing instruction starting at `at`; undefined for a tag. */
function skipSpecial(text: string, at: number): number | undefined {
  for (const [open, close] of [
    ['<!--', '-->'],
    ['<![CDATA[', ']]>'],
    ['<?', '?>'],
    ['<!', '>'],
  ] as const) {
    if (!text.startsWith(open, at)) continue;
    const end = text.indexOf(close, at + open.length);
    return end < 0 ? text.length : end + close.length;
  }
  return undefined;
}

function closingDelimiter(text: string, from: number): number | undefined {
  for (let k = from; k < text.length; k++) {
    const char = text[k]!;
    if (char === '<' || char === '>') return undefined;
    if (!TYPOGRAPHIC.has(char)) continue;
    const after = text[k + 1];
    if (after === undefined || /[\s/>?]/.test(after)) return k;
  }
  return undefined;
}

/**
 * The pre-pass of loading: rewrites typographic delimiters and warns once per affected line
 * with what was assumed and how to write it in standard XML.
 */
export function acceptTypographicDelimiters(text: string, issues: IssueLog): string {
  const rewrite = rewriteTypographicDelimiters(text);
  for (const [line, { names, example }] of rewrite.details) {
    issues.warn(
      line,
      `typographic quotes used around attribute values (${names.join(', ')}); read them as plain quotes, as standard XML writes ${example ?? 'name="value"'}; \`fleetstat config check --fix\` rewrites the file`,
    );
  }
  return rewrite.text;
}
