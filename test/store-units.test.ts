import { describe, expect, it } from 'vitest';
import { insertBatches } from '../src/store/batches.js';
import { redactUrl } from '../src/store/store-error.js';
import { parseStoreUrl } from '../src/store/store-url.js';
import { parseReportTime } from '../src/store/timestamps.js';

describe('parseStoreUrl', () => {
  it.each([
    ['sqlite:fleetstat.sqlite', { dialect: 'sqlite', path: 'fleetstat.sqlite' }],
    ['sqlite:/var/lib/fleetstat/db.sqlite', { dialect: 'sqlite', path: '/var/lib/fleetstat/db.sqlite' }],
    ['sqlite:///var/lib/db.sqlite', { dialect: 'sqlite', path: '/var/lib/db.sqlite' }],
    ['sqlite::memory:', { dialect: 'sqlite', path: ':memory:' }],
    ['postgres://u@h/db', { dialect: 'postgres', connectionString: 'postgres://u@h/db' }],
    ['postgresql://u@h/db', { dialect: 'postgres', connectionString: 'postgresql://u@h/db' }],
    ['mysql://u@h/db', { dialect: 'mysql', uri: 'mysql://u@h/db' }],
    ['mariadb://u@h/db', { dialect: 'mysql', uri: 'mysql://u@h/db' }],
  ])('%s', (url, expected) => {
    expect(parseStoreUrl(url)).toEqual(expected);
  });

  it('names the accepted forms for anything else', () => {
    expect(() => parseStoreUrl('fleetstat.sqlite')).toThrow(/sqlite:path, postgres/);
    expect(() => parseStoreUrl('mssql://sa:pw@h/db')).toThrow(/mssql:\/\/sa:\*\*\*@h\/db/);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://fleet:s3cret@db:5432/fleet', 'postgres://fleet:***@db:5432/fleet'],
    ['mysql://root:p@ss:w0rd@db/fleet', 'mysql://root:***@db/fleet'],
    ['postgres://fleet@db/fleet?password=s3cret&ssl=1', 'postgres://fleet@db/fleet?password=***&ssl=1'],
    ['postgres://fleet@db/fleet', 'postgres://fleet@db/fleet'],
    ['sqlite:/var/lib/fleetstat.sqlite', 'sqlite:/var/lib/fleetstat.sqlite'],
  ])('%s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});

describe('parseReportTime', () => {
  it.each([
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01 10:00:00+02:00', '2024-05-01T08:00:00.000Z'],
    ['2024-05-01T10:00:00-0530', '2024-05-01T15:30:00.000Z'],
    ['2024-05-01T10:00', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['2024-02-29T23:59:59z', '2024-02-29T23:59:59.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(parseReportTime(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    'May 1 10:00',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-05-01T25:00:00Z',
    '2024-05-01T10:00:00+25:00',
    '1714557600',
  ])('rejects %j', (text) => {
    expect(parseReportTime(text)).toBeNull();
  });
});

describe('insertBatches', () => {
  it('keeps small inserts in one batch', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ a: i, b: 'x' }));
    expect(insertBatches(rows)).toEqual([rows]);
  });

  it('splits by bound parameters and by text size, keeping order', () => {
    const wide = Array.from({ length: 3000 }, (_, i) => ({
      a: i,
      b: i,
      c: i,
      d: i,
      e: i,
      f: i,
      g: i,
      h: i,
      i: i,
      j: i,
    }));
    const byParams = insertBatches(wide);
    expect(byParams.map((b) => b.length)).toEqual([1000, 1000, 1000]);
    expect(byParams.flat()).toEqual(wide);

    const big = Array.from({ length: 10 }, (_, i) => ({ id: i, text: 'é'.repeat(600_000) })); // 1.2 MB each in UTF-8
    const bySize = insertBatches(big);
    expect(bySize.every((b) => b.length <= 3)).toBe(true);
    expect(bySize.flat()).toEqual(big);
    expect(insertBatches([])).toEqual([]);
  });
});
