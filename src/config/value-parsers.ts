/**
 * Parsers for attribute values. Each returns the parsed value or a reason; the caller adds
 * the file and line. Numbers are parsed into numbers here so nothing downstream ever compares
 * limits as strings ("9%" < "10%" must hold).
 */
import { isIP } from 'node:net';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

const DECIMAL = /^\d+(?:\.\d+)?$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** A percentage 0–100: "50%", "50", "12.5%". */
export function parsePercent(text: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  if (!match) return fail('is not a percentage (like 50% or 12.5%)');
  const value = Number(match[1]);
  if (value > 100) return fail('is over 100%');
  return ok(value);
}

/** A load average per core: a positive plain number such as "4" or "1.5". */
export function parseLoadLimit(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (trimmed.endsWith('%')) return fail('is a percentage; a load limit is a plain number per core, like 4 or 1.5');
  if (!DECIMAL.test(trimmed)) return fail('is not a positive number (load per core, like 4 or 1.5)');
  const value = Number(trimmed);
  if (value <= 0) return fail('must be greater than 0');
  return ok(value);
}

/** A duration in seconds: "90" (seconds), "90s", "5m", "4h", "1d"; also "500ms". */
export function parseDuration(text: string): Parsed<number> {
  const match = DURATION.exec(text.trim());
  if (!match) return fail('is not a duration (like 90, 90s, 5m, 4h or 1d)');
  return ok(Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1));
}

/** A duration in milliseconds where a bare number means milliseconds: "1000", "500ms", "2s". */
export function parseMilliseconds(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (DECIMAL.test(trimmed)) return ok(Math.round(Number(trimmed)));
  const seconds = parseDuration(trimmed);
  return seconds.ok
    ? ok(Math.round(seconds.value * 1000))
    : fail('is not a duration in milliseconds (like 1000 or 500ms)');
}

/** A whole number within [min, max]. */
export function parseInteger(text: string, min: number, max: number): Parsed<number> {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return fail(`is not a whole number from ${min} to ${max}`);
  const value = Number(trimmed);
  if (value < min || value > max) return fail(`is not a whole number from ${min} to ${max}`);
  return ok(value);
}

/** A TCP port, 1–65535. */
export function parsePort(text: string): Parsed<number> {
  const parsed = parseInteger(text, 1, 65535);
  return parsed.ok ? parsed : fail('is not a port (a whole number from 1 to 65535)');
}

/** "true" or "false". */
export function parseBoolean(text: string): Parsed<boolean> {
  const trimmed = text.trim();
  if (trimmed === 'true') return ok(true);
  if (trimmed === 'false') return ok(false);
  return fail('is not true or false');
}

/**
 * An IPv4 or IPv6 address, or a DNS host name (RFC 1123). A name whose last label is all
 * digits is refused, so a mistyped address such as 10.0.0.300 is never taken for a name.
 */
export function parseHost(text: string): Parsed<string> {
  const host = text.trim();
  if (isIP(host) !== 0) return ok(host);
  if (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6) {
    return fail('is an IPv6 address in brackets; write it without [ ]');
  }
  const labels = host.replace(/\.$/, '').split('.');
  const validLabels = labels.every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
  const lastLabel = labels[labels.length - 1] ?? '';
  if (host.length > 253 || !validLabels || /^\d+$/.test(lastLabel)) {
    return fail('is not an IPv4 or IPv6 address or a host name');
  }
  return ok(host);
}

/** A comma-separated list of host names or IP addresses (each as parseHost), lower-cased. */
export function parseHostList(text: string): Parsed<string[]> {
  const hosts: string[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const parsed = parseHost(part);
    if (!parsed.ok) return fail(`has "${part}", which ${parsed.reason}`);
    hosts.push(parsed.value.toLowerCase().replace(/\.$/, ''));
  }
  return hosts.length > 0 ? ok(hosts) : fail('is empty (give host names separated by commas)');
}

/** One mail address or a comma-separated list; a sanity check, not RFC 5322. */
export function parseMailList(text: string): Parsed<string> {
  const addresses = text.split(',').map((part) => part.trim());
  const valid = addresses.every((address) => /^[^\s@<>",;]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(address));
  if (!valid || addresses.length === 0) return fail('is not a mail address (like ops@example.com)');
  return ok(addresses.join(', '));
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(text: string, choices: readonly T[]): Parsed<T> {
  const trimmed = text.trim();
  const found = choices.find((choice) => choice === trimmed);
  return found !== undefined ? ok(found) : fail(`is not one of ${choices.join(', ')}`);
}
