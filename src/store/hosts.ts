/** The hosts table: one row per configured (ip, port), kept across renames. */
import { adapterFor } from './dialect-adapter.js';
import type { Store } from './open-store.js';
import { StoreError, describeCause } from './store-error.js';

export interface HostIdentity {
  ip: string;
  port: number;
  /** Display name from the config; updated when the config changes it. */
  name: string;
}

async function findHost(store: Store, ip: string, port: number): Promise<{ id: number; name: string } | undefined> {
  return store.db
    .selectFrom('hosts')
    .select(['id', 'name'])
    .where('ip', '=', ip)
    .where('port', '=', port)
    .executeTakeFirst();
}

/**
 * Returns the id of the host at (ip, port), inserting it (first_seen = now) if new and updating
 * its name if the config renamed it. Safe when several collectors call it at once: the insert
 * ignores a conflicting row and the id is read afterwards.
 */
export async function ensureHost(store: Store, host: HostIdentity, now: Date = new Date()): Promise<number> {
  try {
    let found = await findHost(store, host.ip, host.port);
    if (!found) {
      const insert = store.db
        .insertInto('hosts')
        .values({ ip: host.ip, port: host.port, name: host.name, first_seen: now });
      // Conflict handling only for the unique (ip, port); any other error still fails.
      await adapterFor(store.dialect).ignoreDuplicates(insert, ['ip', 'port']).execute();
      found = await findHost(store, host.ip, host.port);
      if (!found) throw new Error('the host row vanished right after it was inserted');
    }
    if (found.name !== host.name) {
      await store.db.updateTable('hosts').set({ name: host.name }).where('id', '=', found.id).execute();
    }
    return Number(found.id);
  } catch (error) {
    throw new StoreError(
      `cannot record host ${host.name} (${host.ip}:${host.port}) in ${store.url}: ${describeCause(error)}`,
      store.url,
      { cause: error },
    );
  }
}
