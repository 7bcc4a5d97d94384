/**
 * The envelope's checks (src/probe/envelope.ts) at their exact edges and with their exact
 * messages: each limit one byte either side, each field pattern, the order of the checks, both
 * key derivations. envelope.test.ts proves the reasons; mutants of the bounds, patterns and
 * messages survived it (docs/mutation.md).
 */
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EnvelopeError,
  MAX_JSON_DEPTH,
  MAX_REPLY_BYTES,
  MAX_REPORT_BYTES,
  newRunSecrets,
  openEnvelope,
  probeInputLine,
  sealEnvelope,
  type EnvelopeFailure,
  type RunSecrets,
} from '../src/probe/envelope.js';
import { makeReport } from './support/report-factory.js';

const secrets = newRunSecrets();

/** The reason and message openEnvelope throws, or 'no error'. */
function verdict(
  reply: Buffer | string,
  s: RunSecrets = secrets,
): { reason: EnvelopeFailure | 'no error'; message: string } {
  try {
    openEnvelope(reply, s);
    return { reason: 'no error', message: '' };
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    expect(error.name).toBe('EnvelopeError');
    return { reason: error.reason, message: error.message };
  }
}

const macHex = (ciphertextB64: string, s: RunSecrets = secrets) =>
  createHmac('sha256', Buffer.from(s.macKey, 'hex')).update(`FLEETSTAT1 ${s.runId} ${ciphertextB64}`).digest('hex');

/** An envelope line with a valid MAC around any ciphertext bytes. */
const lineAround = (ciphertext: Buffer, s: RunSecrets = secrets) => {
  const b64 = ciphertext.toString('base64');
  return `FLEETSTAT1 ${s.runId} ${b64} ${macHex(b64, s)}\n`;
};

/** Encrypts plaintext bytes as probe.sh does (EVPKDF tag, EVP_BytesToKey) or as probe.ps1 (PBKDF2). */
function sealBytes(plain: Buffer, kdf: 'evp' | 'pbkdf2' = 'evp', s: RunSecrets = secrets): string {
  const salt = randomBytes(8);
  const pass = Buffer.from(s.encPass, 'ascii');
  let key: Buffer;
  let iv: Buffer;
  if (kdf === 'pbkdf2') {
    const m = pbkdf2Sync(pass, salt, 1000, 48, 'sha256');
    [key, iv] = [m.subarray(0, 32), m.subarray(32, 48)];
  } else {
    const d1 = createHash('sha256').update(pass).update(salt).digest();
    const d2 = createHash('sha256').update(d1).update(pass).update(salt).digest();
    [key, iv] = [d1, d2.subarray(0, 16)];
  }
  const c = createCipheriv('aes-256-cbc', key, iv);
  const tag = kdf === 'evp' ? Buffer.from('EVPKDF') : Buffer.alloc(0);
  return lineAround(Buffer.concat([tag, Buffer.from('Salted__'), salt, c.update(plain), c.final()]), s);
}

const FORMAT_LINE = 'reply has';
const validLine = () => sealEnvelope(makeReport(), secrets);

