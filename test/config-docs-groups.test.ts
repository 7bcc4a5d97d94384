/**
 * docs/config.md is a contract: the sentence listing the attributes a group or <defaults> passes
 * on, and the expansion limit, are those of the code (the attribute tables: config-docs.test.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INHERITED_ATTRIBUTES } from '../src/config/elements.js';
import { MAX_ADDRESSES_PER_ATTRIBUTE } from '../src/config/host-expansion.js';

const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');

function section(heading: string): string {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, `docs/config.md has a "## ${heading}" section`).toBeGreaterThan(0);
  return doc.slice(start, doc.indexOf('\n## ', start + 1));
}

describe('docs/config.md groups, hosts and includes', () => {
  it('lists exactly the attributes a group or <defaults> passes on', () => {
    const text = section('Groups and defaults');
    const sentence = text.slice(text.indexOf('that is'), text.indexOf('plus `<alert>`'));
    expect((sentence.match(/`[^`]+`/g) ?? []).map((n) => n.slice(1, -1)).sort()).toEqual(
      [...INHERITED_ATTRIBUTES].sort(),
    );
  });

  it('states the expansion limit the code applies', () => {
    expect(section('Many machines in one client')).toContain(`at most **${MAX_ADDRESSES_PER_ATTRIBUTE} addresses**`);
  });
});
