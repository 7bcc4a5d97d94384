/**
 * Reads config XML into a small element tree with line numbers. Strict: DOCTYPE and entity
 * declarations are refused before parsing, so entities are never expanded (no billion laughs,
 * no external entities). Typographic quotes pasted from documents in place of attribute
 * delimiters are found in the raw text, because `ip=“10.0.0.1”` is not even well-formed XML and
 * the parser's own message would be unhelpful. Inside a properly quoted value they are just
 * characters (`name="Bob’s box"`, a password) and are kept.
 */
import { SaxesParser } from 'saxes';
import type { IssueLog } from './issues.js';

export interface XmlAttribute {
  value: string;
  line: number;
}

export interface XmlElement {
  name: string;
  line: number;
  attributes: Map<string, XmlAttribute>;
  children: XmlElement[];
  /** Line of the first non-blank text directly inside this element, if any. */
  textLine?: number;
}

const TYPOGRAPHIC = new Set(['\u2018', '\u2019', '\u201C', '\u201D']);
/** A misused delimiter: where it is, and the plain quote that belongs there. */
interface MisusedQuote {
  index: number;
  quote: string;
  plain: '"' | "'";
}

/**
 * Parses XML text into an element tree, recording problems in `issues`.
 * Returns undefined when the text is not usable (malformed, DOCTYPE present).
 */
export function readXmlTree(text: string, issues: IssueLog): XmlElement | undefined {
  const code = blankOutComments(text);
  const misused = findMisusedQuotes(code);
  const quoteLines = reportMisusedQuotes(misused, code, issues);
  if (reportDoctype(code, issues)) return undefined;
  // Already reported; parse with plain delimiters so the rest of the file is still validated.
  return parseElements(withPlainDelimiters(text, misused), issues, quoteLines);
}

