/**
 * Recorded replies and a fixed-salt test vector (test/fixtures/replies): the server still opens
 * what probe.sh produced, and sealEnvelope agrees byte for byte with the openssl command line.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openEnvelope, sealEnvelope, type RunSecrets } from '../src/probe/envelope.js';

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`fixtures/replies/${name}`, import.meta.url), 'utf8')) as T;

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
  const v = load<{ secrets: RunSecrets; salt: string; report: unknown; plaintext: string; envelope: string }>('vector-fixed-salt.json');

  it('sealEnvelope reproduces the vector and openEnvelope inverts it', () => {
    expect(JSON.stringify(v.report)).toBe(v.plaintext);
    expect(sealEnvelope(v.report, v.secrets, { salt: Buffer.from(v.salt, 'hex') })).toBe(v.envelope);
    // Opening also makes the report's text printable: the event message's CR LF becomes LF.
    const printable = JSON.parse(JSON.stringify(v.report).replace(/\\r\\n/g, '\\n'));
    expect(openEnvelope(v.envelope, v.secrets)).toEqual(printable);
  });

  it('decrypts with the openssl command line, as the probe side uses it', () => {
    const ciphertext = v.envelope.trimEnd().split(' ')[2]!;
    // Test-only secret: argv is fine here, never on a target.
    const r = spawnSync('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-md', 'sha256', '-iter', '1000',
      '-base64', '-A', '-pass', `pass:${v.secrets.encPass}`], { input: ciphertext });
    expect(r.status).toBe(0);
    expect(r.stdout.toString('utf8')).toBe(v.plaintext);
  });
});
