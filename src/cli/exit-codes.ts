/** Process exit codes: each means one thing, so cron jobs and scripts can act on them. */
export const EXIT = {
  /** Every host was collected and stored. */
  ok: 0,
  /** The round ran, but one or more hosts failed (see the summary and host_errors). */
  hostsFailed: 1,
  /** Bad command line usage. */
  usage: 2,
  /** The configuration file is invalid (errors printed as file:line: message). */
  configInvalid: 3,
  /** The database could not be opened or migrated; no host was contacted. */
  databaseUnavailable: 4,
  /** Every host failed: likely a problem on the collector's side (network, keys). */
  allHostsFailed: 5,
  /** An unexpected internal error. */
  internal: 70,
} as const;