/** Replaces comment bodies with spaces (keeping newlines) so scans ignore prose in comments. */
function blankOutComments(text: string): string {
  return text.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

/**
 * Typographic quotes used as attribute delimiters, found by walking the tags: one that opens a
 * value (`ip=“…`) and the one closing it, or one closing a plainly opened value
 * (`ip="10.0.0.1” port=…`: followed by the next attribute or the end of the tag). Quotes inside
 * plainly quoted values and in text or comments are left alone.
 */
function findMisusedQuotes(code: string): MisusedQuote[] {
  const found: MisusedQuote[] = [];
  let i = 0;
  while (i < code.length) {
    const open = code.indexOf('<', i);
    if (open < 0) break;
    i = open + 1;
    if (code[i] === '!' || code[i] === '?') continue; // comments are blanked; CDATA, PIs, DOCTYPE
    while (i < code.length && code[i] !== '>') {
      if (code[i] !== '=') {
        i++;
        continue;
      }
      i++;
      while (/\s/.test(code[i] ?? '')) i++;
      const delimiter = code[i] ?? '';
      if (delimiter === '"' || delimiter === "'") {
        i = scanPlainValue(code, i, delimiter, found);
      } else if (TYPOGRAPHIC.has(delimiter)) {
        const plain = delimiter === '\u2018' || delimiter === '\u2019' ? "'" : '"';
        found.push({ index: i, quote: delimiter, plain });
        i = scanTypographicValue(code, i + 1, plain, found);
      }
    }
  }
  return found;
}

// After a closing delimiter: the end of the tag, or the next attribute.
const AFTER_VALUE = /^(\s*\/?>|\s+[\w:.-]+\s*=)/;

/** Scans a value opened by a plain quote; returns the index after it. */
function scanPlainValue(code: string, start: number, delimiter: string, found: MisusedQuote[]): number {
  for (let j = start + 1; j < code.length; j++) {
    const c = code[j]!;
    if (c === delimiter) return j + 1;
    if (TYPOGRAPHIC.has(c) && AFTER_VALUE.test(code.slice(j + 1, j + 200))) {
      found.push({ index: j, quote: c, plain: delimiter as '"' | "'" });
      return j + 1;
    }
  }
  return code.length;
}

/** Scans a value opened by a typographic quote: it ends at one followed by the tag's end or the next attribute. */
function scanTypographicValue(code: string, start: number, plain: '"' | "'", found: MisusedQuote[]): number {
  for (let j = start; j < code.length; j++) {
    const c = code[j]!;
    if (c === '\n' || c === '>') return j; // unterminated: the parser reports the rest
    if (TYPOGRAPHIC.has(c) && AFTER_VALUE.test(code.slice(j + 1, j + 200))) {
      found.push({ index: j, quote: c, plain });
      return j + 1;
    }
  }
  return code.length;
}

/** Reports the first misused quote of each line; returns the lines reported. */
function reportMisusedQuotes(misused: MisusedQuote[], code: string, issues: IssueLog): Set<number> {
  const starts = lineStartOffsets(code);
  const lines = new Set<number>();
  for (const quote of misused) {
    const line = lineAt(starts, quote.index);
    if (lines.has(line)) continue;
    lines.add(line);
    issues.error(
      line,
      `typographic quote ${quote.quote} used as an attribute delimiter; use plain " or '`,
      quote.index - starts[line - 1]! + 1,
    );
  }
  return lines;
}

function withPlainDelimiters(text: string, misused: MisusedQuote[]): string {
  if (misused.length === 0) return text;
  const chars = text.split('');
  for (const quote of misused) chars[quote.index] = quote.plain; // the quotes are single UTF-16 units
  return chars.join('');
}

function reportDoctype(code: string, issues: IssueLog): boolean {
  const at = code.search(/<!(DOCTYPE|ENTITY)/i);
  if (at < 0) return false;
  issues.error(lineAt(lineStartOffsets(code), at), 'DOCTYPE is not allowed (entities are never expanded)');
  return true;
}

/** Stops the parser from inside a handler; caught below. */
class StopParsing extends Error {}

function parseElements(text: string, issues: IssueLog, quoteLines: Set<number>): XmlElement | undefined {
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const lineStarts = lineStartOffsets(text);
  let pendingAttributes = new Map<string, XmlAttribute>();
  let tagLine = 1;

  parser.on('opentagstart', (tag) => {
    pendingAttributes = new Map();
    // The parser reports this event after the name, possibly lines later; find the '<' itself.
    const at = text.lastIndexOf(`<${tag.name}`, parser.position);
    tagLine = at < 0 ? parser.line : lineAt(lineStarts, at);
  });
  parser.on('attribute', (attr) => {
    pendingAttributes.set(attr.name, { value: attr.value, line: parser.line });
  });
  parser.on('opentag', (tag) => {
    const element: XmlElement = {
      name: tag.name,
      line: tagLine,
      attributes: pendingAttributes,
      children: [],
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (chunk: string): void => {
    const parent = stack[stack.length - 1];
    const firstVisible = chunk.search(/\S/);
    if (!parent || parent.textLine !== undefined || firstVisible < 0) return;
    // The event fires where the text ends; count back the newlines after its first visible char.
    const newlinesAfter = chunk.slice(firstVisible).split('\n').length - 1;
    parent.textLine = parser.line - newlinesAfter;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('doctype', () => {
    // Unreachable after the raw scan above; kept so a DOCTYPE can never be processed.
    issues.error(parser.line, 'DOCTYPE is not allowed (entities are never expanded)');
    throw new StopParsing();
  });
  parser.on('error', (err) => {
    const line = parser.line;
    // A typographic quote already explains the breakage on this line; the parser's echo would not.
    if (!quoteLines.has(line)) issues.error(line, `malformed XML: ${parserMessage(err.message)}`, parser.column + 1);
    throw new StopParsing();
  });

  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof StopParsing) return undefined;
    throw err;
  }
  if (!root) issues.error(1, 'no root element; expected <clients>');
  return root;
}

function lineStartOffsets(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** 1-based line holding a string index, by binary search over line start offsets. */
function lineAt(starts: number[], index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= index) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/** saxes prefixes "line:column: " and ends with a period; we print our own position. */
function parserMessage(message: string): string {
  return message.replace(/^(?:[^:]*:)?\d+:\d+:\s*/, '').replace(/\.$/, '');
}
