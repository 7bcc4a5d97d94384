import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { renderAlertMail } from '../src/notify/alert-mail.js';
import {
  MAX_BODY_LINE_CHARS,
  MAX_SUBJECT_CHARS,
  parseRecipients,
  sanitizeBody,
  sanitizeSubject,
} from '../src/notify/mail-text.js';

const AT = new Date('2024-05-01T12:34:56.789Z');
const memoryRule = { type: 'memory' as const, repeatSeconds: 14_400, notify: 'on-change' as const, line: 12 };

describe('sanitising untrusted text', () => {
  it('a subject never contains CR, LF or other control characters', () => {
    expect(sanitizeSubject('host\r\nBcc: evil@x')).toBe('host Bcc: evil@x');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const subject = sanitizeSubject(text);
        expect(subject).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        expect(Array.from(subject).length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
      }),
    );
  });

  it('a body keeps newlines and tabs, drops other controls, cuts long lines', () => {
    expect(sanitizeBody('a\tb\r\nc\u0007d\u001b[31me\rf')).toBe('a\tb\ncd[31me\nf');
    const long = sanitizeBody('x'.repeat(5000));
    expect(long.length).toBe(MAX_BODY_LINE_CHARS);
    expect(long.endsWith('…')).toBe(true);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        expect(sanitizeBody(text)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\r]/);
      }),
    );
  });

  it('strips bidi overrides that could disguise text', () => {
    expect(sanitizeBody('ok \u202Egnp.exe')).toBe('ok gnp.exe');
  });

  it('splits recipient lists and rejects anything but plain addresses', () => {
    expect(parseRecipients('a@x.org, b@y.org; a@x.org')).toEqual(['a@x.org', 'b@y.org']);
    expect(() => parseRecipients('ops@x.org\r\nBcc: evil@x')).toThrow(/not a plain address/);
    expect(() => parseRecipients('Ops <ops@x.org>')).toThrow(/not a plain address/);
    expect(() => parseRecipients('nobody')).toThrow(/not a plain address/);
  });
});

describe('renderAlertMail', () => {
  it('names host, rule, value with unit, limit, UTC time and what to do', () => {
    const mail = renderAlertMail({
      hostName: 'web1',
      ip: '10.0.0.5',
      rule: memoryRule,
      value: 93.24,
      limit: 90,
      transition: 'firing',
      at: AT,
    });
    expect(mail.subject).toBe('[fleetstat] FIRING [warning]: memory 93.2% > 90% on web1 (10.0.0.5)');
    expect(mail.body).toContain('Host:     web1');
    expect(mail.body).toContain('Address:  10.0.0.5');
    expect(mail.body).toContain('Rule:     memory (config line 12)');
    expect(mail.body).toContain('Value:    93.2%');
    expect(mail.body).toContain('Limit:    90%');
    expect(mail.body).toContain('Time:     2024-05-01T12:34:56.789Z (UTC)');
    expect(mail.body).toContain('What to do:');
    expect(mail.body).toContain('a reminder every 4 h');
  });

  it('never shows a value that looks equal to the limit it exceeds', () => {
    const mail = renderAlertMail({
      hostName: 'h',
      ip: 'h',
      rule: memoryRule,
      value: 90.004,
      limit: 90,
      transition: 'firing',
      at: AT,
    });
    expect(mail.subject).toContain('memory 90.004% > 90%');
    expect(mail.subject).toContain('on h');
    expect(mail.subject).not.toContain('(h)');
  });

  it('renders reminders, resolved mails, load and unreachable', () => {
    const reminder = renderAlertMail({
      hostName: 'db',
      ip: '10.0.0.9',
      rule: { type: 'load' },
      value: 2.5,
      limit: 2,
      transition: 'reminder',
      at: AT,
    });
    expect(reminder.subject).toBe(
      '[fleetstat] STILL FIRING [warning]: load 2.50 per core > 2 per core on db (10.0.0.9)',
    );
    const resolved = renderAlertMail({
      hostName: 'db',
      ip: '10.0.0.9',
      rule: { type: 'disk' },
      value: 50,
      limit: 90,
      transition: 'resolved',
      at: AT,
    });
    expect(resolved.subject).toBe('[fleetstat] RESOLVED [warning]: disk 50.0% <= 90% on db (10.0.0.9)');
    expect(resolved.body).toContain('all-clear');
    const down = renderAlertMail({
      hostName: 'db',
      ip: '10.0.0.9',
      rule: { type: 'unreachable' },
      value: 1,
      limit: 0,
      transition: 'firing',
      at: AT,
      detail: 'stage connect: connect ECONNREFUSED 10.0.0.9:22',
    });
    expect(down.subject).toBe('[fleetstat] FIRING [warning]: host unreachable on db (10.0.0.9)');
    expect(down.body).toContain('Detail:   stage connect: connect ECONNREFUSED');
    expect(down.body).not.toContain('Limit:');
  });

  it('neutralises header injection and control characters in host data', () => {
    const mail = renderAlertMail({
      hostName: 'host\r\nBcc: evil@x\u0007',
      ip: '10.0.0.1',
      rule: { type: 'disk' },
      value: 99,
      limit: 90,
      transition: 'firing',
      at: AT,
      detail: 'fullest disk: /mnt/\u001b[2Jx\nFAKE LINE',
    });
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toContain('host Bcc: evil@x');
    expect(mail.body).not.toMatch(/\n\s*Bcc:/);
    expect(mail.body).not.toContain('\u001b');
    expect(mail.body).not.toMatch(/^FAKE LINE/m);
  });
});
