/**
 * docs/schema.md is a contract: each table section lists exactly the columns the migrations
 * create (checked on a freshly migrated SQLite database), and every table is documented.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { TABLE_NAMES } from '../src/store/schema.js';

/** Table name → documented column names, from the `## name` sections' `| column | …` tables. */
function documentedTables(): Map<string, string[]> {
  const doc = readFileSync(new URL('../docs/schema.md', import.meta.url), 'utf8');
  const tables = new Map<string, string[]>();
  for (const section of doc.split('\n## ').slice(1)) {
    const [heading = '', ...lines] = section.split('\n');
    if (!/^[a-z_]+$/.test(heading.trim())) continue;
    // A row may name several columns of one type: `| size_bytes, used_bytes | bigint | …`.
    const rows = lines
      .filter((line) => /^\| [a-z_0-9]+(, [a-z_0-9]+)* \|/.test(line))
      .flatMap((line) => (line.split('|')[1] ?? '').split(',').map((name) => name.trim()));
    tables.set(
      heading.trim(),
      rows.filter((name) => name !== 'column'),
    );
  }
  return tables;
}

describe('docs/schema.md', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore('sqlite::memory:');
    await migrate(store);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('documents every table the migrations create, with exactly its columns', async () => {
    const documented = documentedTables();
    const actual = (await store.db.introspection.getTables()).filter(
      (t) => ![MIGRATION_TABLE, MIGRATION_LOCK_TABLE].includes(t.name) && !t.name.startsWith('sqlite_'),
    );
    expect([...documented.keys()].sort()).toEqual(actual.map((t) => t.name).sort());
    for (const table of actual) {
      expect({ table: table.name, columns: [...(documented.get(table.name) ?? [])].sort() }).toEqual({
        table: table.name,
        columns: table.columns.map((c) => c.name).sort(),
      });
    }
  });

  it('types every table the migrations create in src/store/schema.ts', async () => {
    const actual = (await store.db.introspection.getTables()).filter(
      (t) => ![MIGRATION_TABLE, MIGRATION_LOCK_TABLE].includes(t.name) && !t.name.startsWith('sqlite_'),
    );
    expect([...TABLE_NAMES].sort()).toEqual(actual.map((t) => t.name).sort());
  });
});
