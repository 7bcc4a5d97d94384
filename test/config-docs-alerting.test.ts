/**
 * docs/config.md is a contract: the tables of `<settings>`, `<client>`, `<alert>`,
 * `<maintenance>` and `<webhook>` list exactly the attributes the readers accept.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERT_ATTRIBUTES, CLIENT_ATTRIBUTES } from '../src/config/read-client.js';
import { MAINTENANCE_ATTRIBUTES } from '../src/config/read-maintenance.js';
import { SETTINGS_ATTRIBUTES } from '../src/config/read-settings.js';
import { WEBHOOK_ATTRIBUTES } from '../src/config/read-webhook.js';

/** The attribute names of the first table under the `## `<element>`` heading. */
function documented(element: string): string[] {
  const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
  const start = doc.indexOf(`## \`<${element}>\``);
  expect(start, `docs/config.md has a section for <${element}>`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return section.split('\n').filter((line) => line.startsWith('| `'))
    .flatMap((line) => (line.split('|')[1] ?? '').match(/`[^`]+`/g) ?? []).map((name) => name.slice(1, -1));
}

describe('docs/config.md lists every attribute the code accepts, and no other', () => {
  it.each([
    ['settings', SETTINGS_ATTRIBUTES],
    // hosts-file is read with the address expansion (read-fleet.ts), drop with group inheritance.
    ['client', [...CLIENT_ATTRIBUTES, 'hosts-file']],
    ['alert', [...ALERT_ATTRIBUTES, 'drop']],
    ['maintenance', MAINTENANCE_ATTRIBUTES],
    ['webhook', WEBHOOK_ATTRIBUTES],
  ] as const)('<%s>', (element, attributes) => {
    expect(documented(element).sort()).toEqual([...attributes].sort());
  });
});
