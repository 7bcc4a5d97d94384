/**
 * docs/config.md is a contract with the reader's vocabulary (src/config/elements.ts, the lists
 * the readers check every element against):
 * - the element table under "Rules of the format" lists every element the reader accepts with
 *   the elements it may hold, and no other;
 * - each element that takes attributes has a section whose heading names it, and the first
 *   column of that section's table lists exactly the attributes the reader accepts on it.
 * Nothing here is a hand-written list: add an attribute to the code and this fails until the
 * doc has it, and the reverse.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ELEMENTS } from '../src/config/elements.js';

const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
const lines = doc.split('\n');

/** `<name>` and `name` code spans of a table cell, without the backticks and brackets. */
function codeNames(cell: string, pattern: RegExp): string[] {
  return [...cell.matchAll(pattern)].map((match) => match[1]!);
}

/** The cells of a Markdown table row (`| a | b |`), trimmed; undefined for other lines. */
function cells(line: string): string[] | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|') || /^\|[-| ]+\|$/.test(trimmed)) return undefined;
  return trimmed
    .slice(1, -1)
    .split('|')
    .map((cell) => cell.trim());
}

/** Element → the elements it holds, from the element table (header `| element | holds |`). */
function documentedElements(): Map<string, string[]> {
  const header = lines.findIndex((line) => /^\s*\| element \| holds \|/.test(line));
  expect(header, 'docs/config.md has an element table (| element | holds |)').toBeGreaterThan(-1);
  const table = new Map<string, string[]>();
  for (const line of lines.slice(header + 1)) {
    if (!line.trim().startsWith('|')) break;
    const [element, holds] = cells(line) ?? [];
    if (element === undefined || holds === undefined) continue;
    const [name] = codeNames(element, /`<([a-z-]+)>`/g);
    expect(name, `element table row "${line.trim()}" names an element`).toBeDefined();
    table.set(name!, codeNames(holds, /`<([a-z-]+)>`/g));
  }
  return table;
}

/** Element → the attributes in the first column of the tables under headings that name it. */
function documentedAttributes(): Map<string, Set<string>> {
  const byElement = new Map<string, Set<string>>();
  let current: string[] = [];
  for (const line of lines) {
    if (/^#{2,4} /.test(line)) {
      current = codeNames(line, /`<([a-z-]+)>`/g);
      continue;
    }
    const row = cells(line);
    if (!row || current.length === 0 || row[0] === 'attribute') continue;
    for (const element of current) {
      const names = byElement.get(element) ?? new Set<string>();
      for (const name of codeNames(row[0] ?? '', /`([a-z][a-z-]*)`/g)) names.add(name);
      byElement.set(element, names);
    }
  }
  return byElement;
}

describe('docs/config.md documents the config reader exactly', () => {
  const elements = Object.keys(CONFIG_ELEMENTS).sort();

  it('lists every element the reader accepts, and no other', () => {
    expect([...documentedElements().keys()].sort()).toEqual(elements);
  });

  it.each(elements)('<%s> holds the elements the reader allows in it', (element) => {
    expect(documentedElements().get(element)?.slice().sort()).toEqual([...CONFIG_ELEMENTS[element]!.children].sort());
  });

  it.each(elements.filter((element) => CONFIG_ELEMENTS[element]!.attributes.length > 0))(
    '<%s> has a table of exactly the attributes the reader accepts',
    (element) => {
      const documented = documentedAttributes().get(element);
      expect(
        documented,
        `docs/config.md has a section headed with \`<${element}>\` and an attribute table`,
      ).toBeDefined();
      expect([...documented!].sort()).toEqual([...CONFIG_ELEMENTS[element]!.attributes].sort());
    },
  );

  it('documents attributes only for elements the reader knows, and none for <clients>', () => {
    const withTables = [...documentedAttributes().keys()];
    expect(withTables.filter((element) => !(element in CONFIG_ELEMENTS))).toEqual([]);
    expect(withTables).not.toContain('clients');
  });
});
