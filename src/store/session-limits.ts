/**
 * Limits every database session of fleetstat runs under, so that a hung or locked database costs
 * a round a bounded wait instead of stopping collection: one session holding a lock on a table
 * (a forgotten `BEGIN; LOCK TABLE …` in psql, a long migration by another tool) makes our
 * statement fail after `lockMs`, the transaction rolls back, and the round spools the report.
 *
 * - PostgreSQL: lock_timeout, statement_timeout, idle_in_transaction_session_timeout (given as
 *   connection parameters, so they hold from the first statement).
 * - MariaDB: innodb_lock_wait_timeout (row locks), lock_wait_timeout (table and metadata locks),
 *   max_statement_time, idle_transaction_timeout. MySQL has no max_statement_time: it gets
 *   max_execution_time (SELECTs only) and no idle-transaction limit.
 * - SQLite: the 5 s busy wait of sqlite-dialect.ts is its lock timeout; it has no server to hang.
 */

/** The limits, in milliseconds. */
export const SESSION_LIMITS = {
  /** Longest wait for a lock held by another session. */
  lockMs: 5_000,
  /** Longest single statement (generous: a first prune of a big table is one DELETE). */
  statementMs: 300_000,
  /** Longest a transaction may sit idle with its locks (a crashed or stalled client). */
  idleInTransactionMs: 60_000,
} as const;

/** node-postgres connection options that set the limits for every pooled session. */
export function postgresSessionLimits(): {
  lock_timeout: number;
  statement_timeout: number;
  idle_in_transaction_session_timeout: number;
} {
  return {
    lock_timeout: SESSION_LIMITS.lockMs,
    statement_timeout: SESSION_LIMITS.statementMs,
    idle_in_transaction_session_timeout: SESSION_LIMITS.idleInTransactionMs,
  };
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** The MySQL/MariaDB statement that sets the lock limits (both servers know these). */
export function mysqlLockLimitsStatement(): string {
  const lock = seconds(SESSION_LIMITS.lockMs);
  return `set session innodb_lock_wait_timeout = ${lock}, lock_wait_timeout = ${lock}`;
}

/** The statement and idle limits: MariaDB's names first, MySQL's as the fallback. */
export function mysqlStatementLimitsStatements(): { mariadb: string; mysql: string } {
  return {
    mariadb: `set session max_statement_time = ${seconds(SESSION_LIMITS.statementMs)}, idle_transaction_timeout = ${seconds(SESSION_LIMITS.idleInTransactionMs)}`,
    mysql: `set session max_execution_time = ${SESSION_LIMITS.statementMs}`,
  };
}
