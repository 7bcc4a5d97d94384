/**
 * fast-check arbitraries for probe reports, written from docs/schema.md and docs/envelope.md
 * (report schema v1) without calling the schema under test: a valid report with every field
 * drawn within its documented bounds, or the same with exactly one field broken in a known way.
 * Whether a case is valid is known from how it was made, so a test can compare the server's
 * verdict with it.
 */
import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };
type Path = Array<string | number>;

/** What one field may hold (report schema v1). */
type Kind =
  | { k: 'text'; max: number }
  | { k: 'int'; min: number; max: number }
  | { k: 'num'; min: number; max: number; nullable?: boolean }
  | { k: 'bool' }
  | { k: 'enum'; values: Json[] };

const COUNT: Kind = { k: 'int', min: 0, max: Number.MAX_SAFE_INTEGER };
const PERCENT: Kind = { k: 'num', min: 0, max: 100 };
const text = (max: number): Kind => ({ k: 'text', max });
const LOAD: Kind = { k: 'num', min: 0, max: 1e6, nullable: true };

/** Every field of a report, by path; array items at index 0; `optional` fields may be absent. */
const FIELDS: Array<{ path: Path; kind: Kind; optional?: boolean }> = [
  { path: ['schema'], kind: { k: 'enum', values: [1] } },
  { path: ['probe'], kind: { k: 'enum', values: ['sh', 'ps1'] } },
  { path: ['collected_at'], kind: text(40) },
  ...(['hostname', 'os', 'os_name', 'kernel', 'arch'] as const).map((f, i) => ({
    path: ['host', f],
    kind: text([255, 64, 256, 256, 32][i]!),
  })),
  { path: ['cpu', 'percent'], kind: PERCENT },
  { path: ['cpu', 'cores'], kind: { k: 'int', min: 1, max: 65536 } },
  { path: ['cpu', 'interval_ms'], kind: { k: 'int', min: 0, max: 600_000 } },
  ...(['load1', 'load5', 'load15'] as const).map((f) => ({ path: ['cpu', f], kind: LOAD })),
  ...(['total_bytes', 'used_bytes', 'available_bytes'] as const).map((f) => ({ path: ['memory', f], kind: COUNT })),
  { path: ['memory', 'percent'], kind: PERCENT },
  ...(['total_bytes', 'used_bytes'] as const).map((f) => ({ path: ['swap', f], kind: COUNT })),
  { path: ['swap', 'percent'], kind: PERCENT },
  { path: ['uptime_seconds'], kind: COUNT },
  { path: ['boot_time'], kind: text(40) },
  { path: ['process_count'], kind: COUNT },
  { path: ['disks', 0, 'mount'], kind: text(512) },
  { path: ['disks', 0, 'fs'], kind: text(64) },
  { path: ['disks', 0, 'device'], kind: text(512) },
  ...(['size_bytes', 'used_bytes', 'avail_bytes'] as const).map((f) => ({ path: ['disks', 0, f], kind: COUNT })),
  { path: ['disks', 0, 'used_percent'], kind: PERCENT },
  { path: ['nics', 0, 'name'], kind: text(64) },
  ...(['rx_bytes', 'tx_bytes', 'rx_packets', 'tx_packets', 'rx_errors', 'tx_errors'] as const).map((f) => ({
    path: ['nics', 0, f],
    kind: COUNT,
  })),
  ...(['name', 'tty', 'from', 'login_at'] as const).map((f, i) => ({
    path: ['users', 0, f],
    kind: text([64, 64, 256, 40][i]!),
  })),
  { path: ['events', 'readable'], kind: { k: 'bool' } },
  { path: ['events', 'truncated'], kind: { k: 'bool' } },
  { path: ['events', 'note'], kind: text(512) },
  { path: ['events', 'items', 0, 'record_id'], kind: COUNT },
  { path: ['events', 'items', 0, 'event_id'], kind: { k: 'int', min: 0, max: 0xffffffff } },
  { path: ['events', 'items', 0, 'level'], kind: text(32) },
  { path: ['events', 'items', 0, 'provider'], kind: text(256) },
  { path: ['events', 'items', 0, 'logged_at'], kind: text(40) },
  { path: ['events', 'items', 0, 'message'], kind: text(8192) },
  { path: ['events', 'items', 0, 'raw'], kind: text(32768), optional: true },
  { path: ['warnings', 0], kind: text(512) },
];

/** The objects that take no other keys, and the arrays with their most items. */
const OBJECTS: Path[] = [
  [],
  ['host'],
  ['cpu'],
  ['memory'],
  ['swap'],
  ['events'],
  ['disks', 0],
  ['nics', 0],
  ['users', 0],
  ['events', 'items', 0],
];
const ARRAYS: Array<{ path: Path; max: number }> = [
  { path: ['disks'], max: 512 },
  { path: ['nics'], max: 512 },
  { path: ['users'], max: 1024 },
  { path: ['warnings'], max: 64 },
];

