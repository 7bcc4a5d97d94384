/**
 * The config value parsers (src/config/value-parsers.ts) called directly, at their edges: the
 * config tests reach them through whole files, which left mutants of the patterns, the bounds
 * and the messages alive (docs/mutation.md).
 */
import { describe, expect, it } from 'vitest';
import {
  parseBoolean,
  parseChoice,
  parseDuration,
  parseHost,
  parseHostList,
  parseInteger,
  parseLoadLimit,
  parseMailList,
  parseMilliseconds,
  parsePercent,
  parsePort,
  type Parsed,
} from '../src/config/value-parsers.js';

const value = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new Error(`expected a value, got: ${parsed.reason}`);
  return parsed.value;
};
const reason = <T>(parsed: Parsed<T>): string => {
  if (parsed.ok) throw new Error(`expected a failure, got ${JSON.stringify(parsed.value)}`);
  return parsed.reason;
};

describe('parsePercent', () => {
  it('reads whole and decimal percentages, with or without % and spaces', () => {
    expect(value(parsePercent('50%'))).toBe(50);
    expect(value(parsePercent(' 12.5 % '))).toBe(12.5);
    expect(value(parsePercent('0'))).toBe(0);
    expect(value(parsePercent('100%'))).toBe(100);
    expect(value(parsePercent('12.25%'))).toBe(12.25);
  });
  it('refuses over 100, signs, units and text around the number', () => {
    expect(reason(parsePercent('100.5%'))).toBe('is over 100%');
    for (const bad of ['-5%', 'x50%', '50%x', '50%%', '5.%', '.5', '']) {
      expect(reason(parsePercent(bad))).toBe('is not a percentage (like 50% or 12.5%)');
    }
  });
});

describe('parseLoadLimit', () => {
  it('reads a positive plain number', () => {
    expect(value(parseLoadLimit(' 4 '))).toBe(4);
    expect(value(parseLoadLimit('1.5'))).toBe(1.5);
  });
  it('says what is wrong: a percentage, not a number, or zero', () => {
    expect(reason(parseLoadLimit('50%'))).toBe(
      'is a percentage; a load limit is a plain number per core, like 4 or 1.5',
    );
    for (const bad of ['x4', '4x', '-1', '1.', '']) {
      expect(reason(parseLoadLimit(bad))).toBe('is not a positive number (load per core, like 4 or 1.5)');
    }
    expect(reason(parseLoadLimit('0'))).toBe('must be greater than 0');
    expect(reason(parseLoadLimit('0.0'))).toBe('must be greater than 0');
  });
});

describe('parseDuration', () => {
  it('reads every unit, a bare number as seconds', () => {
    expect(value(parseDuration('90'))).toBe(90);
    expect(value(parseDuration('90s'))).toBe(90);
    expect(value(parseDuration('5m'))).toBe(300);
    expect(value(parseDuration('4h'))).toBe(14_400);
    expect(value(parseDuration('1d'))).toBe(86_400);
    expect(value(parseDuration('500ms'))).toBe(0.5);
    expect(value(parseDuration(' 1.5m '))).toBe(90);
  });
  it('refuses unknown units and text around the duration', () => {
    for (const bad of ['5w', 'x5m', '5mx', '5 m', '-5s', '1.s', '']) {
      expect(reason(parseDuration(bad))).toBe('is not a duration (like 90, 90s, 5m, 4h or 1d)');
    }
  });
});

describe('parseMilliseconds', () => {
  it('reads a bare number as milliseconds, rounded, and units as durations', () => {
    expect(value(parseMilliseconds('1000'))).toBe(1000);
    expect(value(parseMilliseconds(' 1000 '))).toBe(1000);
    expect(value(parseMilliseconds('2.6'))).toBe(3);
    expect(value(parseMilliseconds('500ms'))).toBe(500);
    expect(value(parseMilliseconds(' 2s '))).toBe(2000);
    expect(value(parseMilliseconds('0.0015s'))).toBe(2);
  });
  it('refuses what is not a duration', () => {
    expect(reason(parseMilliseconds('soon'))).toBe('is not a duration in milliseconds (like 1000 or 500ms)');
    expect(reason(parseMilliseconds('1000x'))).toBe('is not a duration in milliseconds (like 1000 or 500ms)');
  });
});

