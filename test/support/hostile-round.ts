/**
 * Runs one real round (collectRound, SQLite on disk) over a mix of healthy and faulty hosts and
 * reads back what it recorded: per-host errors from host_errors, hosts with a stored sample, and
 * the round summary. Shared by the fault tests.
 */
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { collectRound, type RoundEvent, type RoundSummary } from '../../src/collect/round.js';
import { outcomeFailure } from '../../src/collect/host-outcome.js';
import { migrate } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open-store.js';
import { writeFleetConfig, type FleetClient } from './fleet-config.js';
import type { SshdFleet } from './sshd.js';

export interface RecordedError {
  stage: string;
  message: string;
}

export interface FaultRoundResult {
  summary: RoundSummary;
  /** host name → the summary's error for it */
  summaryErrors: Map<string, RecordedError>;
  /** host name → its host_errors row of this round */
  tableErrors: Map<string, RecordedError>;
  /** names of the hosts with a sample stored in this round */
  stored: string[];
  databaseUrl: string;
  configPath: string;
}

export interface FaultRoundOptions {
  dir: string;
  clients: FleetClient[];
  /** Settings attributes; defaults give short timeouts (connect 3 s). */
  settings?: Record<string, string>;
  smtp?: { host: string; port: number };
  /** Database file name inside `dir` (reused across rounds when the same). */
  database?: string;
  /** A database URL instead (PostgreSQL, MySQL); migrated by the round's helper too. */
  databaseUrl?: string;
  /** Runs after the round, before its records are read back (e.g. to bring the database back). */
  afterRound?: () => Promise<void>;
  knownHostsPath?: string;
  /** Called with each round event, e.g. to break the database mid-round. */
  onEvent?: (event: RoundEvent) => void;
}

/** Runs the round and reads back its records. */
export async function runFaultRound(
  fleet: Pick<SshdFleet, 'user' | 'passwordFile' | 'clientKeyPath' | 'knownHostsPath'>,
  options: FaultRoundOptions,
): Promise<FaultRoundResult> {
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(options.dir, options.database ?? 'faults.sqlite')}`;
  const configPath = writeFleetConfig(fleet, {
    dir: options.dir,
    databaseUrl,
    clients: options.clients,
    smtp: options.smtp,
    knownHostsPath: options.knownHostsPath,
    settings: { 'connect-timeout': '3', 'spool-dir': join(options.dir, 'spool'), ...options.settings },
  });
  const config = await loadConfig(configPath);
  const store = await openStore(databaseUrl);
  try {
    await migrate(store);
    const summary = await collectRound(config, store, { onEvent: options.onEvent });
    await options.afterRound?.();
    const summaryErrors = new Map(
      summary.outcomes.flatMap((o) => {
        const failure = outcomeFailure(o);
        return failure
          ? [[o.client.name, { stage: failure.stage ?? 'not started', message: failure.message }] as const]
          : [];
      }),
    );
    const rows = await store.db
      .selectFrom('host_errors')
      .innerJoin('hosts', 'hosts.id', 'host_errors.host_id')
      .select(['hosts.name', 'host_errors.stage', 'host_errors.message'])
      .where('host_errors.round_id', '=', summary.roundId)
      .execute();
    const tableErrors = new Map(rows.map((r) => [r.name, { stage: r.stage, message: r.message }]));
    const samples = await store.db
      .selectFrom('samples')
      .innerJoin('hosts', 'hosts.id', 'samples.host_id')
      .select('hosts.name')
      .where('samples.round_id', '=', summary.roundId)
      .execute();
    return { summary, summaryErrors, tableErrors, stored: samples.map((s) => s.name).sort(), databaseUrl, configPath };
  } finally {
    await store.close();
  }
}