describe('the reply as a line', () => {
  it('accepts a lone trailing \\n, \\r\\n or \\r, and nothing else outside printable ASCII', () => {
    const line = validLine().trimEnd();
    for (const end of ['', '\n', '\r\n', '\r']) expect(verdict(line + end).reason).toBe('no error');
    expect(verdict(`${line}\n\n`)).toEqual({
      reason: 'format',
      message: `${FORMAT_LINE} more than one line (at offset ${line.length}); expected one envelope line`,
    });
    expect(verdict(`${line}\r\r`).message).toBe(
      `${FORMAT_LINE} a byte 0x0d that is not printable ASCII (at offset ${line.length}); expected one envelope line`,
    );
    expect(verdict(`\t${line}`).message).toBe(
      `${FORMAT_LINE} a byte 0x09 that is not printable ASCII (at offset 0); expected one envelope line`,
    );
    expect(verdict(`${line}\x7f`).message).toBe(
      `${FORMAT_LINE} a byte 0x7f that is not printable ASCII (at offset ${line.length}); expected one envelope line`,
    );
    expect(verdict(Buffer.concat([Buffer.from(line), Buffer.from([0x1f])])).message).toContain('a byte 0x1f that');
    // "~" (0x7e) is the last printable byte: it passes the line check and fails on its field.
    expect(verdict(line.replace('FLEETSTAT1', 'FLEETSTAT~')).reason).toBe('version');
  });

  it('names an empty reply as such, with or without its newline', () => {
    for (const empty of ['', '\n', '\r\n', '\r']) {
      expect(verdict(empty)).toEqual({ reason: 'format', message: 'reply is empty: the probe printed no envelope' });
    }
  });

  it('needs exactly four non-empty fields', () => {
    const [v, id, ct, mac] = validLine().trimEnd().split(' ') as [string, string, string, string];
    expect(verdict(`${v} ${id} ${ct}`)).toEqual({
      reason: 'format',
      message: 'reply has 3 space-separated fields; expected 4',
    });
    expect(verdict(`${v} ${id} ${ct} ${mac} x`).message).toBe('reply has 5 space-separated fields; expected 4');
    expect(verdict(`${v} ${id} ${ct} `).message).toBe('reply has 4 space-separated fields; expected 4');
    expect(verdict(` ${id} ${ct} ${mac}`).message).toBe('reply has 4 space-separated fields; expected 4');
  });

  it('refuses one byte over the reply limit as oversize, and reads one at the limit', () => {
    // Starts with a control byte, so the line check stops at once (the byte loop is slow
    // under mutation instrumentation).
    const atLimit = Buffer.alloc(MAX_REPLY_BYTES, 0x41);
    atLimit[0] = 0;
    expect(verdict(atLimit)).toEqual({
      reason: 'format',
      message: `${FORMAT_LINE} a byte 0x00 that is not printable ASCII (at offset 0); expected one envelope line`,
    });
    expect(verdict(Buffer.alloc(MAX_REPLY_BYTES + 1, 0x41))).toEqual({
      reason: 'oversize',
      message: `reply is ${MAX_REPLY_BYTES + 1} bytes, more than the ${MAX_REPLY_BYTES}-byte limit`,
    });
  });
});

describe('the fields, checked in order before the MAC', () => {
  const [, id, ct, mac] = validLine().trimEnd().split(' ') as [string, string, string, string];

  it('names a wrong version, cut to 20 characters', () => {
    expect(verdict(`FLEETSTAT2 ${id} ${ct} ${mac}`)).toEqual({
      reason: 'version',
      message: 'envelope version "FLEETSTAT2" is not FLEETSTAT1',
    });
    expect(verdict(`${'V'.repeat(30)} ${id} ${ct} ${mac}`).message).toBe(
      `envelope version "${'V'.repeat(20)}" is not FLEETSTAT1`,
    );
  });

  it('wants a run id of exactly 32 lowercase hex characters', () => {
    const message = 'run id is not 32 lowercase hex characters';
    for (const bad of [id.toUpperCase(), id.slice(1), `${id}0`, `x${id.slice(1)}`, `${id.slice(0, -1)}g`]) {
      expect(verdict(`FLEETSTAT1 ${bad} ${ct} ${mac}`)).toEqual({ reason: 'format', message });
    }
  });

  it('wants standard base64 with at most two = of padding and whole quads', () => {
    const message = 'ciphertext is not standard padded base64';
    for (const bad of ['abc', 'ab-_', 'a===', '=abc', 'ab=c', 'abcd=', `x${ct}`, `${ct}!`]) {
      expect(verdict(`FLEETSTAT1 ${id} ${bad} ${mac}`)).toEqual({ reason: 'format', message });
    }
    // Well-formed base64 gets past the format checks (to the MAC).
    for (const good of ['ab==', 'abc=', 'ab+/']) expect(verdict(`FLEETSTAT1 ${id} ${good} ${mac}`).reason).toBe('mac');
  });

  it('wants a MAC of exactly 64 lowercase hex characters', () => {
    const message = 'MAC is not 64 lowercase hex characters';
    for (const bad of [mac.toUpperCase(), mac.slice(1), `${mac}0`, `x${mac.slice(1)}`, `${mac.slice(0, -1)}x`]) {
      expect(verdict(`FLEETSTAT1 ${id} ${ct} ${bad}`)).toEqual({ reason: 'format', message });
    }
  });

  it('checks the format before the run id, and the run id before the MAC', () => {
    const other = newRunSecrets().runId;
    expect(verdict(`FLEETSTAT1 ${other} ${ct} ${mac.toUpperCase()}`).reason).toBe('format');
    expect(verdict(`FLEETSTAT1 ${other} ${ct} ${mac}`)).toEqual({
      reason: 'run-id',
      message: 'run id does not match this run (a replayed or foreign reply)',
    });
    expect(verdict(`FLEETSTAT1 ${id} ${ct} ${'0'.repeat(64)}`)).toEqual({
      reason: 'mac',
      message: 'MAC does not verify: the reply was altered or sealed with another key',
    });
  });
});

