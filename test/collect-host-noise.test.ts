/** The envelope is found after shell start-up noise, and only the last version-tagged line counts. */
import { describe, expect, it } from 'vitest';
import { withoutStartupNoise } from '../src/collect/collect-host.js';
import { newRunSecrets, openEnvelope, sealEnvelope } from '../src/probe/envelope.js';
import { makeReport } from './support/report-factory.js';

describe('withoutStartupNoise', () => {
  const secrets = newRunSecrets();
  const envelope = sealEnvelope(makeReport(), secrets);

  it('drops banner lines before the envelope, so it opens', () => {
    const noisy = Buffer.from(`Welcome!\nFLEETSTAT1 is mentioned in the motd\n${envelope}`);
    expect(() => openEnvelope(noisy, secrets)).toThrow(/one envelope line|format|version/);
    expect(openEnvelope(withoutStartupNoise(noisy), secrets).schema).toBe(1);
  });

  it('leaves a clean reply as it is, and trailing junk still fails the one-line check', () => {
    expect(withoutStartupNoise(Buffer.from(envelope)).toString()).toBe(envelope);
    expect(() => openEnvelope(withoutStartupNoise(Buffer.from(`${envelope}junk after\n`)), secrets)).toThrow();
  });
});