/** A valid value of `kind`: bounds, values near them, and values between. */
function valid(kind: Kind): fc.Arbitrary<Json> {
  switch (kind.k) {
    case 'text':
      return fc.oneof(fc.string({ maxLength: Math.min(kind.max, 24) }), fc.constant('y'.repeat(kind.max)));
    case 'int':
      return fc.oneof(fc.constantFrom(kind.min, kind.max), fc.integer({ min: kind.min, max: kind.max }));
    case 'num': {
      const inRange = fc.oneof(
        fc.constantFrom(kind.min, kind.max),
        fc.double({ min: kind.min, max: kind.max, noNaN: true }),
      );
      return kind.nullable ? fc.oneof(inRange, fc.constant(null)) : inRange;
    }
    case 'bool':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...kind.values);
  }
}

/** Values `kind` must refuse, each with what makes it wrong. */
function invalid(kind: Kind): Array<[string, Json]> {
  switch (kind.k) {
    case 'text':
      return [
        ['one character too long', 'x'.repeat(kind.max + 1)],
        ['a number', 42],
        ['null', null],
      ];
    case 'int':
      return [
        ['below the minimum', kind.min - 1],
        ['above the maximum', kind.max === Number.MAX_SAFE_INTEGER ? 2 ** 53 + 2 : kind.max + 1],
        ['a fraction', kind.min + 0.5],
        ['a numeric string', String(kind.min)],
        ['null', null],
      ];
    case 'num':
      return [
        ['below the minimum', kind.min - 0.5],
        ['above the maximum', kind.max + 0.5],
        ['a string', 'x'],
        ...(kind.nullable ? [] : [['null', null] as [string, Json]]),
      ];
    case 'bool':
      return [
        ['a string', 'true'],
        ['a number', 0],
        ['null', null],
      ];
    case 'enum':
      return [
        ['another value', 2],
        ['another string', 'bat'],
      ];
  }
}

/** An object of the fields under `prefix` (their paths without it), each drawn valid. */
function section(prefix: Path, skipOptional = false): fc.Arbitrary<Obj> {
  const own = FIELDS.filter((f) => f.path.length === prefix.length + 1 && prefix.every((p, i) => f.path[i] === p));
  const model: Record<string, fc.Arbitrary<Json>> = {};
  for (const f of own) model[String(f.path.at(-1))] = valid(f.kind);
  const optional = own.filter((f) => f.optional).map((f) => String(f.path.at(-1)));
  return fc.record(model, { requiredKeys: Object.keys(model).filter((k) => skipOptional || !optional.includes(k)) });
}

/** `used` no more than `total` (the schema's two cross-field rules). */
const usage = (prefix: 'memory' | 'swap') =>
  section([prefix]).chain((s) =>
    fc.integer({ min: 0, max: Number(s.total_bytes) }).map((used) => ({ ...s, used_bytes: used })),
  );

interface Spares {
  disk: Obj;
  nic: Obj;
  user: Obj;
  item: Obj;
  warning: Json;
}

/** A valid report (schema v1): every field within its bounds, 0 to 3 items per list; and spare list items. */
const drawn: fc.Arbitrary<{ report: Obj; spare: Spares }> = fc
  .record({
    top: section([]),
    host: section(['host']),
    cpu: section(['cpu']),
    memory: usage('memory'),
    swap: usage('swap'),
    disks: fc.array(section(['disks', 0]), { maxLength: 3 }),
    nics: fc.array(section(['nics', 0]), { maxLength: 3 }),
    users: fc.array(section(['users', 0]), { maxLength: 3 }),
    events: section(['events']),
    items: fc.array(section(['events', 'items', 0]), { maxLength: 3 }),
    warnings: fc.array(valid(text(512)), { maxLength: 3 }),
    // Complete items, for a break that needs a list to hold one.
    spare: fc.record({
      disk: section(['disks', 0]),
      nic: section(['nics', 0]),
      user: section(['users', 0]),
      item: section(['events', 'items', 0], true),
      warning: valid(text(512)),
    }),
  })
  .map(({ top, host, cpu, memory, swap, disks, nics, users, events, items, warnings, spare }) => ({
    report: { ...top, host, cpu, memory, swap, disks, nics, users, events: { ...events, items }, warnings },
    spare,
  }));

/** How a case was broken: `expect` matches the issue the server must name for it. */
export interface Breakage {
  name: string;
  expect: RegExp;
}

const show = (path: Path) => (path.length ? path.join('.') : '(root)');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The server's message lists issues as "path: message" after "v1: " or "; ". */
const issueAt = (path: Path, what = '') => new RegExp(`(v1: |; )${escape(show(path))}: ${what}`);

