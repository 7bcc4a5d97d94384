/**
 * Reads config XML into a small element tree with line numbers. Strict: DOCTYPE and entity
 * declarations are refused before parsing, so entities are never expanded (no billion laughs,
 * no external entities). Typographic quotes pasted from documents are found in the raw text,
 * because `ip=“10.0.0.1”` is not even well-formed XML and the parser's own message would be
 * unhelpful.
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

const TYPOGRAPHIC_QUOTES = /[\u2018\u2019\u201C\u201D]/;

/**
 * Parses XML text into an element tree, recording problems in `issues`.
 * Returns undefined when the text is not usable (malformed, DOCTYPE present).
 */
export function readXmlTree(text: string, issues: IssueLog): XmlElement | undefined {
  const code = blankOutComments(text);
  const quoteLines = reportTypographicQuotes(code, issues);
  if (reportDoctype(code, issues)) return undefined;
  // Already reported; parse with plain quotes so the rest of the file is still validated.
  const parsable = quoteLines.size > 0 ? text.replace(/[\u201C\u201D]/g, '"').replace(/[\u2018\u2019]/g, "'") : text;
  return parseElements(parsable, issues, quoteLines);
}

/** Replaces comment bodies with spaces (keeping newlines) so scans ignore prose in comments. */
function blankOutComments(text: string): string {
  return text.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

function reportTypographicQuotes(code: string, issues: IssueLog): Set<number> {
  const lines = new Set<number>();
  code.split('\n').forEach((lineText, index) => {
    const match = TYPOGRAPHIC_QUOTES.exec(lineText);
    if (!match) return;
    const line = index + 1;
    lines.add(line);
    issues.error(line, `typographic quote ${match[0]} in attribute; use plain " or '`, match.index + 1);
  });
  return lines;
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
