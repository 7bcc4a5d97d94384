/** `fleetstat silence add|list|expire`: silences stored in the database, honoured by every collector. */
import { userInfo } from 'node:os';
import { addSilence, expireSilence, listSilences, type SilenceView } from '../alerts/silence-store.js';
import { parseDuration } from '../config/value-parsers.js';
import { EXIT } from './exit-codes.js';
import { CommandFailure, loadConfigOrFail, openMigratedStore, runCommand } from './command-context.js';

interface DatabaseOptions {
  config?: string;
  db?: string;
}

export interface SilenceAddOptions extends DatabaseOptions {
  host: string;
  rule?: string;
  duration?: string;
  until?: string;
  start?: string;
  author?: string;
  comment: string;
}

const MAX_PATTERN_CHARS = 255;
const MAX_TEXT_CHARS = 1000;

async function databaseUrl(options: DatabaseOptions): Promise<string> {
  if (options.db) return options.db;
  if (options.config) return (await loadConfigOrFail(options.config)).settings.databaseUrl;
  throw new CommandFailure('name the database with --db <url> or --config <file>', EXIT.usage);
}

function parseInstantOption(text: string, name: string): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) {
    throw new CommandFailure(`--${name} ${text}: not an ISO 8601 instant like 2026-11-28T06:00:00Z`, EXIT.usage);
  }
  return date;
}

/** Checks the options and works out the silence's start and end. */
export function silenceWindow(options: SilenceAddOptions, now: Date): { startsAt: Date; endsAt: Date } {
  if ((options.duration === undefined) === (options.until === undefined)) {
    throw new CommandFailure('give exactly one of --duration <d> (e.g. 2h) or --until <ISO instant>', EXIT.usage);
  }
  const startsAt = options.start === undefined ? now : parseInstantOption(options.start, 'start');
  let endsAt: Date;
  if (options.duration !== undefined) {
    const parsed = parseDuration(options.duration);
    if (!parsed.ok || parsed.value <= 0)
      throw new CommandFailure(
        `--duration ${options.duration}: ${parsed.ok ? 'must be longer than 0' : parsed.reason}`,
        EXIT.usage,
      );
    endsAt = new Date(startsAt.getTime() + parsed.value * 1000);
  } else {
    endsAt = parseInstantOption(options.until ?? '', 'until');
  }
  if (endsAt <= startsAt || endsAt <= now)
    throw new CommandFailure(
      `the silence would end at ${endsAt.toISOString()}, before it starts or in the past`,
      EXIT.usage,
    );
  return { startsAt, endsAt };
}

function checkText(value: string, name: string, max: number): string {
  const text = value.trim();
  if (text === '') throw new CommandFailure(`--${name} is empty`, EXIT.usage);
  if (text.length > max || /[\u0000-\u001f\u007f]/.test(text))
    throw new CommandFailure(`--${name}: at most ${max} characters, no control characters`, EXIT.usage);
  return text;
}

/** Adds a silence and prints its id. */
export function silenceAddCommand(options: SilenceAddOptions): Promise<number> {
  return runCommand(async () => {
    const now = new Date();
    const { startsAt, endsAt } = silenceWindow(options, now);
    const hostPattern = checkText(options.host, 'host', MAX_PATTERN_CHARS);
    const rule = options.rule === undefined ? undefined : checkText(options.rule, 'rule', 64);
    const author = checkText(options.author ?? userInfo().username, 'author', MAX_TEXT_CHARS);
    const comment = checkText(options.comment, 'comment', MAX_TEXT_CHARS);
    const store = await openMigratedStore(await databaseUrl(options));
    try {
      const id = await addSilence(store.db, { hostPattern, rule, startsAt, endsAt, author, comment, now });
      process.stdout.write(
        `silence ${id}: ${hostPattern}${rule ? ` rule ${rule}` : ''} from ${startsAt.toISOString()} until ${endsAt.toISOString()}\n`,
      );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  });
}

function describe(s: SilenceView): string {
  const state = s.active ? 'active' : new Date(s.ends_at) <= new Date() ? 'ended' : 'pending';
  return `${s.id}\t${state}\t${s.host_pattern}\t${s.rule ?? '*'}\t${s.starts_at}\t${s.ends_at}\t${s.author}\t${s.comment}`;
}

/** Lists silences that have not ended (all with --all). */
export function silenceListCommand(options: DatabaseOptions & { all?: boolean; json?: boolean }): Promise<number> {
  return runCommand(async () => {
    const store = await openMigratedStore(await databaseUrl(options));
    try {
      const silences = await listSilences(store.db, new Date(), { all: options.all });
      if (options.json) process.stdout.write(`${JSON.stringify({ silences })}\n`);
      else
        process.stdout.write(
          ['id\tstate\thost\trule\tstarts\tends\tauthor\tcomment', ...silences.map(describe)].join('\n') + '\n',
        );
      return EXIT.ok;
    } finally {
      await store.close();
    }
  });
}

/** Ends a silence now. */
export function silenceExpireCommand(id: string, options: DatabaseOptions): Promise<number> {
  return runCommand(async () => {
    if (!/^\d{1,15}$/.test(id)) throw new CommandFailure(`silence id "${id}" is not a number`, EXIT.usage);
    const store = await openMigratedStore(await databaseUrl(options));
    try {
      if (!(await expireSilence(store.db, Number(id), new Date())))
        throw new CommandFailure(`no active or pending silence ${id}`, EXIT.usage);
      process.stdout.write(`silence ${id} expired\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  });
}
