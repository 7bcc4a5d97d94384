/**
 * Round progress on a terminal: a bar on stderr when it is a capable TTY (not TERM=dumb), otherwise one line per
 * failed host (cron mail stays short and useful).
 */
import cliProgress from 'cli-progress';
import { canShowProgressBar } from './terminal.js';
import { assertNever } from '../errors/assert-never.js';
import { failureLine, type RoundEvent } from './round.js';

export interface ProgressReporter {
  onEvent(event: RoundEvent): void;
  stop(): void;
}

/** A reporter writing to `stream` (normally process.stderr). */
export function terminalProgress(
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): ProgressReporter {
  if (!canShowProgressBar(stream, env)) {
    return {
      // Problems the round survived are printed with its summary, once.
      onEvent(event) {
        if (event.type === 'host-failed') stream.write(`${failureLine(event.client, event.error)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'collect [{bar}] {value}/{total} hosts | ok {ok} | failed {failed} | {duration}s',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let ok = 0;
  let failed = 0;
  return {
    onEvent(event) {
      switch (event.type) {
        case 'round-start':
          bar.start(event.total, 0, { ok, failed });
          break;
        case 'host-ok':
          bar.increment(1, { ok: ++ok, failed });
          break;
        case 'host-failed':
          bar.increment(1, { ok, failed: ++failed });
          break;
        case 'problem': // printed with the round's summary
        case 'round-end':
          break;
        default:
          assertNever(event, 'round event');
      }
    },
    stop() {
      bar.stop();
    },
  };
}
