/**
 * A real `fleetstat serve` child process for tests: its stderr log collected, JSON records
 * parsed, and a readable rendering (the terminal format) to match messages against.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { formatRecord } from '../../src/log/format-record.js';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** One parsed JSON log line. */
export type LogRecord = Record<string, unknown> & { level?: string; msg?: string; reqId?: string };

export interface ServeProcess {
  child: ChildProcess;
  /** stderr exactly as written. */
  raw: () => string;
  /** The JSON records so far (lines that are not JSON are skipped). */
  records: () => LogRecord[];
  /** The log rendered readable: JSON records in the terminal format, other lines as they are. */
  log: () => string;
  /** Waits until the readable log matches `pattern`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function parse(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogRecord;
  } catch {
    return undefined;
  }
}

/** Spawns `fleetstat serve --config <configPath> …args` with stderr piped (so: not a terminal). */
export function startServe(configPath: string, args: string[] = ['--listen', '127.0.0.1:0']): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = () => text.split('\n').filter((line) => line !== '');
  const log = () =>
    lines()
      .map((line) => {
        const record = parse(line);
        return record ? formatRecord(record) : `${line}\n`;
      })
      .join('');
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = log().match(pattern);
      if (match) return match;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`serve log never matched ${pattern}:\n${log()}`);
  };
  return {
    child,
    raw: () => text,
    records: () =>
      lines()
        .map(parse)
        .filter((r): r is LogRecord => r !== undefined),
    log,
    waitFor,
    exited,
  };
}
