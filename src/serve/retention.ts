/** Applies the `retention` setting from `fleetstat serve`: a prune at most once a day. */
import type { Settings } from '../config/types.js';
import type { Store } from '../store/open-store.js';
import { pruneOlderThan, type PruneCounts } from '../store/prune.js';

const DAY_MS = 86_400_000;

export class RetentionPruner {
  private lastRun = 0;

  constructor(private readonly store: Store) {}

  /** Prunes when retention is set and a day has passed since the last prune; returns the counts when it ran. */
  async maybePrune(settings: Settings, now = new Date()): Promise<PruneCounts | undefined> {
    if (settings.retentionSeconds === undefined || now.getTime() - this.lastRun < DAY_MS) return undefined;
    this.lastRun = now.getTime();
    return await pruneOlderThan(this.store, new Date(now.getTime() - settings.retentionSeconds * 1000));
  }
}
