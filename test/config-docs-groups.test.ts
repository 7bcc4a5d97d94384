/**
 * docs/config.md is a contract: the `<client>` and `<alert>` tables, the list of attributes a
 * group or <defaults> may carry, and the expansion limit are those of the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INHERITED_ATTRIBUTES } from '../src/config/group-inheritance.js';
import { MAX_ADDRESSES_PER_ATTRIBUTE } from '../src/config/host-expansion.js';
import { CLIENT_ATTRIBUTES } from '../src/config/read-client.js';

const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');

function section(heading: string): string {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, `docs/config.md has a "## ${heading}" section`).toBeGreaterThan(0);
  return doc.slice(start, doc.indexOf('\n## ', start + 1));
}

function tableNames(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => (l.split('|')[1] ?? '').match(/`[^`]+`/g) ?? []).map((n) => n.slice(1, -1));
}

describe('docs/config.md groups, hosts and includes', () => {
  it('documents every <client> attribute the code reads (plus hosts-file), and no other', () => {
    expect(tableNames(section('`<client>`')).sort()).toEqual([...CLIENT_ATTRIBUTES, 'hosts-file'].sort());
  });

  it('lists exactly the attributes a group or <defaults> passes on', () => {
    const text = section('Groups and defaults');
    const sentence = text.slice(text.indexOf('that is'), text.indexOf('plus `<alert>`'));
    expect((sentence.match(/`[^`]+`/g) ?? []).map((n) => n.slice(1, -1)).sort()).toEqual([...INHERITED_ATTRIBUTES].sort());
  });

  it('documents drop on <alert> and the include path', () => {
    expect(tableNames(section('`<alert>`'))).toContain('drop');
    expect(tableNames(section('`<include>`'))).toEqual(['path']);
  });

  it('states the expansion limit the code applies', () => {
    expect(section('Many machines in one client')).toContain(`at most **${MAX_ADDRESSES_PER_ATTRIBUTE} addresses**`);
  });
});
