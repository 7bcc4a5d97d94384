/**
 * The server side of the probe envelope (docs/envelope.md, version FLEETSTAT1): fresh run secrets,
 * the probe's stdin line, and opening (verify, decrypt, validate) the probe's one-line reply.
 * `sealEnvelope` is the probe side in Node, for tests and for cross-checking probe.ps1.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { reportSchema, type Report } from './report.js';
import { checkJsonDepth } from './json-depth.js';
import { oneLine } from '../text/untrusted-text.js';

export const ENVELOPE_VERSION = 'FLEETSTAT1';
/** Largest reply the server accepts from a probe's stdout. */
export const MAX_REPLY_BYTES = 8 * 1024 * 1024;
/** Largest decrypted JSON report. */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;
/** Deepest JSON nesting a report may have (the schema needs 3). */
export const MAX_JSON_DEPTH = 16;

const PBKDF2_ITERATIONS = 1000;
const SALT_HEADER = Buffer.from('Salted__', 'ascii');
/** Put before OpenSSL's salt header by probe.sh: its key comes from EVP_BytesToKey (docs/envelope.md). */
const EVP_TAG = Buffer.from('EVPKDF', 'ascii');

/**
 * How the AES key and IV come from enc-pass: `evp-sha256` is OpenSSL's EVP_BytesToKey with
 * SHA-256 and one round (`openssl enc -md sha256`, any OpenSSL since 1.0.1; probe.sh), `pbkdf2`
 * is PBKDF2-HMAC-SHA256 with 1000 iterations (`-pbkdf2 -iter 1000`, OpenSSL 1.1.1+; probe.ps1).
 * The ciphertext says which: the EVPKDF tag before `Salted__` means evp-sha256.
 */
export type EnvelopeKdf = 'evp-sha256' | 'pbkdf2';
const AES_BLOCK = 16;

/** Per-run, per-host secrets; all lowercase hex. Never log them. */
export interface RunSecrets {
  runId: string;
  encPass: string;
  macKey: string;
}

export interface ProbeOptions {
  /** CPU sampling interval in milliseconds (0–60000). */
  cpuMs: number;
  /** At most this many security events per run (0–5000). */
  eventCap: number;
  /** Highest event record id already stored for the host (0 = none). */
  lastRecordId: number;
}

export type EnvelopeFailure = 'oversize' | 'format' | 'version' | 'run-id' | 'mac' | 'decrypt' | 'json' | 'schema';

/** A reply that failed one of the envelope checks. The message never contains the secrets. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly reason: EnvelopeFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Makes fresh random secrets for one probe run on one host (never reuse them). */
export function newRunSecrets(): RunSecrets {
  return {
    runId: randomBytes(16).toString('hex'),
    encPass: randomBytes(32).toString('hex'),
    macKey: randomBytes(32).toString('hex'),
  };
}

/** Builds the one line (with its newline) written to the probe's stdin. Throws RangeError on bad options. */
export function probeInputLine(secrets: RunSecrets, opts: ProbeOptions): string {
  checkSecrets(secrets);
  checkInt('cpuMs', opts.cpuMs, 0, 60_000);
  checkInt('eventCap', opts.eventCap, 0, 5000);
  checkInt('lastRecordId', opts.lastRecordId, 0, Number.MAX_SAFE_INTEGER);
  const { runId, encPass, macKey } = secrets;
  return `${ENVELOPE_VERSION} ${runId} ${encPass} ${macKey} ${opts.cpuMs} ${opts.eventCap} ${opts.lastRecordId}\n`;
}

/**
 * Opens a probe reply: runs every check of docs/envelope.md in order (size, format, version,
 * run id, MAC in constant time, decryption, UTF-8/size/depth/JSON, report schema) and returns
 * the validated report. Throws EnvelopeError with a short `reason` on the first failed check.
 */
export function openEnvelope(reply: Buffer | string, secrets: RunSecrets): Report {
  const bytes = typeof reply === 'string' ? Buffer.from(reply, 'utf8') : reply;
  if (bytes.length > MAX_REPLY_BYTES) {
    throw new EnvelopeError('oversize', `reply is ${bytes.length} bytes, more than the ${MAX_REPLY_BYTES}-byte limit`);
  }
  const [version, runId, ciphertextB64, macHex] = splitLine(bytes);
  if (version !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      'version',
      `envelope version ${JSON.stringify(version.slice(0, 20))} is not ${ENVELOPE_VERSION}`,
    );
  }
  if (!/^[0-9a-f]{32}$/.test(runId)) throw new EnvelopeError('format', 'run id is not 32 lowercase hex characters');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(ciphertextB64) || ciphertextB64.length % 4 !== 0) {
    throw new EnvelopeError('format', 'ciphertext is not standard padded base64');
  }
  if (!/^[0-9a-f]{64}$/.test(macHex)) throw new EnvelopeError('format', 'MAC is not 64 lowercase hex characters');
  if (runId !== secrets.runId) {
    throw new EnvelopeError('run-id', 'run id does not match this run (a replayed or foreign reply)');
  }
  const expectedMac = macOf(secrets, runId, ciphertextB64);
  if (!timingSafeEqual(Buffer.from(macHex, 'hex'), expectedMac)) {
    throw new EnvelopeError('mac', 'MAC does not verify: the reply was altered or sealed with another key');
  }
  const plaintext = decrypt(Buffer.from(ciphertextB64, 'base64'), secrets.encPass);
  return validateReport(parseJson(plaintext));
}

/**
 * Seals a report exactly as probe.sh does (`kdf: 'pbkdf2'`: as probe.ps1 does) and returns the
 * envelope line with its newline.
 * `salt` (8 bytes) is for reproducible test vectors only; by default it is random.
 */
