/**
 * Many machines in one attribute: `ip="a, b, c"`, an IPv4 range `10.0.1.10-10.0.1.50` (or
 * `10.0.1.10-50`), a CIDR block `10.0.2.0/26`, and host-list files (one address or name per
 * line, `#` comments). Each address becomes its own client.
 */
import { isIPv4 } from 'node:net';
import { parseHost, type Parsed } from './value-parsers.js';

/** Most addresses one attribute may expand to: a /22. Past it, a typo like /8 would mean 16 million clients. */
export const MAX_ADDRESSES_PER_ATTRIBUTE = 1024;
/** Most hosts one host-list file may hold. */
export const MAX_HOSTS_PER_FILE = 10_000;

const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

/** True when an `ip` value names more than one machine (a list, a range or a CIDR block). */
export function isMultiAddress(text: string): boolean {
  return text.includes(',') || text.includes('/') || /^\s*\d+\.\d+\.\d+\.\d+\s*-\s*\d/.test(text);
}

/** Expands an `ip` value into addresses and names, in the order written; refuses repeats and oversize blocks. */
export function expandAddresses(text: string): Parsed<string[]> {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) return fail('has an empty entry (addresses are separated by single commas)');
  const out: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const expanded = expandItem(item);
    if (!expanded.ok) return items.length > 1 ? fail(`has "${item}", which ${expanded.reason}`) : expanded;
    for (const host of expanded.value) {
      const key = host.toLowerCase();
      if (seen.has(key)) return fail(`lists ${host} twice`);
      seen.add(key);
      out.push(host);
    }
    if (out.length > MAX_ADDRESSES_PER_ATTRIBUTE) return fail(tooMany(out.length));
  }
  return { ok: true, value: out };
}

function tooMany(count: number): string {
  return `covers ${count.toLocaleString('en')} addresses; one attribute may give at most ${MAX_ADDRESSES_PER_ATTRIBUTE} (a /22): split it, or list the hosts in a hosts-file`;
}

function expandItem(item: string): Parsed<string[]> {
  if (item.includes('/')) return expandCidr(item);
  const range = /^(\d+\.\d+\.\d+\.\d+)\s*-\s*(\d+(?:\.\d+\.\d+\.\d+)?)$/.exec(item);
  if (range) return expandRange(range[1]!, range[2]!);
  const host = parseHost(item);
  return host.ok ? { ok: true, value: [host.value] } : fail(host.reason);
}

function expandRange(first: string, lastText: string): Parsed<string[]> {
  if (!isIPv4(first)) return fail(`is not a range: ${first} is not an IPv4 address`);
  // `10.0.1.10-50` is short for `10.0.1.10-10.0.1.50`.
  const last = lastText.includes('.') ? lastText : `${first.split('.').slice(0, 3).join('.')}.${lastText}`;
  if (!isIPv4(last)) return fail(`is not a range: ${last} is not an IPv4 address`);
  const from = toNumber(first);
  const to = toNumber(last);
  if (to < from) return fail(`is a range that ends (${last}) before it starts (${first})`);
  const count = to - from + 1;
  if (count > MAX_ADDRESSES_PER_ATTRIBUTE) return fail(tooMany(count));
  return { ok: true, value: Array.from({ length: count }, (_, i) => toAddress(from + i)) };
}

function expandCidr(item: string): Parsed<string[]> {
  const [base = '', prefixText = ''] = item.split('/');
  if (!isIPv4(base))
    return fail(
      base.includes(':')
        ? 'is an IPv6 block; only IPv4 blocks can be expanded (list IPv6 hosts one by one)'
        : `is not a CIDR block: ${base} is not an IPv4 address`,
    );
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) return fail('is not a CIDR block (like 10.0.2.0/26)');
  const prefix = Number(prefixText);
  const size = 2 ** (32 - prefix);
  if (size > MAX_ADDRESSES_PER_ATTRIBUTE) return fail(tooMany(size));
  const network = toNumber(base) - (toNumber(base) % size);
  if (network !== toNumber(base))
    return fail(
      `is not a CIDR block: ${base} is not the start of a /${prefix} (did you mean ${toAddress(network)}/${prefix}?)`,
    );
  // The network and broadcast addresses are no machines, except in /31 and /32.
  const skip = prefix <= 30 ? 1 : 0;
  return { ok: true, value: Array.from({ length: size - 2 * skip }, (_, i) => toAddress(network + skip + i)) };
}

function toNumber(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** One entry of a host-list file: the host and its 1-based line. */
export interface HostListEntry {
  host: string;
  line: number;
}

/** A problem on one line of a host-list file. */
export interface HostListProblem {
  line: number;
  message: string;
}

/**
 * Parses a host-list file: one address or name per line; `#` starts a comment; blank lines are
 * skipped. Ranges and CIDR blocks work on a line too. Every bad line is reported, not just the first.
 */
export function parseHostList(text: string): { hosts: HostListEntry[]; problems: HostListProblem[] } {
  const hosts: HostListEntry[] = [];
  const problems: HostListProblem[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const entry = raw.replace(/#.*$/, '').trim();
    if (entry === '') return;
    const expanded = isMultiAddress(entry) ? expandAddresses(entry) : wrap(parseHost(entry));
    if (!expanded.ok) {
      problems.push({ line, message: `host "${entry}" ${expanded.reason}` });
      return;
    }
    for (const host of expanded.value) {
      const first = seen.get(host.toLowerCase());
      if (first !== undefined) {
        problems.push({ line, message: `host ${host} is listed twice (lines ${first} and ${line})` });
        continue;
      }
      seen.set(host.toLowerCase(), line);
      hosts.push({ host, line });
    }
  });
  if (hosts.length > MAX_HOSTS_PER_FILE) {
    problems.push({
      line: 0,
      message: `lists ${hosts.length} hosts; at most ${MAX_HOSTS_PER_FILE} per file (split it into several files)`,
    });
  }
  return { hosts, problems };
}

function wrap(parsed: Parsed<string>): Parsed<string[]> {
  return parsed.ok ? { ok: true, value: [parsed.value] } : parsed;
}