/** The list at `path` and the spare item it takes. */
function listAt(report: Obj, path: Path, spare: Spares): { list: Json[]; item: Json } {
  const list = (path[0] === 'events' ? (report.events as Obj).items : report[path[0] as string]) as Json[];
  const key = String(path[0] === 'events' ? 'items' : path[0]);
  const item = { disks: spare.disk, nics: spare.nic, users: spare.user, items: spare.item, warnings: spare.warning }[
    key
  ]!;
  return { list, item };
}

/** The object holding the last step of `path`; an empty list on the way first gets a spare item. */
function parentOf(report: Obj, path: Path, spare: Spares): Obj {
  let node: Json = report;
  path.slice(0, -1).forEach((step, i) => {
    if (Array.isArray(node) && node.length === 0)
      node.push(structuredClone(listAt(report, path.slice(0, i), spare).item));
    node = (node as Record<string | number, Json>)[step]!;
  });
  return node;
}

/** Every single break that applies to a report: one field, one key, one list or one cross-field rule. */
const BREAKS: Array<{ name: string; apply: (r: Obj, spare: Spares) => void; expect: RegExp }> = [
  ...FIELDS.flatMap((f) => [
    ...invalid(f.kind).map(([what, value]) => ({
      name: `${show(f.path)}: ${what}`,
      apply: (r: Obj, spare: Spares) => {
        (parentOf(r, f.path, spare) as Record<string | number, Json>)[f.path.at(-1)!] = value;
      },
      expect: issueAt(f.path),
    })),
    ...(f.optional
      ? []
      : [
          {
            name: `${show(f.path)}: missing`,
            apply: (r: Obj, spare: Spares) => {
              delete (parentOf(r, f.path, spare) as Record<string | number, Json>)[f.path.at(-1)!];
            },
            expect: issueAt(f.path),
          },
        ]),
  ]).filter((b) => !b.name.startsWith('warnings.0: missing')), // a list item is not a key
  ...OBJECTS.map((path) => ({
    name: `${show(path)}: an unknown key`,
    apply: (r: Obj, spare: Spares) => {
      parentOf(r, [...path, 'extra_key'], spare).extra_key = 1;
    },
    expect: new RegExp(`${escape(show(path))}: Unrecognized key: "extra_key"`),
  })),
  ...ARRAYS.map(({ path, max }) => ({
    name: `${show(path)}: ${max + 1} items`,
    apply: (r: Obj, spare: Spares) => {
      const { list, item } = listAt(r, path, spare);
      while (list.length <= max) list.push(structuredClone(item));
    },
    expect: issueAt(path),
  })),
  ...(['host', 'cpu', 'memory', 'events'] as const).map((key) => ({
    name: `${key}: a list`,
    apply: (r: Obj) => {
      r[key] = [];
    },
    expect: issueAt([key]),
  })),
  ...(['disks', 'warnings'] as const).map((key) => ({
    name: `${key}: an object`,
    apply: (r: Obj) => {
      r[key] = {};
    },
    expect: issueAt([key]),
  })),
  ...(['memory', 'swap'] as const).map((key) => ({
    name: `${key}.used_bytes above total_bytes`,
    apply: (r: Obj) => {
      const s = r[key] as Obj;
      s.total_bytes = Math.min(Number(s.total_bytes), Number.MAX_SAFE_INTEGER - 1);
      s.used_bytes = Number(s.total_bytes) + 1;
    },
    expect: issueAt([], escape(`${key}.used_bytes exceeds ${key}.total_bytes`)),
  })),
];

function breakOne(d: { report: Obj; spare: Spares }, b: (typeof BREAKS)[number]): { report: Obj; broken: Breakage } {
  // A copy: fast-check may hand the drawn values out again while shrinking.
  const report = structuredClone(d.report);
  b.apply(report, structuredClone(d.spare));
  return { report, broken: { name: b.name, expect: b.expect } };
}

/** Every break once, each applied to its own drawn valid report (seeded): no break left to chance. */
export function everyBreak(seed: number): Array<{ report: Obj; broken: Breakage }> {
  const bases = fc.sample(drawn, { numRuns: BREAKS.length, seed });
  return BREAKS.map((b, i) => breakOne(bases[i]!, b));
}

/** One case: a valid report (`broken` undefined), or one with exactly one break; about a third valid. */
export const reportCase: fc.Arbitrary<{ report: Obj; broken?: Breakage }> = fc.oneof(
  { arbitrary: drawn.map(({ report }) => ({ report })), weight: 1 },
  {
    arbitrary: fc.tuple(drawn, fc.nat({ max: BREAKS.length - 1 })).map(([d, i]) => breakOne(d, BREAKS[i]!)),
    weight: 2,
  },
);