describe('decryption, behind a valid MAC', () => {
  const lacks = { reason: 'decrypt', message: 'ciphertext lacks the "Salted__" header and salt' };

  it('wants the Salted__ header, the salt and at least one block, with or without the EVPKDF tag', () => {
    const salted = Buffer.concat([Buffer.from('Salted__'), randomBytes(8)]);
    expect(verdict(lineAround(Buffer.concat([salted, randomBytes(15)])))).toEqual(lacks);
    expect(verdict(lineAround(Buffer.concat([Buffer.from('EVPKDF'), salted, randomBytes(15)])))).toEqual(lacks);
    expect(verdict(lineAround(Buffer.concat([Buffer.from('Xalted__'), randomBytes(8), randomBytes(16)])))).toEqual(
      lacks,
    );
    // Exactly one block gets past the header check (then fails on padding or as JSON).
    expect(verdict(lineAround(Buffer.concat([salted, randomBytes(16)])))).not.toEqual(lacks);
  });

  it('wants whole AES blocks', () => {
    const salted = Buffer.concat([Buffer.from('Salted__'), randomBytes(8)]);
    expect(verdict(lineAround(Buffer.concat([salted, randomBytes(17)])))).toEqual({
      reason: 'decrypt',
      message: 'ciphertext is not a whole number of AES blocks',
    });
  });

  it('refuses a body over the report limit before decrypting it, and decrypts one at the limit', () => {
    const salted = Buffer.concat([Buffer.from('Salted__'), randomBytes(8)]);
    expect(verdict(lineAround(Buffer.concat([salted, Buffer.alloc(MAX_REPORT_BYTES + 32)])))).toEqual({
      reason: 'oversize',
      message: `report is over the ${MAX_REPORT_BYTES}-byte limit`,
    });
    // A plaintext of exactly the limit encrypts to limit + one padding block: it is decrypted,
    // and only then judged (here: not JSON).
    expect(verdict(sealBytes(Buffer.alloc(MAX_REPORT_BYTES, 0x20))).reason).toBe('json');
    expect(verdict(sealBytes(Buffer.alloc(MAX_REPORT_BYTES + 1, 0x20)))).toEqual({
      reason: 'oversize',
      message: `report is ${MAX_REPORT_BYTES + 1} bytes, more than the ${MAX_REPORT_BYTES}-byte limit`,
    });
  });

  it('names bad padding as a wrong password', () => {
    const other = { ...secrets, encPass: newRunSecrets().encPass };
    const line = sealBytes(Buffer.from('{}'), 'evp', other);
    expect(verdict(line)).toEqual({
      reason: 'decrypt',
      message: 'ciphertext does not decrypt (bad padding: wrong password?)',
    });
  });

  it('opens both key derivations, each told apart by the EVPKDF tag', () => {
    const report = makeReport();
    const json = Buffer.from(JSON.stringify(report));
    expect(openEnvelope(sealBytes(json, 'evp'), secrets)).toEqual(report);
    expect(openEnvelope(sealBytes(json, 'pbkdf2'), secrets)).toEqual(report);
    const ps1 = sealEnvelope(report, secrets, { kdf: 'pbkdf2' });
    const sh = sealEnvelope(report, secrets);
    expect(Buffer.from(ps1.split(' ')[2]!, 'base64').subarray(0, 8).toString()).toBe('Salted__');
    expect(Buffer.from(sh.split(' ')[2]!, 'base64').subarray(0, 14).toString()).toBe('EVPKDFSalted__');
    expect(openEnvelope(ps1, secrets)).toEqual(report);
  });
});

