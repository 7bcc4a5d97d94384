/**
 * The security-events mail: one plain-text mail per host per run that found new events (or
 * could not read them), listing each event with its time, id and meaning, account and source.
 * Every field comes from the monitored host and is untrusted: it goes through the same
 * sanitising as alert mails (no CR/LF or control characters in the Subject, none but \n and \t
 * in the body, long fields cut).
 */
import type { EventReport } from '../probe/report.js';
import { sanitizeBody, sanitizeSubject } from './mail-text.js';
import { oneLine, truncateText } from '../text/untrusted-text.js';
import type { RenderedMail } from './alert-mail.js';

export interface SecurityEventsMailInput {
  hostName: string;
  ip: string;
  /** New events of this run, oldest first (already deduplicated by record id). */
  events: readonly EventReport[];
  /** More events were waiting than the per-run cap. */
  truncated: boolean;
  /** False when the probe could not read the events (no Administrator/root). */
  readable: boolean;
  /** The probe's note: why events were unreadable, a cleared log, overwritten events. */
  note: string;
  at: Date;
}

/** At most this many events are listed in one mail; the rest are counted. */
export const MAX_LISTED_EVENTS = 50;
const MAX_MESSAGE_LINE = 160;

/** Meanings of well-known Windows Security event ids. */
export const WINDOWS_EVENT_MEANINGS: Readonly<Record<number, string>> = {
  1102: 'audit log cleared',
  4624: 'successful logon',
  4625: 'failed logon',
  4634: 'logoff',
  4648: 'logon with explicit credentials',
  4672: 'special privileges assigned to new logon',
  4688: 'process created',
  4720: 'user account created',
  4722: 'user account enabled',
  4725: 'user account disabled',
  4726: 'user account deleted',
  4728: 'member added to a global security group',
  4732: 'member added to a local security group',
  4740: 'user account locked out',
  4756: 'member added to a universal security group',
};

/** Meanings of the event ids probe.sh gives sshd authentication failures. */
export const SSHD_EVENT_MEANINGS: Readonly<Record<number, string>> = {
  1: 'ssh authentication failed',
  2: 'ssh login attempt for an unknown user',
  3: 'ssh PAM authentication failure',
  4: 'ssh too many authentication attempts',
};

/** The meaning of an event id for its provider, or '' when it is not a well-known one. */
export function eventMeaning(event: Pick<EventReport, 'event_id' | 'provider'>): string {
  const table = event.provider === 'sshd' ? SSHD_EVENT_MEANINGS : WINDOWS_EVENT_MEANINGS;
  return table[event.event_id] ?? '';
}

export interface EventParties {
  account: string;
  source: string;
}

/**
 * Who and from where: TargetUserName/TargetDomainName, IpAddress and WorkstationName from the
 * event XML (SubjectUserName for a cleared log), else the rendered message's "Account Name:" /
 * "Source Network Address:" lines, else sshd's "for <user> from <address>". Empty when absent.
 */
export function eventParties(event: Pick<EventReport, 'message' | 'raw' | 'provider'>): EventParties {
  const raw = event.raw ?? '';
  const message = event.message ?? '';
  if (event.provider === 'sshd') {
    const m = /for (?:invalid user )?(\S+) from (\S+)/.exec(message) ?? /user[= ](\S+).*?rhost=(\S+)/.exec(message);
    return { account: m?.[1] ?? '', source: m?.[2] ?? '' };
  }
  const user =
    xmlField(raw, 'TargetUserName') || xmlElement(raw, 'SubjectUserName') || lastMessageField(message, 'Account Name');
  const domain = xmlField(raw, 'TargetDomainName') || xmlElement(raw, 'SubjectDomainName');
  const ip = xmlField(raw, 'IpAddress') || lastMessageField(message, 'Source Network Address');
  const workstation = xmlField(raw, 'WorkstationName') || lastMessageField(message, 'Workstation Name');
  const account = user && domain && user !== '-' ? `${domain}\\${user}` : user;
  const source = [ip, workstation && workstation !== ip ? `(${workstation})` : ''].filter(Boolean).join(' ');
  return { account: meaningful(account), source: meaningful(source) };
}

