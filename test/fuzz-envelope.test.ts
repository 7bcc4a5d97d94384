/**
 * Fuzzing the server's reading of probe replies (openEnvelope and the report schema) with
 * fast-check, seeded and bounded: whatever bytes arrive, it throws nothing but EnvelopeError;
 * it never accepts a tampered envelope or one sealed with other keys; whatever JSON a probe
 * seals, it returns only reports the schema accepts; and a report drawn within the documented
 * bounds (test/support/report-arbitrary.ts) is accepted unless exactly one field, key, list or
 * rule was broken on purpose, which the error then names: the verdict comes from the generator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeError, newRunSecrets, openEnvelope, sealEnvelope, type RunSecrets } from '../src/probe/envelope.js';
import { reportSchema } from '../src/probe/report.js';
import { makeReport } from './support/report-factory.js';
import { everyBreak, reportCase } from './support/report-arbitrary.js';

const RUNS = { numRuns: 300, seed: 20261125 };

/** Runs openEnvelope; returns the report, or the EnvelopeError; anything else thrown fails the property. */
function open(reply: Buffer | string, secrets: RunSecrets): ReturnType<typeof openEnvelope> | EnvelopeError {
  try {
    return openEnvelope(reply, secrets);
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw new Error(
      `openEnvelope threw a ${(error as Error)?.name ?? typeof error}, not an EnvelopeError: ${String(error)}`,
      { cause: error },
    );
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
    case 'replace':
      return `${body.slice(0, at)}${c === body[at] ? (c === 'a' ? 'b' : 'a') : c}${body.slice(at + 1)}\n`;
    case 'delete':
      return `${body.slice(0, at)}${body.slice(at + 1)}\n`;
    case 'insert':
      return `${body.slice(0, at)}${c}${body.slice(at)}\n`;
    default:
      return body.slice(0, at);
  }
}

describe('openEnvelope under fuzzing', () => {
  it('opens the untampered envelope (the baseline the other properties change)', () => {
    expect(open(validLine, secrets)).toEqual(makeReport());
  });

  it('throws only EnvelopeError for arbitrary bytes and text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)),
          fc.string({ maxLength: 2000 }),
        ),
        (reply) => {
          expect(open(reply, secrets)).toBeInstanceOf(EnvelopeError);
        },
      ),
      RUNS,
    );
  });

  it('throws only EnvelopeError for envelope-shaped lines with random fields', () => {
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const base64 = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a).toString('base64'));
    fc.assert(
      fc.property(
        fc.constantFrom('FLEETSTAT1', 'FLEETSTAT2', 'fleetstat1'),
        fc.oneof(fc.constant(secrets.runId), hex(32)),
        base64,
        hex(64),
        (version, runId, ct, mac) => {
          expect(open(`${version} ${runId} ${ct} ${mac}\n`, secrets)).toBeInstanceOf(EnvelopeError);
        },
      ),
      RUNS,
    );
  });

  it('never accepts a tampered envelope', () => {
    fc.assert(
      fc.property(tamper, (edit) => {
        const result = open(applyTamper(validLine, edit), secrets);
        expect(result).toBeInstanceOf(EnvelopeError);
      }),
      RUNS,
    );
  });

  it('never accepts an envelope sealed with other keys or for another run', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), (sameRunId, sameMacKey) => {
        const other = newRunSecrets();
        const sealedWith = {
          runId: sameRunId ? secrets.runId : other.runId,
          encPass: other.encPass,
          macKey: sameMacKey ? secrets.macKey : other.macKey,
        };
        const result = open(sealEnvelope(makeReport(), sealedWith), secrets);
        expect(result).toBeInstanceOf(EnvelopeError);
        // A wrong enc-pass under a right MAC key gives random plaintext: its padding looks valid about
        // once in 256 tries, and then it is not UTF-8/JSON. Rejected either way.
        expect(['run-id', 'mac', 'decrypt', 'json']).toContain((result as EnvelopeError).reason);
      }),
      { ...RUNS, numRuns: 50 },
    ); // fewer runs: every combination is still met
  });

  it('returns only schema-valid reports for whatever JSON a probe seals', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = open(sealEnvelope(value, secrets), secrets);
        if (result instanceof EnvelopeError) expect(['json', 'schema']).toContain(result.reason);
        else expect(reportSchema.safeParse(result).success).toBe(true);
      }),
      RUNS,
    );
  });

  it('accepts a generated report exactly when no field of it was broken (verdict from the generator, not the schema)', () => {
    let valid = 0;
    fc.assert(
      fc.property(reportCase, ({ report, broken }) => {
        const sent = JSON.parse(JSON.stringify(report)) as unknown;
        const result = open(sealEnvelope(report, secrets), secrets);
        if (broken === undefined) {
          valid += 1;
          if (result instanceof EnvelopeError) throw new Error(`a valid report was refused: ${result.message}`);
          expect(result).toEqual(sent); // printable ASCII texts pass through unchanged
        } else {
          expect(result, `${broken.name} was accepted`).toBeInstanceOf(EnvelopeError);
          expect((result as EnvelopeError).reason).toBe('schema');
          expect((result as EnvelopeError).message).toMatch(broken.expect);
        }
      }),
      RUNS,
    );
    // A third of the cases are meant valid: the property is not met by refusing everything.
    expect(valid).toBeGreaterThanOrEqual(RUNS.numRuns / 5);
  });

  it('refuses each single broken field, key, list or rule of a valid report, naming it', () => {
    const cases = everyBreak(RUNS.seed);
    expect(cases.length).toBeGreaterThan(200);
    const missed: string[] = [];
    for (const { report, broken } of cases) {
      const result = open(sealEnvelope(report, secrets), secrets);
      if (!(result instanceof EnvelopeError)) missed.push(`${broken.name}: accepted`);
      else if (result.reason !== 'schema' || !broken.expect.test(result.message))
        missed.push(`${broken.name}: ${result.message}`);
    }
    expect(missed).toEqual([]);
  });
});
