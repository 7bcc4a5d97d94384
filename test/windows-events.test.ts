/**
 * The Security event fixtures: real records published by Microsoft (test/fixtures/windows/README.md),
 * well-formed event XML with the fields the Get-WinEvent stand-in and the mail renderer read.
 * What probe.ps1 does with them (the bounded query, resumption, caps, cleared logs, no
 * Administrator rights) is tested by running it: test/windows-probe-run.test.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventSchema } from '../src/probe/report.js';

const script = readFileSync(new URL('../src/probe/probe.ps1', import.meta.url), 'utf8');
const eventsDir = new URL('./fixtures/windows/events/', import.meta.url);
const records = readdirSync(eventsDir)
  .filter((f) => f.endsWith('.xml'))
  .map((file) => {
    const xml = readFileSync(new URL(file, eventsDir), 'utf8').trimEnd();
    const recordId = Number(/<EventRecordID>(\d+)<\/EventRecordID>/.exec(xml)![1]);
    const eventId = Number(/<EventID>(\d+)<\/EventID>/.exec(xml)![1]);
    return { file, recordId, eventId, xml };
  });

describe('Security event fixtures', () => {
  it('are the ten documented events, each a real record with its own record id', () => {
    expect(records.map((r) => r.eventId).sort()).toEqual([1102, 4624, 4625, 4634, 4672, 4720, 4722, 4724, 4732, 4740]);
    for (const r of records) expect(r.file).toBe(`${r.eventId}.xml`);
    expect(new Set(records.map((r) => r.recordId)).size).toBe(records.length);
  });

  it('are one-line event XML in the event schema namespace with the System fields Windows writes', () => {
    for (const { xml, eventId } of records) {
      expect(xml).toMatch(
        /^<Event xmlns="http:\/\/schemas\.microsoft\.com\/win\/2004\/08\/events\/event"><System><Provider Name="[^"]+"/,
      );
      expect(xml).not.toMatch(/\n|>\s+</);
      for (const tag of [
        'EventID',
        'Version',
        'Level',
        'Task',
        'Opcode',
        'Keywords',
        'EventRecordID',
        'Channel',
        'Computer',
      ])
        expect(xml).toContain(`<${tag}>`);
      expect(xml).toMatch(/<TimeCreated SystemTime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7,9}Z"\/>/);
      expect(xml).toContain('<Channel>Security</Channel>');
      expect(xml).toMatch(
        eventId === 1102
          ? /<UserData><LogFileCleared /
          : /<EventData>(<Data Name="\w+">[^<]*<\/Data>)+<\/EventData><\/Event>$/,
      );
    }
  });

  it('audit failures carry the Audit Failure keyword, successes Audit Success', () => {
    const keywords = Object.fromEntries(
      records.map((r) => [r.eventId, /<Keywords>(0x[0-9a-f]+)<\/Keywords>/i.exec(r.xml)![1]]),
    );
    expect(keywords[4625]).toBe('0x8010000000000000');
    for (const id of [4624, 4634, 4672, 4720, 4722, 4724, 4732, 4740]) expect(keywords[id]).toBe('0x8020000000000000');
  });

  it('event fields are cut to the schema limits before they leave the host', () => {
    expect(script).toMatch(/^\$MaxMessageChars = 8192$/m);
    expect(script).toMatch(/^\$MaxRawChars = 32768$/m);
    const longest = {
      record_id: 1,
      event_id: 4625,
      level: 'x'.repeat(32),
      provider: 'p',
      logged_at: '2015-09-08T22:54:54.962Z',
      message: 'm'.repeat(8192),
      raw: 'r'.repeat(32768),
    };
    expect(eventSchema.safeParse(longest).success).toBe(true);
    expect(eventSchema.safeParse({ ...longest, message: 'm'.repeat(8193) }).success).toBe(false);
  });
});