/** Renders the subject and plain-text body of one host's security-events mail. */
export function renderSecurityEventsMail(input: SecurityEventsMailInput): RenderedMail {
  const host = oneLine(input.hostName, 100);
  const ip = oneLine(input.ip, 64);
  const count = input.events.length;
  const what =
    count > 0
      ? `${count}${input.truncated ? '+' : ''} new security event${count === 1 ? '' : 's'}`
      : 'no new security events';
  const headline = sanitizeSubject(`${host} (${ip}): ${what}${input.readable ? '' : ', events could not be read'}`);
  const subject = sanitizeSubject(`[fleetstat] ${headline}`);

  const lines = [`Host: ${host} (${ip})`, `Run:  ${input.at.toISOString()}`, ''];
  if (!input.readable) {
    lines.push(`Security events could not be read: ${oneLine(input.note || 'no reason given', 400)}`, '');
  } else if (input.note) {
    lines.push(`Note from the host: ${oneLine(input.note, 400)}`, '');
  }
  if (count > 0) {
    lines.push(`${count} new security event${count === 1 ? '' : 's'}, oldest first (times in UTC):`, '');
    for (const event of input.events.slice(0, MAX_LISTED_EVENTS)) lines.push(...eventLines(event));
    if (count > MAX_LISTED_EVENTS)
      lines.push(`… and ${count - MAX_LISTED_EVENTS} more (all are stored in the security_events table).`, '');
  }
  if (input.truncated) {
    lines.push(
      'More events were waiting than the per-run cap (event-cap, or the size limit of one report) allows; the rest follow in the next runs.',
      '',
    );
  }
  lines.push('Sent by fleetstat on every run that finds new security events.');
  return { subject, body: sanitizeBody(lines.join('\n')), headline };
}

function eventLines(event: EventReport): string[] {
  const meaning = eventMeaning(event);
  const { account, source } = eventParties(event);
  const head = [
    formatTime(event.logged_at),
    `${oneLine(event.provider === 'sshd' ? 'sshd' : 'EventID', 10)} ${event.event_id}${meaning ? ` ${meaning}` : ''}`,
    account ? `account ${oneLine(account, 100)}` : '',
    source ? `from ${oneLine(source, 120)}` : '',
  ]
    .filter(Boolean)
    .join('  ');
  const firstLine = oneLine((event.message ?? '').split(/\r?\n/).find((l) => l.trim()) ?? '', MAX_MESSAGE_LINE);
  const detail = [firstLine, `record ${event.record_id}`, oneLine(event.level, 20), oneLine(event.provider, 80)]
    .filter(Boolean)
    .join(' | ');
  return [`- ${head}`, `    ${truncateText(detail, 300)}`];
}

/** "2015-11-12 00:24:35 UTC" from the probe's ISO text, or the sanitised text when it does not parse. */
function formatTime(loggedAt: string): string {
  const when = new Date(loggedAt);
  if (loggedAt && !Number.isNaN(when.getTime())) return `${when.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
  return oneLine(loggedAt || 'unknown time', 40);
}

/** `<Data Name="Field">value</Data>` from event XML, entities decoded. */
function xmlField(raw: string, name: string): string {
  const m = new RegExp(`<Data Name=["']${name}["']\\s*>([^<]{0,300})</Data>`).exec(raw);
  return m ? decodeEntities(m[1]!).trim() : '';
}

/** `<Name>value</Name>` (UserData events such as 1102), entities decoded. */
function xmlElement(raw: string, name: string): string {
  const m = new RegExp(`<${name}>([^<]{0,300})</${name}>`).exec(raw);
  return m ? decodeEntities(m[1]!).trim() : '';
}

/** The last non-empty "Label:<tabs>value" line of a rendered message (New Logon comes after Subject). */
function lastMessageField(message: string, label: string): string {
  const values = [...message.matchAll(new RegExp(`^\\s*${label}:[\\t ]*(.{0,300})$`, 'gm'))]
    .map((m) => m[1]!.trim())
    .filter((v) => v && v !== '-');
  return values.at(-1) ?? '';
}

function meaningful(value: string): string {
  return ['-', '', '::1 -', '- -'].includes(value.trim()) ? '' : value.trim();
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return safeCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return safeCodePoint(parseInt(entity.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[entity]!;
  });
}

function safeCodePoint(code: number): string {
  return code <= 0x10ffff ? String.fromCodePoint(code) : '';
}
