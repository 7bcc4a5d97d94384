/**
 * `<include path="conf.d/*.xml"/>`: reads the files a pattern names (sorted, relative to the
 * including file), and splices their top-level elements in place of the include. Each included
 * file gets its own range of lines in the SourceMap, so later messages still name it. Cycles and
 * a file included twice are errors naming both places.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AttributeReader, checkChildren } from './attribute-reader.js';
import type { ConfigContext } from './context.js';
import { INCLUDE_ATTRIBUTES, INCLUDED_TOP_LEVEL_ELEMENTS } from './elements.js';
import { IssueLog, type ConfigIssue } from './issues.js';
import { errorCode } from './secrets.js';
import { countLines, type SourceMap } from './source-map.js';
import { readXmlTree, type XmlElement } from './xml-tree.js';

/** How included text is read and prepared; load-config passes its typographic-quote pre-pass here. */
export interface IncludeReader {
  /** Turns raw file text into XML text for the parser, recording warnings in `issues`. */
  prepare(text: string, issues: IssueLog): string;
}

interface IncludeState {
  ctx: ConfigContext;
  sources: SourceMap;
  reader: IncludeReader;
  /** Issues of included files found while parsing them (real lines, their own file). */
  fileIssues: ConfigIssue[];
  /** Absolute path → the virtual line of the include that brought it in (0 for the main file). */
  includedAt: Map<string, number>;
  /** Display names for absolute paths, relative like the main file's name. */
  display: (absolute: string) => string;
}

/**
 * Replaces every top-level `<include>` of `children` (recursively) by the included files'
 * elements. `mainFile` is the absolute path of the main config; `mainDir` is where its relative
 * paths resolve. Issues of included files are appended to `fileIssues`.
 */
export function spliceIncludes(
  children: XmlElement[],
  mainFile: string,
  mainDir: string,
  ctx: ConfigContext,
  sources: SourceMap,
  reader: IncludeReader,
  fileIssues: ConfigIssue[],
  mainDisplay: string,
): XmlElement[] {
  const displayDir = path.dirname(mainDisplay);
  const state: IncludeState = {
    ctx,
    sources,
    reader,
    fileIssues,
    includedAt: new Map([[mainFile, 0]]),
    display: (absolute) => {
      const relative = path.relative(mainDir, absolute);
      return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : path.join(displayDir, relative);
    },
  };
  return splice(children, mainDir, [mainFile], state);
}

function splice(children: XmlElement[], dir: string, chain: string[], state: IncludeState): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of children) {
    if (child.name !== 'include') out.push(child);
    else out.push(...includeOne(child, dir, chain, state));
  }
  return out;
}

function includeOne(element: XmlElement, dir: string, chain: string[], state: IncludeState): XmlElement[] {
  const { issues } = state.ctx;
  checkChildren(element, [], issues);
  const attrs = new AttributeReader(element, issues, INCLUDE_ATTRIBUTES);
  const pattern = attrs.required('path');
  if (pattern === undefined) return [];
  const absolutePattern = path.resolve(dir, pattern);
  const hasWildcard = /[*?[]/.test(pattern);
  const files = hasWildcard ? globFiles(absolutePattern) : [absolutePattern];
  if (files.length === 0) {
    issues.warn(
      attrs.line('path'),
      `include path "${pattern}" matches no file (looked in ${state.display(path.dirname(absolutePattern))})`,
    );
  }
  const out: XmlElement[] = [];
  for (const file of files.map(realPath)) {
    const here = state.sources.describe(element.line);
    if (chain.includes(file)) {
      const firstAt = state.includedAt.get(file) ?? 0;
      const where = firstAt > 0 ? `, included at ${state.sources.describe(firstAt)}` : ' (the main config file)';
      issues.error(
        element.line,
        `include cycle: ${here} includes ${state.display(file)}${where}, which leads back here; remove one of the two includes`,
      );
      continue;
    }
    const before = state.includedAt.get(file);
    if (before !== undefined) {
      issues.error(
        element.line,
        `${state.display(file)} is included twice: at ${state.sources.describe(before)} and ${here}; include each file once`,
      );
      continue;
    }
    state.includedAt.set(file, element.line);
    out.push(...readIncluded(file, element, chain, state));
  }
  return out;
}

function readIncluded(file: string, include: XmlElement, chain: string[], state: IncludeState): XmlElement[] {
  const { issues } = state.ctx;
  const name = state.display(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    issues.error(include.line, `cannot read included file ${name} (${errorCode(err)})`);
    return [];
  }
  state.ctx.sourceFiles.push(file);
  const own = new IssueLog(name);
  const root = readXmlTree(state.reader.prepare(text, own), own);
  state.fileIssues.push(...own.issues);
  if (!root) return [];
  const offset = state.sources.add(name, countLines(text), file);
  shiftLines(root, offset);
  if (root.name !== 'clients') {
    issues.error(
      root.line,
      `root element of an included file is <${root.name}>; expected <clients> holding <client>, <group> and <include> elements`,
    );
    return [];
  }
  for (const [attr, value] of root.attributes)
    issues.error(value.line, `unknown attribute "${attr}" on <clients>; <clients> takes no attributes`);
  const children = root.children.filter((child) => {
    if ((INCLUDED_TOP_LEVEL_ELEMENTS as readonly string[]).includes(child.name)) return true;
    const hint = ['settings', 'database', 'smtp', 'web', 'defaults'].includes(child.name)
      ? `<${child.name}> belongs in the main config file only`
      : `an included file holds only ${INCLUDED_TOP_LEVEL_ELEMENTS.map((n) => `<${n}>`).join(', ')}`;
    issues.error(child.line, `unexpected element <${child.name}> in included file; ${hint}`);
    return false;
  });
  if (root.textLine !== undefined)
    issues.error(root.textLine, 'unexpected text inside <clients>; settings go in attributes');
  return splice(children, path.dirname(file), [...chain, file], state);
}

/** Adds `offset` to every line of a parsed tree, moving it into its file's virtual range. */
function shiftLines(element: XmlElement, offset: number): void {
  element.line += offset;
  if (element.textLine !== undefined) element.textLine += offset;
  for (const attr of element.attributes.values()) attr.line += offset;
  for (const child of element.children) shiftLines(child, offset);
}

/**
 * Files matching an absolute pattern where `*`, `?` and `[…]` may appear in any segment
 * (never matching `/`, never matching a leading dot), sorted by path. Directories are skipped.
 */
export function globFiles(pattern: string): string[] {
  const segments = pattern.split(path.sep);
  let candidates = [segments[0] === '' ? path.sep : segments[0]!];
  for (const [index, segment] of segments.slice(1).entries()) {
    const last = index === segments.length - 2;
    const next: string[] = [];
    for (const base of candidates) {
      if (!/[*?[]/.test(segment)) {
        next.push(path.join(base, segment));
        continue;
      }
      const re = segmentRegex(segment);
      let names: string[];
      try {
        names = fs.readdirSync(base);
      } catch {
        continue; // as in a shell, an unreadable directory matches nothing; the caller warns when nothing matched
      }
      for (const entry of names) if (re.test(entry) && !entry.startsWith('.')) next.push(path.join(base, entry));
    }
    candidates = last ? next : next.filter((candidate) => isDirectory(candidate));
  }
  return candidates.filter((candidate) => isFile(candidate)).sort();
}

function segmentRegex(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The real path, so a symlink cannot hide a cycle; the path itself when it does not exist (reported later). */
function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}