describe('the plaintext', () => {
  it('must be UTF-8, shallow enough and JSON, each named', () => {
    expect(verdict(sealBytes(Buffer.from([0x7b, 0xff, 0x7d])))).toEqual({
      reason: 'json',
      message: 'report is not valid UTF-8',
    });
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(verdict(sealBytes(Buffer.from(deep(MAX_JSON_DEPTH)))).reason).toBe('schema');
    const tooDeep = verdict(sealBytes(Buffer.from(deep(MAX_JSON_DEPTH + 1))));
    expect(tooDeep.reason).toBe('json');
    expect(tooDeep.message).toMatch(/^report JSON nests deeper than 16 levels \(at offset \d+\)$/);
    const notJson = verdict(sealBytes(Buffer.from('{"a":')));
    expect(notJson.reason).toBe('json');
    expect(notJson.message).toMatch(/^report is not valid JSON: \S/);
  });

  it('names schema failures by path, (root) for the whole, at most five and a count of the rest', () => {
    expect(verdict(sealBytes(Buffer.from('42'))).message).toMatch(/^report fails schema v1: \(root\): /);
    const report = makeReport() as unknown as Record<string, unknown>;
    const one = verdict(sealBytes(Buffer.from(JSON.stringify({ ...report, uptime_seconds: 'x' }))));
    expect(one.message).toMatch(/^report fails schema v1: uptime_seconds: [^;]+$/);
    const broken = {
      ...report,
      uptime_seconds: 'x',
      process_count: 'x',
      boot_time: 1,
      probe: 1,
      schema: 2,
      warnings: 1,
      users: 1,
    };
    const many = verdict(sealBytes(Buffer.from(JSON.stringify(broken)))).message;
    expect(many.split('; ')).toHaveLength(5);
    expect(many).toMatch(/ \(and 2 more\)$/);
    const five = { ...report, uptime_seconds: 'x', process_count: 'x', boot_time: 1, probe: 1, schema: 2 };
    expect(verdict(sealBytes(Buffer.from(JSON.stringify(five)))).message).not.toContain('more)');
  });
});

describe('secrets, the input line and sealing', () => {
  const opts = { cpuMs: 1000, eventCap: 100, lastRecordId: 7 };

  it('writes the seven fields in the documented order', () => {
    expect(probeInputLine(secrets, opts)).toBe(
      `FLEETSTAT1 ${secrets.runId} ${secrets.encPass} ${secrets.macKey} 1000 100 7\n`,
    );
  });

  it('names the secret that is malformed', () => {
    const bad = (patch: Partial<RunSecrets>) => () => probeInputLine({ ...secrets, ...patch }, opts);
    expect(bad({ runId: secrets.runId.toUpperCase() })).toThrow(
      new RangeError('runId must be 32 lowercase hex characters'),
    );
    expect(bad({ runId: `${secrets.runId}0` })).toThrow('runId must be');
    expect(bad({ encPass: secrets.encPass.slice(1) })).toThrow(
      new RangeError('encPass must be 64 lowercase hex characters'),
    );
    expect(bad({ encPass: `${secrets.encPass}0` })).toThrow('encPass must be');
    expect(bad({ macKey: `g${secrets.macKey.slice(1)}` })).toThrow(
      new RangeError('macKey must be 64 lowercase hex characters'),
    );
    expect(bad({ macKey: `${secrets.macKey}0` })).toThrow('macKey must be');
    expect(() => sealEnvelope({}, { ...secrets, macKey: 'x' })).toThrow('macKey must be');
  });

  it('takes each option at its bounds and refuses one past them or a fraction', () => {
    expect(probeInputLine(secrets, { cpuMs: 0, eventCap: 0, lastRecordId: 0 })).toMatch(/ 0 0 0\n$/);
    expect(probeInputLine(secrets, { cpuMs: 60_000, eventCap: 5000, lastRecordId: Number.MAX_SAFE_INTEGER })).toMatch(
      new RegExp(` 60000 5000 ${Number.MAX_SAFE_INTEGER}\\n$`),
    );
    const line = (patch: Partial<typeof opts>) => () => probeInputLine(secrets, { ...opts, ...patch });
    expect(line({ cpuMs: -1 })).toThrow(new RangeError('cpuMs must be an integer from 0 to 60000'));
    expect(line({ cpuMs: 60_001 })).toThrow('cpuMs must be');
    expect(line({ cpuMs: 0.5 })).toThrow('cpuMs must be');
    expect(line({ eventCap: -1 })).toThrow(new RangeError('eventCap must be an integer from 0 to 5000'));
    expect(line({ eventCap: 5001 })).toThrow('eventCap must be');
    expect(line({ lastRecordId: -1 })).toThrow(
      new RangeError(`lastRecordId must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}`),
    );
    expect(line({ lastRecordId: Number.MAX_SAFE_INTEGER + 2 })).toThrow('lastRecordId must be');
  });

  it('wants an 8-byte salt and seals the same line twice with it', () => {
    expect(() => sealEnvelope({}, secrets, { salt: Buffer.alloc(7) })).toThrow(new RangeError('salt must be 8 bytes'));
    expect(() => sealEnvelope({}, secrets, { salt: Buffer.alloc(9) })).toThrow('salt must be 8 bytes');
    const salt = randomBytes(8);
    expect(sealEnvelope({ a: 1 }, secrets, { salt })).toBe(sealEnvelope({ a: 1 }, secrets, { salt }));
  });
});
