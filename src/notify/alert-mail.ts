/**
 * Plain-text alert mails: what happened, on which host, the value against its limit, when (UTC)
 * and what to do. Every host-provided string is sanitised; the result is safe to queue as is.
 */
import type { AlertRule, AlertType } from '../config/types.js';
import { MAX_FIELD_CHARS, sanitizeBody, sanitizeSubject } from './mail-text.js';
import { oneLine } from '../text/untrusted-text.js';

export type MailTransition = 'firing' | 'reminder' | 'resolved';

export interface AlertMailInput {
  hostName: string;
  ip: string;
  rule: Pick<AlertRule, 'type'> &
    Partial<Pick<AlertRule, 'repeatSeconds' | 'notify' | 'line' | 'severity' | 'mount' | 'clearLimit'>>;
  /** The measured value (for unreachable: 1 = unreachable, 0 = reachable); null if unknown. */
  value: number | null;
  limit: number;
  transition: MailTransition;
  at: Date;
  /** Extra context: the fullest disk, the failing stage and its message. Untrusted. */
  detail?: string;
}

export interface RenderedMail {
  subject: string;
  body: string;
  /** The subject without the `[fleetstat]` tag: one line for the summary of a grouped mail. */
  headline: string;
}

const ADVICE: Record<AlertType, string> = {
  memory:
    'Find the processes using the most memory (`ps aux --sort=-rss | head` or Task Manager); restart a leaking service or add memory.',
  cpu: 'Find what keeps the CPU busy (`top` or Task Manager) and whether it is expected; stop a runaway process or add capacity.',
  swap: 'The host is short of memory and paging: find the largest processes (`ps aux --sort=-rss | head`) and free memory or add RAM.',
  disk: 'Free space on the disk named above (old logs, caches, core dumps, package caches) or grow the volume before it fills.',
  load: 'More runnable processes than cores: check `top` / `vmstat 1` for CPU-bound or I/O-waiting processes.',
  unreachable:
    'Check that the host is up and reachable on its SSH port, and that the user, key or password and the known host key in the config still match.',
};

const LABEL: Record<MailTransition, string> = { firing: 'FIRING', reminder: 'STILL FIRING', resolved: 'RESOLVED' };

/** Renders the subject and plain-text body of one alert mail. */
export function renderAlertMail(input: AlertMailInput): RenderedMail {
  const host = describeHost(input.hostName, input.ip);
  const type = input.rule.type;
  const summary = summarize(input);
  const severity = input.rule.severity ?? 'warning';
  const headline = `${LABEL[input.transition]} [${severity}]: ${summary} on ${host}`;
  const subject = sanitizeSubject(`[fleetstat] ${headline}`);
  const mount = input.rule.mount === undefined ? '' : ` on mount ${oneLine(input.rule.mount, MAX_FIELD_CHARS)}`;

  const lines = [
    `${headline}.`,
    '',
    `Host:     ${oneLine(input.hostName, MAX_FIELD_CHARS)}`,
    `Address:  ${oneLine(input.ip, MAX_FIELD_CHARS)}`,
    `Rule:     ${type}${mount}${input.rule.line ? ` (config line ${input.rule.line})` : ''}`,
    `Severity: ${severity}`,
    `Value:    ${formatValue(type, input.value, input.limit)}`,
  ];
  if (type !== 'unreachable')
    lines.push(`Limit:    ${formatLimit(type, input.limit)} (alerts when the value is above it)`);
  if (type !== 'unreachable' && input.rule.clearLimit !== undefined) {
    lines.push(`Clears:   at or below ${formatLimit(type, input.rule.clearLimit)}`);
  }
  lines.push(`Time:     ${input.at.toISOString()} (UTC)`);
  if (input.detail) lines.push(`Detail:   ${oneLine(input.detail, 400)}`);
  lines.push('');
  if (input.transition === 'resolved') {
    lines.push('This is the all-clear: the value is back within its limit. Nothing to do.');
  } else {
    lines.push(`What to do: ${ADVICE[type]}`);
    lines.push('');
    lines.push(followUp(input.rule));
  }
  lines.push('', '-- ', 'fleetstat');
  return { subject, body: sanitizeBody(lines.join('\n')), headline: sanitizeSubject(headline) };
}

function describeHost(hostName: string, ip: string): string {
  const name = oneLine(hostName, 100);
  const address = oneLine(ip, 64);
  return name === address || name === '' ? address : `${name} (${address})`;
}

function summarize(input: AlertMailInput): string {
  const type = input.rule.type;
  if (type === 'unreachable') {
    return input.transition === 'resolved' ? 'host reachable again' : 'host unreachable';
  }
  const value = formatValue(type, input.value, input.limit);
  const resolvedAt = input.rule.clearLimit ?? input.limit;
  const comparison = input.transition === 'resolved' ? '<=' : '>';
  const against = input.transition === 'resolved' ? resolvedAt : input.limit;
  const what = input.rule.mount === undefined ? type : `${type} ${oneLine(input.rule.mount, 60)}`;
  return `${what} ${value} ${comparison} ${formatLimit(type, against)}`;
}

function followUp(rule: AlertMailInput['rule']): string {
  if (rule.notify === 'every-run')
    return 'You get this mail on every collection round while the value stays above the limit.';
  const repeat = rule.repeatSeconds;
  const reminder = repeat && repeat > 0 ? `a reminder every ${formatDuration(repeat)} while it lasts and ` : '';
  return `You will get ${reminder}one mail when it clears.`;
}

/** Formats a value with its unit, precise enough that it never looks equal to the limit when it is not. */
function formatValue(type: AlertType, value: number | null, limit: number): string {
  if (value === null) return 'unknown';
  if (type === 'unreachable') return value > 0 ? 'unreachable' : 'reachable';
  const unit = type === 'load' ? ' per core' : '%';
  let decimals = type === 'load' ? 2 : 1;
  let text = value.toFixed(decimals);
  while (decimals < 6 && value !== limit && Number(text) === limit) text = value.toFixed(++decimals);
  return `${text}${unit}`;
}

function formatLimit(type: AlertType, limit: number): string {
  return type === 'load' ? `${limit} per core` : `${limit}%`;
}

function formatDuration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