describe('parseInteger and parsePort', () => {
  it('accepts the bounds themselves and refuses one past them', () => {
    expect(value(parseInteger(' 3 ', 3, 7))).toBe(3);
    expect(value(parseInteger('7', 3, 7))).toBe(7);
    expect(reason(parseInteger('2', 3, 7))).toBe('is not a whole number from 3 to 7');
    expect(reason(parseInteger('8', 3, 7))).toBe('is not a whole number from 3 to 7');
  });
  it('refuses decimals, signs and text around the number', () => {
    for (const bad of ['4.0', '-4', '+4', 'x4', '4x', ''])
      expect(reason(parseInteger(bad, 0, 9))).toBe('is not a whole number from 0 to 9');
  });
  it('reads ports 1 to 65535 and names a bad one as a port', () => {
    expect(value(parsePort('1'))).toBe(1);
    expect(value(parsePort('65535'))).toBe(65535);
    for (const bad of ['0', '65536', 'ssh'])
      expect(reason(parsePort(bad))).toBe('is not a port (a whole number from 1 to 65535)');
  });
});

describe('parseBoolean and parseChoice', () => {
  it('reads exactly true and false', () => {
    expect(value(parseBoolean(' true '))).toBe(true);
    expect(value(parseBoolean('false'))).toBe(false);
    for (const bad of ['TRUE', 'yes', '1', '']) expect(reason(parseBoolean(bad))).toBe('is not true or false');
  });
  it('reads one of the words, trimmed, and lists them when it is none', () => {
    expect(value(parseChoice(' b ', ['a', 'b']))).toBe('b');
    expect(reason(parseChoice('c', ['a', 'b']))).toBe('is not one of a, b');
  });
});

describe('parseHost', () => {
  it('accepts addresses and RFC 1123 names, trimmed', () => {
    expect(value(parseHost(' 10.0.0.5 '))).toBe('10.0.0.5');
    expect(value(parseHost('::1'))).toBe('::1');
    expect(value(parseHost('web-01.example.com'))).toBe('web-01.example.com');
    expect(value(parseHost('a'))).toBe('a');
    expect(value(parseHost('host.example.'))).toBe('host.example.');
    expect(value(parseHost('9host'))).toBe('9host');
    expect(value(parseHost(`${'a'.repeat(63)}.example`))).toBe(`${'a'.repeat(63)}.example`);
  });
  it('tells a bracketed IPv6 address apart from other bad names', () => {
    expect(reason(parseHost('[::1]'))).toBe('is an IPv6 address in brackets; write it without [ ]');
    expect(reason(parseHost('[10.0.0.1]'))).toBe('is not an IPv4 or IPv6 address or a host name');
    expect(reason(parseHost('[::1'))).toBe('is not an IPv4 or IPv6 address or a host name');
    expect(reason(parseHost('a::1]'))).toBe('is not an IPv4 or IPv6 address or a host name');
  });
  it('refuses a mistyped address, bad labels and over-long names', () => {
    const bad = 'is not an IPv4 or IPv6 address or a host name';
    expect(reason(parseHost('10.0.0.300'))).toBe(bad);
    expect(reason(parseHost('300'))).toBe(bad);
    expect(reason(parseHost('-web.example'))).toBe(bad);
    expect(reason(parseHost('web-.example'))).toBe(bad);
    expect(reason(parseHost('we_b.example'))).toBe(bad);
    expect(reason(parseHost('web..example'))).toBe(bad);
    expect(reason(parseHost(`${'a'.repeat(64)}.example`))).toBe(bad);
    const long = Array.from({ length: 26 }, () => 'abcdefghi').join('.'); // 259 characters
    expect(reason(parseHost(long))).toBe(bad);
    const justFits = `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`; // 253
    expect(justFits).toHaveLength(253);
    expect(value(parseHost(justFits))).toBe(justFits);
    expect(reason(parseHost(`${justFits}e`))).toBe(bad);
  });
});

describe('parseHostList', () => {
  it('splits on commas, skips empty parts, lower-cases and drops a trailing dot', () => {
    expect(value(parseHostList(' Web1.Example., ,10.0.0.1 '))).toEqual(['web1.example', '10.0.0.1']);
  });
  it('names the bad part and says when nothing is left', () => {
    expect(reason(parseHostList('web1, bad_host'))).toBe(
      'has "bad_host", which is not an IPv4 or IPv6 address or a host name',
    );
    expect(reason(parseHostList(' , '))).toBe('is empty (give host names separated by commas)');
  });
});

describe('parseMailList', () => {
  it('joins a list with ", " after trimming each address', () => {
    expect(value(parseMailList('ops@example.com'))).toBe('ops@example.com');
    expect(value(parseMailList(' a@x.org ,b.c+d@mail-1.example.com'))).toBe('a@x.org, b.c+d@mail-1.example.com');
  });
  it('refuses what is not an address, and an empty part', () => {
    for (const bad of [
      'ops',
      'ops@',
      '@example.com',
      'a b@x.org',
      'a@x.org,',
      'a@-x.org',
      'a@x.org-',
      'a@x_y.org',
      '<a@x.org>',
      'x a@x.org',
      'a@x.org y',
    ]) {
      expect(reason(parseMailList(bad))).toBe('is not a mail address (like ops@example.com)');
    }
  });
});
