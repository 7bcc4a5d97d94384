/**
 * The one sanitiser for untrusted text (src/text/untrusted-text.ts): escapes, line breaks, bidi
 * overrides, invisible characters, invalid UTF-8/UTF-16 and huge inputs, by example and by
 * property. The paths that use it are tested end to end in hostile-text.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fieldText, oneLine, textBlock, truncateText } from '../src/text/untrusted-text.js';

// Everything that must never come out: C0/C1 controls, DEL, line/paragraph separators, bidi
// embeddings/overrides/isolates, zero-width characters, BOM, unpaired surrogates.
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Any code point, plus lone UTF-16 units (unpaired surrogates), plus the usual suspects.
const anyText = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\u001b', '\r', '\n', '\u202e', '\u2066', '\u0085', '\ud800'),
  ),
});
const UNSAFE_IN_BLOCK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;

describe('oneLine', () => {
  it('turns escapes, CR/LF and bidi overrides into single spaces on one line', () => {
    expect(oneLine('bad\u001b[2J\u001b]0;pwned\u0007 host\r\n2026-01-01T00:00:00Z FAIL forged')).toBe(
      'bad [2J ]0;pwned host 2026-01-01T00:00:00Z FAIL forged',
    );
    expect(oneLine('file\u202Egnp.exe \u2066x\u2069 \u200Bz\uFEFF')).toBe('file gnp.exe x z');
    expect(oneLine('  padded\t\n')).toBe('padded');
  });

  it('decodes invalid UTF-8 as U+FFFD and replaces unpaired surrogates', () => {
    expect(oneLine(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0xc3]))).toBe('a\ufffd\ufffdb\ufffd');
    expect(oneLine('a\ud800b\udc00c')).toBe('a\ufffdb\ufffdc');
    expect(oneLine('ok \ud83d\ude00')).toBe('ok \ud83d\ude00'); // a real pair stays
  });

  it('caps the length in code points, marking the cut', () => {
    expect(oneLine('x'.repeat(5000), 100)).toBe(`${'x'.repeat(99)}…`);
    expect(Array.from(oneLine('\ud83d\ude00'.repeat(50), 10))).toHaveLength(10);
    expect(truncateText('short', 10)).toBe('short');
  });

  it('takes an Error for its message', () => {
    expect(oneLine(new Error('boom\nsecond line'))).toBe('boom second line');
  });

  it('never lets anything unsafe through, whatever the input', () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        for (const input of [a, b, a + b]) {
          const out = oneLine(input, 300);
          expect(out).not.toMatch(UNSAFE);
          expect(Array.from(out).length).toBeLessThanOrEqual(300);
        }
      }),
    );
  });
});

describe('fieldText', () => {
  it('keeps the spaces a value has, so distinct values stay distinct', () => {
    expect(fieldText(' /mnt/a  b ', 64)).toBe(' /mnt/a  b ');
    expect(fieldText('/mnt/\u001b[1mbold\r\nx', 64)).toBe('/mnt/ [1mbold x');
  });
});

describe('textBlock', () => {
  it('keeps \\n and \\t, normalises CR, removes other controls and bidi characters', () => {
    expect(textBlock('a\tb\r\nc\u0007d\u001b[31me\rf \u202Eg', { maxLineChars: 100, maxChars: 1000 })).toBe(
      'a\tb\ncd[31me\nf g',
    );
  });

  it('caps each line and the whole', () => {
    const out = textBlock(`${'x'.repeat(50)}\n`.repeat(100), { maxLineChars: 10, maxChars: 200 });
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out.split('\n')[0]).toBe(`${'x'.repeat(9)}…`);
    expect(out.endsWith('[truncated]')).toBe(true);
  });

  it('never lets anything unsafe through, whatever the input', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        expect(textBlock(input, { maxLineChars: 50, maxChars: 500 })).not.toMatch(UNSAFE_IN_BLOCK);
      }),
    );
  });
});
