/**
 * docs/config.md is a contract: its `<web>` table lists exactly the attributes readWeb accepts,
 * with the defaults the code applies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WEB_DEFAULTS } from '../src/config/defaults.js';
import { WEB_ATTRIBUTES } from '../src/config/elements.js';

function webTable(): Map<string, string> {
  const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## `<web>`'), doc.indexOf('\n## ', doc.indexOf('## `<web>`') + 1));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const [names = '', defaultValue = ''] = line
      .split('|')
      .slice(1)
      .map((cell) => cell.trim());
    for (const name of names.match(/`[^`]+`/g) ?? []) rows.set(name.slice(1, -1), defaultValue);
  }
  return rows;
}

describe('docs/config.md <web>', () => {
  it('documents every attribute readWeb accepts, and no other', () => {
    expect([...webTable().keys()].sort()).toEqual([...WEB_ATTRIBUTES].sort());
  });

  it('states the defaults the code applies', () => {
    const table = webTable();
    expect(table.get('listen')).toBe(`\`${WEB_DEFAULTS.listen}\``);
    expect(table.get('port')).toBe(`\`${WEB_DEFAULTS.port}\``);
    expect(table.get('metrics-open')).toBe(`\`${WEB_DEFAULTS.metricsOpen}\``);
    expect(table.get('allow-anonymous')).toBe(`\`${WEB_DEFAULTS.allowAnonymous}\``);
  });
});
