/**
 * The storage layer: open a database, migrate it, and the writes the collector needs. Reads for
 * people (dashboard, API, /metrics, benchmarks) are in src/web/queries, one set for all.
 */
export { openStore, type Store } from './open-store.js';
export { StoreError, redactUrl } from './store-error.js';
export { parseStoreUrl, type StoreDialect } from './store-url.js';
export { migrate, MIGRATION_TABLE, MIGRATION_LOCK_TABLE } from './migrate.js';
export { ensureHost, type HostIdentity } from './hosts.js';
export {
  beginRound,
  finishRound,
  recordHostError,
  MAX_HOST_ERROR_LENGTH,
  type HostFailure,
  type RoundOutcome,
} from './rounds.js';
export { saveReport, type ReportToSave, type SavedReport } from './save-report.js';
export { lastEventRecordId } from './events.js';
export { lastCpuCounters, type StoredCpuCounters } from './cpu-counters.js';
export { pruneOlderThan, type PruneCounts } from './prune.js';
export { adapterFor, adapterOf, insertReturningId, type StoreAdapter } from './dialect-adapter.js';
export { toDate, toDateOrNull, parseReportTime } from './timestamps.js';
export type { Database } from './schema.js';
