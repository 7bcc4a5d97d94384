/**
 * Recorded replies and a fixed-salt test vector (test/fixtures/replies): the server still opens
 * what probe.sh produced, and sealEnvelope agrees byte for byte with the openssl command line, in
 * both key derivations (EVP_BytesToKey-SHA256 of probe.sh, PBKDF2 of probe.ps1).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openEnvelope, sealEnvelope, type RunSecrets } from '../src/probe/envelope.js';

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`fixtures/replies/${name}`, import.meta.url), 'utf8')) as T;

/**
 * The vector's report as openEnvelope returns it: opening also makes the report's text printable
 * (docs/schema.md), so the event message's CR LF becomes LF.
 */
const asOpened = (report: unknown): unknown => JSON.parse(JSON.stringify(report).replace(/\\r\\n/g, '\\n'));

describe('recorded replies', () => {
  it('opens a reply recorded from probe.sh', () => {
    const { secrets, reply } = load<{ secrets: RunSecrets; reply: string }>('probe-sh-debian12.json');
    const report = openEnvelope(reply, secrets);
    expect(report.probe).toBe('sh');
    expect(report.host.os_name).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(report.cpu.interval_ms).toBe(250);
  });
});

describe('fixed-salt vector', () => {
  const v = load<{ secrets: RunSecrets; salt: string; report: unknown; plaintext: string; envelope: string }>(
    'vector-fixed-salt.json',
  );

  it('sealEnvelope reproduces the vector and openEnvelope inverts it', () => {
    expect(JSON.stringify(v.report)).toBe(v.plaintext);
    // The vector is probe.ps1's form (PBKDF2, no EVPKDF tag).
    expect(sealEnvelope(v.report, v.secrets, { salt: Buffer.from(v.salt, 'hex'), kdf: 'pbkdf2' })).toBe(v.envelope);
    expect(openEnvelope(v.envelope, v.secrets)).toEqual(asOpened(v.report));
  });

  it('decrypts with the openssl command line, as the probe side uses it', () => {
    const ciphertext = v.envelope.trimEnd().split(' ')[2]!;
    // Test-only secret: argv is fine here, never on a target.
    const r = spawnSync(
      'openssl',
      [
        'enc',
        '-d',
        '-aes-256-cbc',
        '-pbkdf2',
        '-md',
        'sha256',
        '-iter',
        '1000',
        '-base64',
        '-A',
        '-pass',
        `pass:${v.secrets.encPass}`,
      ],
      { input: ciphertext },
    );
    expect(r.status).toBe(0);
    expect(r.stdout.toString('utf8')).toBe(v.plaintext);
  });
});

describe('EVP_BytesToKey-SHA256 (probe.sh since OpenSSL 1.0.1 targets)', () => {
  const v = load<{ secrets: RunSecrets; report: unknown }>('vector-fixed-salt.json');
  const salt = Buffer.from('0102030405060708', 'hex');

  it('is what `openssl enc -md sha256` (no -pbkdf2) makes, after the EVPKDF tag', () => {
    const line = sealEnvelope(v.report, v.secrets, { salt });
    const sealed = Buffer.from(line.split(' ')[2]!, 'base64');
    expect(sealed.subarray(0, 6).toString('ascii')).toBe('EVPKDF');
    // Test-only secret: argv is fine here, never on a target.
    const r = spawnSync(
      'openssl',
      ['enc', '-aes-256-cbc', '-md', 'sha256', '-S', salt.toString('hex'), '-pass', `pass:${v.secrets.encPass}`],
      { input: JSON.stringify(v.report) },
    );
    expect(r.status).toBe(0);
    const body = sealed.subarray(6 + 16); // tag, "Salted__", salt
    // OpenSSL 3 leaves out the Salted__ header when the salt is given with -S; 1.x writes it.
    expect(r.stdout.subarray(r.stdout.length - body.length).equals(body)).toBe(true);
    expect(openEnvelope(line, v.secrets)).toEqual(asOpened(v.report));
  });

  it('opens both forms, told apart by the tag alone', () => {
    for (const kdf of ['evp-sha256', 'pbkdf2'] as const) {
      expect(openEnvelope(sealEnvelope(v.report, v.secrets, { kdf }), v.secrets)).toEqual(asOpened(v.report));
    }
  });
});
