import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EnvelopeError,
  MAX_REPLY_BYTES,
  newRunSecrets,
  openEnvelope,
  probeInputLine,
  sealEnvelope,
  type EnvelopeFailure,
  type RunSecrets,
} from '../src/probe/envelope.js';
import { checkJsonDepth } from '../src/probe/json-depth.js';

/** A schema-valid report (made by hand, as a probe would). */
function sampleReport(): Record<string, unknown> {
  return {
    schema: 1,
    probe: 'sh',
    collected_at: '2024-03-05T08:00:00Z',
    host: { hostname: 'web1', os: 'linux', os_name: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0', arch: 'x86_64' },
    cpu: { percent: 12.5, cores: 4, interval_ms: 1000, load1: 0.5, load5: 0.4, load15: 0.3 },
    memory: { total_bytes: 8e9, used_bytes: 2e9, available_bytes: 6e9, percent: 25 },
    swap: { total_bytes: 0, used_bytes: 0, percent: 0 },
    uptime_seconds: 3600,
    boot_time: '2024-03-05T07:00:00Z',
    process_count: 120,
    disks: [
      {
        mount: '/',
        fs: 'ext4',
        device: '/dev/sda1',
        size_bytes: 1e10,
        used_bytes: 5e9,
        avail_bytes: 5e9,
        used_percent: 50,
      },
    ],
    nics: [{ name: 'eth0', rx_bytes: 1, tx_bytes: 2, rx_packets: 3, tx_packets: 4, rx_errors: 0, tx_errors: 0 }],
    users: [],
    events: { readable: false, truncated: false, note: 'not root', items: [] },
    warnings: [],
  };
}

/** Seals arbitrary plaintext bytes with the envelope's real crypto (to wrap bad JSON validly). */
function sealBytes(plain: Buffer, s: RunSecrets): string {
  const salt = randomBytes(8);
  const m = pbkdf2Sync(Buffer.from(s.encPass, 'ascii'), salt, 1000, 48, 'sha256');
  const c = createCipheriv('aes-256-cbc', m.subarray(0, 32), m.subarray(32, 48));
  const b64 = Buffer.concat([Buffer.from('Salted__'), salt, c.update(plain), c.final()]).toString('base64');
  const mac = createHmac('sha256', Buffer.from(s.macKey, 'hex')).update(`FLEETSTAT1 ${s.runId} ${b64}`).digest('hex');
  return `FLEETSTAT1 ${s.runId} ${b64} ${mac}\n`;
}

function reasonOf(fn: () => unknown): EnvelopeFailure | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    if (!(err instanceof EnvelopeError)) throw err; // anything else is a crash
    return err.reason;
  }
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('run secrets and the input line', () => {
  it('makes fresh hex secrets of the documented sizes', () => {
    const a = newRunSecrets();
    const b = newRunSecrets();
    expect(a.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.encPass).toMatch(/^[0-9a-f]{64}$/);
    expect(a.macKey).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set([a.runId, a.encPass, a.macKey, b.runId, b.encPass, b.macKey]).size).toBe(6);
  });

  it('writes the seven documented fields and rejects out-of-range options', () => {
    const s = newRunSecrets();
    const line = probeInputLine(s, { cpuMs: 1000, eventCap: 100, lastRecordId: 42 });
    expect(line).toBe(`FLEETSTAT1 ${s.runId} ${s.encPass} ${s.macKey} 1000 100 42\n`);
    expect(() => probeInputLine(s, { cpuMs: 60_001, eventCap: 1, lastRecordId: 0 })).toThrow(RangeError);
    expect(() => probeInputLine(s, { cpuMs: 1, eventCap: 5001, lastRecordId: 0 })).toThrow(RangeError);
    expect(() => probeInputLine(s, { cpuMs: 1, eventCap: 1, lastRecordId: -1 })).toThrow(RangeError);
    expect(() => probeInputLine(s, { cpuMs: 1.5, eventCap: 1, lastRecordId: 0 })).toThrow(RangeError);
    expect(() => probeInputLine({ ...s, encPass: 'x y' }, { cpuMs: 1, eventCap: 1, lastRecordId: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('sealEnvelope -> openEnvelope', () => {
  it('round-trips a report, as a Buffer and as a string, with \\n or \\r\\n', () => {
    const s = newRunSecrets();
    const line = sealEnvelope(sampleReport(), s);
    expect(line).toMatch(/^FLEETSTAT1 [0-9a-f]{32} [A-Za-z0-9+/]+=* [0-9a-f]{64}\n$/);
    expect(openEnvelope(Buffer.from(line), s)).toEqual(sampleReport());
    expect(openEnvelope(line.replace('\n', '\r\n'), s).host.hostname).toBe('web1');
  });

  it('is reproducible with a fixed salt (test vectors) and random otherwise', () => {
    const s = newRunSecrets();
    const salt = Buffer.from('0011223344556677', 'hex');
    expect(sealEnvelope(sampleReport(), s, { salt })).toBe(sealEnvelope(sampleReport(), s, { salt }));
    expect(sealEnvelope(sampleReport(), s)).not.toBe(sealEnvelope(sampleReport(), s));
  });
});

describe('openEnvelope rejects, with the right reason and never crashing', () => {
  const s = newRunSecrets();
  const good = sealEnvelope(sampleReport(), s).trimEnd();
  const [, , ct, mac] = good.split(' ') as [string, string, string, string];

  it('a tampered ciphertext (mac)', () => {
    const i = 30;
    const flipped = ct.slice(0, i) + (ct[i] === 'A' ? 'B' : 'A') + ct.slice(i + 1);
    expect(reasonOf(() => openEnvelope(`FLEETSTAT1 ${s.runId} ${flipped} ${mac}`, s))).toBe('mac');
  });

  it('a tampered MAC (mac)', () => {
    const bad = (mac[0] === '0' ? '1' : '0') + mac.slice(1);
    expect(reasonOf(() => openEnvelope(`FLEETSTAT1 ${s.runId} ${ct} ${bad}`, s))).toBe('mac');
  });

  it('another key (mac) and a valid MAC over a wrong password (decrypt)', () => {
    expect(reasonOf(() => openEnvelope(good, { ...s, macKey: newRunSecrets().macKey }))).toBe('mac');
    const other = { ...s, encPass: newRunSecrets().encPass };
    expect(reasonOf(() => openEnvelope(sealEnvelope(sampleReport(), other), s))).toBe('decrypt');
  });

  it('a wrong run id, even with a MAC valid for it (run-id)', () => {
    const foreign = { ...s, runId: newRunSecrets().runId };
    expect(reasonOf(() => openEnvelope(sealEnvelope(sampleReport(), foreign), s))).toBe('run-id');
  });

  it('a wrong version (version)', () => {
    expect(reasonOf(() => openEnvelope(good.replace('FLEETSTAT1', 'FLEETSTAT2'), s))).toBe('version');
  });

  it('truncated replies (format or mac)', () => {
    expect(reasonOf(() => openEnvelope('', s))).toBe('format');
    expect(reasonOf(() => openEnvelope(good.slice(0, 50), s))).toBe('format');
    expect(reasonOf(() => openEnvelope(good.slice(0, good.length - 10), s))).toBe('format');
    // Cut inside the base64 at a 4-char boundary: well-formed, but the MAC no longer matches.
    const cut = ct.slice(0, ct.length - 8);
    expect(reasonOf(() => openEnvelope(`FLEETSTAT1 ${s.runId} ${cut} ${mac}`, s))).toBe('mac');
  });

  it('a 50 MB reply (oversize) without reading it as text', () => {
    const huge = Buffer.alloc(50 * 1024 * 1024, 0x41);
    expect(reasonOf(() => openEnvelope(huge, s))).toBe('oversize');
    expect(reasonOf(() => openEnvelope(Buffer.alloc(MAX_REPLY_BYTES, 0x41), s))).toBe('format');
  });

  it('garbage, non-UTF-8 and multi-line replies (format)', () => {
    expect(reasonOf(() => openEnvelope(randomBytes(4096), s))).toBe('format');
    expect(reasonOf(() => openEnvelope(Buffer.from([0xff, 0xfe, 0x00, 0x80]), s))).toBe('format');
    expect(reasonOf(() => openEnvelope(`${good}\n${good}\n`, s))).toBe('format');
    expect(reasonOf(() => openEnvelope(`ssh: post-quantum warning\n${good}\n`, s))).toBe('format');
    expect(reasonOf(() => openEnvelope(`FLEETSTAT1 ${s.runId} ${ct} ${mac} extra`, s))).toBe('format');
    expect(reasonOf(() => openEnvelope(`FLEETSTAT1 ${s.runId} ${ct}!! ${mac}`, s))).toBe('format');
    expect(reasonOf(() => openEnvelope(`FLEETSTAT1 ${s.runId} ${ct} ${mac.toUpperCase()}`, s))).toBe('format');
  });

  it('valid envelopes around bad plaintext: invalid JSON, non-UTF-8, too deep (json)', () => {
    expect(reasonOf(() => openEnvelope(sealBytes(Buffer.from('{"schema":1,'), s), s))).toBe('json');
    expect(reasonOf(() => openEnvelope(sealBytes(Buffer.from([0x22, 0xc3, 0x28, 0x22]), s), s))).toBe('json');
    const deep = '['.repeat(17) + ']'.repeat(17);
    expect(reasonOf(() => openEnvelope(sealBytes(Buffer.from(deep), s), s))).toBe('json');
    const veryDeep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    expect(reasonOf(() => openEnvelope(sealBytes(Buffer.from(veryDeep), s), s))).toBe('json');
  });

  it('a report over 4 MiB (oversize)', () => {
    const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) }));
    expect(reasonOf(() => openEnvelope(sealBytes(big, s), s))).toBe('oversize');
  });

  it('schema violations (schema), naming the path', () => {
    const cases: Array<[string, (r: any) => void]> = [
      [
        'memory.percent',
        (r) => {
          r.memory.percent = 500;
        },
      ],
      [
        'cpu.percent',
        (r) => {
          r.cpu.percent = -1;
        },
      ],
      [
        'uptime_seconds',
        (r) => {
          r.uptime_seconds = -5;
        },
      ],
      [
        'disks.0.size_bytes',
        (r) => {
          r.disks[0].size_bytes = 1.5;
        },
      ],
      [
        'schema',
        (r) => {
          r.schema = 2;
        },
      ],
      [
        'memory.used_bytes exceeds',
        (r) => {
          r.memory.used_bytes = 9e9;
        },
      ],
      [
        '(root)',
        (r) => {
          r.extra = 'x';
        },
      ],
      [
        'host.hostname',
        (r) => {
          r.host.hostname = 'h'.repeat(300);
        },
      ],
    ];
    for (const [path, mutate] of cases) {
      const r = sampleReport();
      mutate(r);
      const env = sealEnvelope(r, s);
      expect(
        reasonOf(() => openEnvelope(env, s)),
        path,
      ).toBe('schema');
      expect(messageOf(() => openEnvelope(env, s))).toContain(path);
    }
  });

  it('never puts the secrets into an error message', () => {
    const attempts = [
      () => openEnvelope(sealEnvelope(sampleReport(), { ...s, encPass: newRunSecrets().encPass }), s),
      () => openEnvelope(`FLEETSTAT1 ${s.runId} ${ct} ${s.macKey}`, s),
      () => openEnvelope(`FLEETSTAT1 ${s.encPass} ${ct} ${mac}`, s),
      () => openEnvelope(sealBytes(Buffer.from(`{"k":"${s.encPass}${s.macKey}"`), s), s),
    ];
    for (const attempt of attempts) {
      const msg = messageOf(attempt);
      expect(msg.length).toBeGreaterThan(0);
      expect(msg).not.toContain(s.encPass);
      expect(msg).not.toContain(s.macKey);
    }
  });
});

describe('checkJsonDepth', () => {
  it('counts only brackets outside strings', () => {
    expect(checkJsonDepth('{"a":"[[[[[[[[[[[[[[[[[[[[\\"[[["}', 2)).toBeUndefined();
    expect(checkJsonDepth('[[[]]]', 2)).toBe(2);
    expect(checkJsonDepth('[[],[],[[]]]', 3)).toBeUndefined();
  });
});
