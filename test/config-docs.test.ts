/**
 * docs/config.md is a contract: every attribute the reader accepts on `<settings>` and `<smtp>`
 * has a row in its table, and every row names an attribute the reader accepts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS_ATTRIBUTES, SMTP_ATTRIBUTES } from '../src/config/read-settings.js';

const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');

/** The attribute names in the first column of the table under `## \`<element>\``. */
function documented(element: string): string[] {
  const start = doc.indexOf(`## \`<${element}>\``);
  if (start < 0) throw new Error(`docs/config.md has no section for <${element}>`);
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1) >>> 0 || undefined);
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const cell = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (!cell) continue;
    for (const name of cell.matchAll(/`([a-z-]+)`/g)) names.add(name[1]!);
  }
  return [...names].sort();
}

describe('docs/config.md matches the config reader', () => {
  it('documents exactly the <settings> attributes', () => {
    expect(documented('settings')).toEqual([...SETTINGS_ATTRIBUTES].sort());
  });
  it('documents exactly the <smtp> attributes', () => {
    expect(documented('smtp')).toEqual([...SMTP_ATTRIBUTES].sort());
  });
});
