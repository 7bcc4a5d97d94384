/**
 * The one structured logger of `fleetstat serve` (pino, the logger Fastify itself uses): JSON
 * lines for log collectors, or a human-readable line each on a terminal. Secrets never reach it:
 * config secrets are hidden properties that serialisation cannot see, and the fields that could
 * carry one (authorization headers, passwords, tokens) are redacted by path as well.
 */
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import { textBlock } from '../text/untrusted-text.js';
import { formatRecord } from './format-record.js';

export type { Logger };

/** `json`: one JSON object per line; `text`: one readable line per record (see format-record.ts). */
export type LogFormat = 'json' | 'text';

/** The levels `--log-level` accepts, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields censored wherever they appear in a record (one level of nesting, as pino's paths go). */
export const REDACTED_PATHS = [
  'password',
  'passphrase',
  'token',
  'authorization',
  'cookie',
  '*.password',
  '*.passphrase',
  '*.token',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export interface LoggerOptions {
  format: LogFormat;
  level?: LogLevel;
  /** Where lines go (default: stderr). */
  out?: NodeJS.WritableStream;
}

/** The format for `auto`: readable on a terminal, JSON for everything else (files, journald, pipes). */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY ? 'text' : 'json';
}

const MESSAGE_LIMITS = { maxLineChars: 4000, maxChars: 16_000 };

/** Creates the root logger; components take children of it (`logger.child({ component })`). */
export function createLogger(options: LoggerOptions): Logger {
  const out = options.out ?? process.stderr;
  const destination: DestinationStream =
    options.format === 'json'
      ? { write: (line) => out.write(line) }
      : { write: (line) => out.write(formatRecord(JSON.parse(line) as Record<string, unknown>)) };
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // Messages often quote a target or a library: the one sanitiser runs on them in both
      // formats, so JSON consumers never see terminal escapes or bidi overrides either.
      hooks: {
        logMethod(args, method) {
          const clean = args.map((arg) => (typeof arg === 'string' ? textBlock(arg, MESSAGE_LIMITS) : arg));
          method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
