import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_LISTED_EVENTS,
  eventMeaning,
  eventParties,
  renderSecurityEventsMail,
} from '../src/notify/security-events-mail.js';
import { reportSchema, type EventReport } from '../src/probe/report.js';

const report = reportSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/windows/report-sample.json', import.meta.url), 'utf8')),
);
const events = report.events.items;
const byId = (id: number) => events.find((e) => e.event_id === id)!;
const at = new Date('2026-11-25T10:00:00Z');
const base = { hostName: 'dc01', ip: '192.0.2.10', truncated: false, readable: true, note: '', at };

describe('reading who and from where out of real Security events', () => {
  it('4624 and 4625: target account and source address with workstation from the XML', () => {
    expect(eventParties(byId(4624))).toEqual({
      account: 'WIN-GG82ULGC9GO\\Administrator',
      source: '127.0.0.1 (WIN-GG82ULGC9GO)',
    });
    expect(eventParties(byId(4625))).toEqual({ account: 'CONTOSO\\Auditor', source: '127.0.0.1 (DC01)' });
  });
  it('4740 and 1102: the locked-out account, and who cleared the log', () => {
    expect(eventParties(byId(4740))).toEqual({ account: 'WIN81\\Auditor', source: '' });
    expect(eventParties(byId(1102))).toEqual({ account: 'CONTOSO\\dadmin', source: '' });
  });
  it('falls back to the rendered message when there is no XML', () => {
    const { raw: _raw, ...noRaw } = byId(4625);
    expect(eventParties(noRaw)).toEqual({ account: 'Auditor', source: '127.0.0.1 (DC01)' });
  });
  it('reads sshd failures from probe.sh', () => {
    const sshd = {
      provider: 'sshd',
      message: 'Failed password for invalid user admin from 203.0.113.7 port 52114 ssh2',
    };
    expect(eventParties(sshd)).toEqual({ account: 'admin', source: '203.0.113.7' });
    expect(eventMeaning({ provider: 'sshd', event_id: 2 })).toMatch(/unknown user/);
  });
  it('names the well-known ids', () => {
    expect(eventMeaning(byId(4624))).toBe('successful logon');
    expect(eventMeaning(byId(4625))).toBe('failed logon');
    expect(eventMeaning(byId(4740))).toBe('user account locked out');
    expect(eventMeaning(byId(1102))).toBe('audit log cleared');
    expect(eventMeaning({ provider: 'Microsoft-Windows-Security-Auditing', event_id: 5156 })).toBe('');
  });
});

describe('renderSecurityEventsMail', () => {
  it('lists every event with UTC time, id, meaning, account and source', () => {
    const mail = renderSecurityEventsMail({ ...base, events });
    expect(mail.subject).toBe('[fleetstat] dc01 (192.0.2.10): 4 new security events');
    expect(mail.body).toContain(
      '- 2015-09-08 22:54:54 UTC  EventID 4625 failed logon  account CONTOSO\\Auditor  from 127.0.0.1 (DC01)',
    );
    expect(mail.body).toContain(
      'An account failed to log on. | record 229977 | Information | Microsoft-Windows-Security-Auditing',
    );
    expect(mail.body).toContain('EventID 1102 audit log cleared  account CONTOSO\\dadmin');
    expect(mail.body.indexOf('record 211 ')).toBeLessThan(mail.body.indexOf('record 1087729 '));
  });

  it('says when events could not be read, and why', () => {
    const note =
      'Security log not readable (run the probe account as Administrator): Attempted to perform an unauthorized operation.';
    const mail = renderSecurityEventsMail({ ...base, events: [], readable: false, note });
    expect(mail.subject).toBe('[fleetstat] dc01 (192.0.2.10): no new security events, events could not be read');
    expect(mail.body).toContain(`Security events could not be read: ${note}`);
  });

  it('passes on a cleared-log note and the cap', () => {
    const note =
      'Security log was cleared or rolled back: newest record id 12 is below the last stored 229977; reading from the start';
    const mail = renderSecurityEventsMail({ ...base, events: [byId(1102)], truncated: true, note });
    expect(mail.subject).toBe('[fleetstat] dc01 (192.0.2.10): 1+ new security event');
    expect(mail.body).toContain(`Note from the host: ${note}`);
    expect(mail.body).toMatch(/more events were waiting than the per-run cap/i);
  });

  it(`lists at most ${MAX_LISTED_EVENTS} events, then counts the rest`, () => {
    const many: EventReport[] = Array.from({ length: 120 }, (_, i) => ({ ...byId(4625), record_id: 1000 + i }));
    const mail = renderSecurityEventsMail({ ...base, events: many });
    expect(mail.body.match(/^- /gm)).toHaveLength(MAX_LISTED_EVENTS);
    expect(mail.body).toContain('… and 70 more');
    expect(mail.body).toContain(`record ${1000 + MAX_LISTED_EVENTS - 1} `);
    expect(mail.body).not.toContain(`record ${1000 + MAX_LISTED_EVENTS} `);
  });

  it('keeps hostile host data out of headers and strips control characters', () => {
    const hostile: EventReport = {
      ...byId(4625),
      level: 'Error\r\nBcc: victim@example.com',
      provider: 'Evil\u001b[2J\u001b[31mProvider',
      message: 'Pwned\r\nBcc: attacker@example.com\r\n\u001b]0;title\u0007\u202eevil',
      raw: '<Event><EventData><Data Name="TargetUserName">bob\r\nBcc: x@y</Data><Data Name="IpAddress">10.0.0.1&#13;&#10;To: z@y</Data></EventData></Event>',
    };
    const mail = renderSecurityEventsMail({
      ...base,
      hostName: 'web\r\nBcc: a@b\u001b[0m',
      note: 'x\r\nSubject: y',
      events: [hostile],
    });
    expect(mail.subject).not.toMatch(/[\r\n\u0000-\u001f\u007f]/);
    expect(mail.subject).toContain('web Bcc: a@b');
    expect(mail.body).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    for (const line of mail.body.split('\n')) expect(line).not.toMatch(/^(Bcc|To|Subject):/i);
    expect(mail.body).toContain('account bob Bcc: x@y  from 10.0.0.1 To: z@y');
  });

  it('cuts long fields', () => {
    const long: EventReport = {
      ...byId(4624),
      message: 'A'.repeat(8192),
      raw: `<Data Name="TargetUserName">${'u'.repeat(300)}</Data>`,
    };
    const mail = renderSecurityEventsMail({ ...base, hostName: 'h'.repeat(1000), events: [long] });
    expect(mail.subject.length).toBeLessThanOrEqual(200);
    for (const line of mail.body.split('\n')) expect(line.length).toBeLessThanOrEqual(500);
  });
});
