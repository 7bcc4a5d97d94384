/** What `db copy` shows while it runs: a bar on a capable terminal, one line per table otherwise. */
import cliProgress from 'cli-progress';
import type { CopyEvent } from '../store/copy/copy-database.js';
import { canShowProgressBar } from '../collect/terminal.js';

/** A listener for copy events and a stop() that leaves the terminal clean. */
export interface CopyProgress {
  onEvent(event: CopyEvent): void;
  stop(): void;
}

/** Progress on `stream` (normally stderr). */
export function copyProgress(
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): CopyProgress {
  if (!canShowProgressBar(stream, env)) {
    return {
      onEvent(event) {
        if (event.type === 'table-done') {
          const what = event.outcome.status === 'copied' ? `${event.outcome.rows} rows copied` : event.outcome.reason;
          stream.write(`copy: ${event.table}: ${what}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'copy [{bar}] {percentage}% | {value}/{total} rows | {table} | {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    onEvent(event) {
      if (event.type === 'start') bar.start(event.totalRows, 0, { table: '' });
      if (event.type === 'rows') bar.increment(event.count, { table: event.table });
    },
    stop() {
      bar.stop();
    },
  };
}
