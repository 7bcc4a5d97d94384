/**
 * Fuzzing the server's reading of probe replies (openEnvelope and the report schema) with
 * fast-check, seeded and bounded: whatever bytes arrive, it throws nothing but EnvelopeError;
 * it never accepts a tampered envelope or one sealed with other keys; and whatever JSON a probe
 * seals, it returns only reports the schema accepts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeError, newRunSecrets, openEnvelope, sealEnvelope, type RunSecrets } from '../src/probe/envelope.js';
import { reportSchema } from '../src/probe/report.js';
import { makeReport } from './support/report-factory.js';

const RUNS = { numRuns: 300, seed: 20261125 };

/** Runs openEnvelope; returns the report, or the EnvelopeError; anything else thrown fails the property. */
function open(reply: Buffer | string, secrets: RunSecrets): ReturnType<typeof openEnvelope> | EnvelopeError {
  try {
    return openEnvelope(reply, secrets);
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw new Error(`openEnvelope threw a ${(error as Error)?.name ?? typeof error}, not an EnvelopeError: ${String(error)}`, { cause: error });
  }
}

const secrets = newRunSecrets();
const validLine = sealEnvelope(makeReport(), secrets);

/** One edit of the envelope's text (its final newline kept): replace, delete or insert a printable character, or cut. */
const tamper = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.integer({ min: 0x21, max: 0x7e }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), char: fc.constant(0) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.integer({ min: 0x20, max: 0x7e }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), char: fc.constant(0) }),
);

function applyTamper(line: string, edit: { kind: string; at: number; char: number }): string {
  const body = line.slice(0, -1);
  const at = edit.at % body.length;
  const c = String.fromCharCode(edit.char);
  switch (edit.kind) {
    case 'replace': return `${body.slice(0, at)}${c === body[at] ? (c === 'a' ? 'b' : 'a') : c}${body.slice(at + 1)}\n`;
    case 'delete': return `${body.slice(0, at)}${body.slice(at + 1)}\n`;
    case 'insert': return `${body.slice(0, at)}${c}${body.slice(at)}\n`;
    default: return body.slice(0, at);
  }
}

describe('openEnvelope under fuzzing', () => {
  it('opens the untampered envelope (the baseline the other properties change)', () => {
    expect(open(validLine, secrets)).toEqual(makeReport());
  });

  it('throws only EnvelopeError for arbitrary bytes and text', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)), fc.string({ maxLength: 2000 })), (reply) => {
      expect(open(reply, secrets)).toBeInstanceOf(EnvelopeError);
    }), RUNS);
  });

  it('throws only EnvelopeError for envelope-shaped lines with random fields', () => {
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const base64 = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a).toString('base64'));
    fc.assert(fc.property(fc.constantFrom('FLEETSTAT1', 'FLEETSTAT2', 'fleetstat1'), fc.oneof(fc.constant(secrets.runId), hex(32)), base64, hex(64), (version, runId, ct, mac) => {
      expect(open(`${version} ${runId} ${ct} ${mac}\n`, secrets)).toBeInstanceOf(EnvelopeError);
    }), RUNS);
  });

  it('never accepts a tampered envelope', () => {
    fc.assert(fc.property(tamper, (edit) => {
      const result = open(applyTamper(validLine, edit), secrets);
      expect(result).toBeInstanceOf(EnvelopeError);
    }), RUNS);
  });

  it('never accepts an envelope sealed with other keys or for another run', () => {
    fc.assert(fc.property(fc.boolean(), fc.boolean(), (sameRunId, sameMacKey) => {
      const other = newRunSecrets();
      const sealedWith = { runId: sameRunId ? secrets.runId : other.runId, encPass: other.encPass, macKey: sameMacKey ? secrets.macKey : other.macKey };
      const result = open(sealEnvelope(makeReport(), sealedWith), secrets);
      expect(result).toBeInstanceOf(EnvelopeError);
      // A wrong enc-pass under a right MAC key gives random plaintext: its padding looks valid about
      // once in 256 tries, and then it is not UTF-8/JSON. Rejected either way.
      expect(['run-id', 'mac', 'decrypt', 'json']).toContain((result as EnvelopeError).reason);
    }), { ...RUNS, numRuns: 50 }); // fewer runs: every combination is still met
  });

  it('returns only schema-valid reports for whatever JSON a probe seals', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      const result = open(sealEnvelope(value, secrets), secrets);
      if (result instanceof EnvelopeError) expect(['json', 'schema']).toContain(result.reason);
      else expect(reportSchema.safeParse(result).success).toBe(true);
    }), RUNS);
  });

  it('accepts a mutated report only when the schema does, and rejects absurd values', () => {
    const base = makeReport() as unknown as Record<string, Record<string, unknown>>;
    const sections = Object.keys(base);
    const mutation = fc.record({
      section: fc.constantFrom(...sections),
      field: fc.string({ maxLength: 12 }),
      value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.double(), fc.integer({ min: -1e12, max: 1e12 }), fc.constant(500)),
    });
    fc.assert(fc.property(mutation, fc.boolean(), ({ section, field, value }, replaceSection) => {
      const report = structuredClone(base) as Record<string, unknown>;
      const target = report[section];
      if (replaceSection || typeof target !== 'object' || target === null || Array.isArray(target)) report[section] = value;
      else (target as Record<string, unknown>)[Object.keys(target)[field.length % Math.max(1, Object.keys(target).length)] ?? field] = value;
      const result = open(sealEnvelope(report, secrets), secrets);
      const verdict = reportSchema.safeParse(JSON.parse(JSON.stringify(report)));
      if (result instanceof EnvelopeError) {
        expect(verdict.success).toBe(false);
        expect(['schema', 'json']).toContain(result.reason);
      } else {
        expect(verdict.success).toBe(true);
        expect(result.memory.percent).toBeLessThanOrEqual(100);
        expect(result.cpu.percent).toBeGreaterThanOrEqual(0);
      }
    }), RUNS);
  });
});
