/**
 * Child process for the concurrent-migration test: opens the database at argv[2], waits until the
 * epoch millisecond argv[3] so that all children start together, migrates, prints what it applied.
 */
import { migrate } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open-store.js';

const url = process.argv[2];
if (!url) throw new Error('usage: migrate-child <database-url>');
const store = await openStore(url);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(process.argv[3] ?? 0) - Date.now())));
try {
  const { applied } = await migrate(store);
  process.stdout.write(JSON.stringify(applied));
} finally {
  await store.close();
}