export function sealEnvelope(
  report: unknown,
  secrets: RunSecrets,
  opts: { salt?: Buffer; kdf?: EnvelopeKdf } = {},
): string {
  checkSecrets(secrets);
  const salt = opts.salt ?? randomBytes(8);
  if (salt.length !== 8) throw new RangeError('salt must be 8 bytes');
  const kdf = opts.kdf ?? 'evp-sha256';
  const { key, iv } = deriveKeyIv(kdf, secrets.encPass, salt);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(report), 'utf8'), cipher.final()]);
  const tag = kdf === 'evp-sha256' ? EVP_TAG : Buffer.alloc(0);
  const ciphertextB64 = Buffer.concat([tag, SALT_HEADER, salt, body]).toString('base64');
  const mac = macOf(secrets, secrets.runId, ciphertextB64).toString('hex');
  return `${ENVELOPE_VERSION} ${secrets.runId} ${ciphertextB64} ${mac}\n`;
}

/** Splits the reply into its four fields; a lone trailing "\n" or "\r\n" is allowed. */
function splitLine(bytes: Buffer): [string, string, string, string] {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end -= 1;
  if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
  for (let i = 0; i < end; i += 1) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e) {
      const what =
        b === 0x0a ? 'more than one line' : `a byte 0x${b.toString(16).padStart(2, '0')} that is not printable ASCII`;
      throw new EnvelopeError('format', `reply has ${what} (at offset ${i}); expected one envelope line`);
    }
  }
  if (end === 0) throw new EnvelopeError('format', 'reply is empty: the probe printed no envelope');
  const fields = bytes.subarray(0, end).toString('ascii').split(' ');
  if (fields.length !== 4 || fields.some((f) => f.length === 0)) {
    throw new EnvelopeError('format', `reply has ${fields.length} space-separated fields; expected 4`);
  }
  return fields as [string, string, string, string];
}

function macOf(secrets: RunSecrets, runId: string, ciphertextB64: string): Buffer {
  return createHmac('sha256', Buffer.from(secrets.macKey, 'hex'))
    .update(`${ENVELOPE_VERSION} ${runId} ${ciphertextB64}`, 'ascii')
    .digest();
}

function deriveKeyIv(kdf: EnvelopeKdf, encPass: string, salt: Buffer): { key: Buffer; iv: Buffer } {
  const pass = Buffer.from(encPass, 'ascii');
  if (kdf === 'pbkdf2') {
    const material = pbkdf2Sync(pass, salt, PBKDF2_ITERATIONS, 48, 'sha256');
    return { key: material.subarray(0, 32), iv: material.subarray(32, 48) };
  }
  // EVP_BytesToKey, one round: D1 = H(pass || salt), D2 = H(D1 || pass || salt); key = D1, iv = D2[0..16).
  const d1 = createHash('sha256').update(pass).update(salt).digest();
  const d2 = createHash('sha256').update(d1).update(pass).update(salt).digest();
  return { key: d1, iv: d2.subarray(0, AES_BLOCK) };
}

function decrypt(ciphertext: Buffer, encPass: string): Buffer {
  const tagged = ciphertext.subarray(0, EVP_TAG.length).equals(EVP_TAG);
  const kdf: EnvelopeKdf = tagged ? 'evp-sha256' : 'pbkdf2';
  const sealed = tagged ? ciphertext.subarray(EVP_TAG.length) : ciphertext;
  if (sealed.length < SALT_HEADER.length + 8 + AES_BLOCK || !sealed.subarray(0, 8).equals(SALT_HEADER)) {
    throw new EnvelopeError('decrypt', 'ciphertext lacks the "Salted__" header and salt');
  }
  const body = sealed.subarray(16);
  if (body.length % AES_BLOCK !== 0)
    throw new EnvelopeError('decrypt', 'ciphertext is not a whole number of AES blocks');
  if (body.length > MAX_REPORT_BYTES + AES_BLOCK) {
    throw new EnvelopeError('oversize', `report is over the ${MAX_REPORT_BYTES}-byte limit`);
  }
  const { key, iv } = deriveKeyIv(kdf, encPass, sealed.subarray(8, 16));
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    // A verified MAC with bad padding means the probe used another password.
    throw new EnvelopeError('decrypt', 'ciphertext does not decrypt (bad padding: wrong password?)');
  }
}

function parseJson(plaintext: Buffer): unknown {
  if (plaintext.length > MAX_REPORT_BYTES) {
    throw new EnvelopeError(
      'oversize',
      `report is ${plaintext.length} bytes, more than the ${MAX_REPORT_BYTES}-byte limit`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch {
    throw new EnvelopeError('json', 'report is not valid UTF-8');
  }
  const depth = checkJsonDepth(text, MAX_JSON_DEPTH);
  if (depth !== undefined) {
    throw new EnvelopeError('json', `report JSON nests deeper than ${MAX_JSON_DEPTH} levels (at offset ${depth})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new EnvelopeError('json', `report is not valid JSON: ${oneLine(err, 200)}`);
  }
}

function validateReport(value: unknown): Report {
  const result = reportSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const shown = issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${oneLine(i.message, 200)}`);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  throw new EnvelopeError('schema', `report fails schema v1: ${shown.join('; ')}${more}`);
}

function checkSecrets(s: RunSecrets): void {
  if (!/^[0-9a-f]{32}$/.test(s.runId)) throw new RangeError('runId must be 32 lowercase hex characters');
  if (!/^[0-9a-f]{64}$/.test(s.encPass)) throw new RangeError('encPass must be 64 lowercase hex characters');
  if (!/^[0-9a-f]{64}$/.test(s.macKey)) throw new RangeError('macKey must be 64 lowercase hex characters');
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
}
