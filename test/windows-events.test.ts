/**
 * Which Security events probe.ps1 reports: the XPath filter, the -Oldest/-MaxEvents capping and
 * the cleared-log rule are read out of the script and applied to real event records, so a change
 * in the script changes what these tests see. (Get-WinEvent itself is not run here: no Windows.)
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventSchema } from '../src/probe/report.js';

const script = readFileSync(new URL('../src/probe/probe.ps1', import.meta.url), 'utf8');
const eventsDir = new URL('./fixtures/windows/events/', import.meta.url);
const records = readdirSync(eventsDir).filter((f) => f.endsWith('.xml')).map((file) => {
  const xml = readFileSync(new URL(file, eventsDir), 'utf8');
  const recordId = Number(/<EventRecordID>(\d+)<\/EventRecordID>/.exec(xml)![1]);
  const eventId = Number(/<EventID>(\d+)<\/EventID>/.exec(xml)![1]);
  return { recordId, eventId, xml };
});
type Recorded = (typeof records)[number];

/** The filter, query and cap as probe.ps1 writes them. */
function queryFromScript() {
  const body = /function Get-SecurityEvents[\s\S]*?\n\}/.exec(script)![0];
  const xpath = /\$xpath = "(\*\[System\[EventRecordID (>=?) \$from\]\])"/.exec(body);
  const query = /Get-WinEvent -LogName Security -FilterXPath \$xpath (-Oldest )?-MaxEvents \(\$Cap \+ (\d+)\)/.exec(body);
  const cut = /if \(\$found\.Count -gt \$Cap\) \{ \$result\.truncated = \$true; \$found = \$found\[0\.\.\(\$Cap - 1\)\] \}/.test(body);
  const cleared = /if \(\$newest\.Count -gt 0 -and \$newest\[0\]\.RecordId -lt \$LastRecordId\) \{[^}]*\$from = 0/.test(body);
  if (!xpath || !query) throw new Error('Get-SecurityEvents no longer has the expected query');
  return { operator: xpath[2]!, oldestFirst: Boolean(query[1]), extra: Number(query[2]), cut, cleared };
}

/** What the script's query returns from a log holding `log`, given the stored last record id. */
function reported(log: Recorded[], lastRecordId: number, cap: number) {
  const q = queryFromScript();
  const newest = Math.max(...log.map((r) => r.recordId));
  const from = q.cleared && newest < lastRecordId ? 0 : lastRecordId;
  const match = log.filter((r) => (q.operator === '>' ? r.recordId > from : r.recordId >= from));
  const ordered = [...match].sort((a, b) => (q.oldestFirst ? a.recordId - b.recordId : b.recordId - a.recordId));
  let found = ordered.slice(0, cap + q.extra);
  let truncated = false;
  if (q.cut && found.length > cap) { truncated = true; found = found.slice(0, cap); }
  return { ids: found.map((r) => r.recordId), truncated, restarted: from === 0 && lastRecordId > 0 };
}

describe('Security events after the last stored record id', () => {
  it('the fixtures are real records with distinct record ids', () => {
    expect(records.map((r) => r.eventId).sort()).toEqual([1102, 4624, 4625, 4740]);
    expect(new Set(records.map((r) => r.recordId)).size).toBe(records.length);
  });

  it('reports only events newer than the stored record id, oldest first', () => {
    expect(reported(records, 0, 100)).toEqual({ ids: [211, 175703, 229977, 1087729], truncated: false, restarted: false });
    expect(reported(records, 175703, 100).ids).toEqual([229977, 1087729]);
    expect(reported(records, 1087729, 100).ids).toEqual([]);
  });

  it('a re-run with the new last record id reports nothing twice', () => {
    const first = reported(records, 211, 2);
    const second = reported(records, first.ids.at(-1)!, 2);
    expect(first.ids).toEqual([175703, 229977]);
    expect(second.ids).toEqual([1087729]);
    expect(first.ids.filter((id) => second.ids.includes(id))).toEqual([]);
  });

  it('capping keeps the oldest events and sets truncated only when more exist', () => {
    expect(reported(records, 0, 3)).toEqual({ ids: [211, 175703, 229977], truncated: true, restarted: false });
    expect(reported(records, 0, 4).truncated).toBe(false);
  });

  it('a cleared or rolled-back log (newest below the stored id) is read from the start and noted', () => {
    const afterClear = records.filter((r) => r.recordId < 200_000); // the log now ends at 175703
    expect(reported(afterClear, 1_087_729, 10)).toEqual({ ids: [211, 175703], truncated: false, restarted: true });
    expect(script).toContain('Security log was cleared or rolled back');
  });

  it('without Administrator rights the run goes on with readable=false and a note', () => {
    const body = /function Get-SecurityEvents[\s\S]*?\n\}/.exec(script)![0];
    expect(body).toMatch(/UnauthorizedAccessException[\s\S]*?\$result\.readable = \$false[\s\S]*?Administrator[\s\S]*?return \$result/);
  });

  it('event fields are cut to the schema limits before they leave the host', () => {
    expect(script).toMatch(/^\$MaxMessageChars = 8192$/m);
    expect(script).toMatch(/^\$MaxRawChars = 32768$/m);
    const longest = { record_id: 1, event_id: 4625, level: 'x'.repeat(32), provider: 'p', logged_at: '2015-09-08T22:54:54.962Z', message: 'm'.repeat(8192), raw: 'r'.repeat(32768) };
    expect(eventSchema.safeParse(longest).success).toBe(true);
    expect(eventSchema.safeParse({ ...longest, message: 'm'.repeat(8193) }).success).toBe(false);
  });
});
