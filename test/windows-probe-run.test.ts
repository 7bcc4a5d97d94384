/**
 * probe.ps1 executed: pwsh runs it through the collector's own run command line, with the
 * Windows-only commands replaced by stand-ins (test/support/windows-host.ps1) that serve real
 * Security event records and CIM instances from test/fixtures/windows; the reply is opened and
 * validated by the collector's envelope code and compared with the fixture files.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_REPORT_BYTES, openEnvelope } from '../src/probe/envelope.js';
import type { Report } from '../src/probe/report.js';
import { excerpt, expectSuccess, rejectKnownExit, withoutStartupNoise } from '../src/collect/collect-host.js';
import { StageError } from '../src/errors/stage-error.js';
import { renderSecurityEventsMail } from '../src/notify/security-events-mail.js';
import { requireTool } from './support/requirements.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { ensureHost } from '../src/store/hosts.js';
import { lastEventRecordId } from '../src/store/events.js';
import { saveReport } from '../src/store/save-report.js';
import { textBlock } from '../src/text/untrusted-text.js';
import {
  eventFixture,
  WINDOWS_FIXTURES,
  WindowsProbeHost,
  type StandInCall,
  type WindowsRun,
} from './support/windows-probe-host.js';

const pwsh = requireTool(
  'pwsh',
  'the Windows probe runs under PowerShell 7 with stand-ins for the Windows-only commands',
);
const host = pwsh ? new WindowsProbeHost(pwsh) : undefined;
afterAll(() => host?.cleanup());

const EVENT_IDS = [4624, 4625, 4634, 4672, 4720, 4722, 4724, 4732, 4740, 1102];
const FIXTURES = EVENT_IDS.map(eventFixture);
const cim = JSON.parse(readFileSync(`${WINDOWS_FIXTURES}/cim/server-2022.json`, 'utf8'));
const RUN_MS = 600_000;

/** The collector's view of a run: its StageError, or the opened and validated report. */
function collectorView(run: WindowsRun): { report: Report } | { error: StageError } {
  try {
    const result = { stdout: run.stdout, stderr: run.stderr, code: run.code, signal: null };
    rejectKnownExit(result);
    expectSuccess(result, 'run', 'the probe');
    return { report: openEnvelope(withoutStartupNoise(run.stdout), run.secrets) };
  } catch (error) {
    if (error instanceof StageError) return { error };
    throw error;
  }
}

function reportOf(run: WindowsRun): Report {
  const view = collectorView(run);
  if ('error' in view) throw new Error(`the collector refused the run: ${view.error.message}\nstderr: ${run.stderr}`);
  return view.report;
}

/**
 * The report exactly as probe.ps1 sealed it, before opening makes its text printable
 * (docs/schema.md): the reply's ciphertext decrypted with the openssl command line.
 */
function sentReport(run: WindowsRun): { events: { items: Array<{ message: string; raw: string }> } } {
  reportOf(run); // the collector accepts it (MAC, schema) first
  const ciphertext = withoutStartupNoise(run.stdout).toString('utf8').trimEnd().split(' ')[2]!;
  // Test-only secret: argv is fine here, never on a target.
  const r = spawnSync(
    'openssl',
    ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-md', 'sha256', '-iter', '1000', '-pass', `pass:${run.secrets.encPass}`],
    { input: Buffer.from(ciphertext, 'base64'), maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`openssl could not decrypt the reply: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString('utf8'));
}

/** An event text as the collector keeps it: the report schema's sanitiser for multi-line text of `max` characters. */
const storedBlock = (text: string, max: number) => textBlock(text, { maxLineChars: max, maxChars: max });

/** The XML Get-WinEvent's EventLogRecord.ToXml() gives for fixture `file` as record `id` (see windows-host.ps1). */
function expectedXml(file: string, id: number): string {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .replace(/<EventRecordID>\d+<\/EventRecordID>/, `<EventRecordID>${id}</EventRecordID>`)
    .replace(/SystemTime="([^".]+\.\d{7})\d*Z"/, 'SystemTime="$1Z"')
    .replace(/="([^"]*)"/g, "='$1'");
}

/** SystemTime of a fixture as the probe reports it: UTC, milliseconds. */
function expectedTime(file: string): string {
  const m = /SystemTime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})\d*Z"/.exec(readFileSync(file, 'utf8'))!;
  return `${m[1]}.${m[2]}Z`;
}

function winEventCalls(calls: StandInCall[]): StandInCall[] {
  return calls.filter((c) => c.cmd === 'Get-WinEvent');
}

/** The query for new events (the one with a filter). */
function eventQuery(calls: StandInCall[]): StandInCall {
  const query = winEventCalls(calls).find((c) => c.FilterXPath !== '*');
  if (!query) throw new Error(`no filtered Get-WinEvent call in ${JSON.stringify(calls)}`);
  return query;
}

const log = (first: number, count: number, extra: { pad?: number; fixtures?: string[] } = {}) => ({
  fixtures: FIXTURES,
  first,
  count,
  ...extra,
});

describe.skipIf(!pwsh)('probe.ps1 run by pwsh as the collector runs it', () => {
  it(
    'cpu-ms=0: no sleep, one raw CPU read, the idle share since boot and the counters in ms',
    async () => {
      const run = await host!.run({ scenario: { log: log(48213, 1) }, probe: { cpuMs: 0 } });
      const report = reportOf(run);
      const a = cim.Win32_PerfRawData_PerfOS_Processor[0].find((i: { Name: string }) => i.Name === '_Total') as {
        PercentProcessorTime: number;
        Timestamp_Sys100NS: number;
      };
      expect(
        run.calls.filter((c) => c.cmd === 'Get-CimInstance' && c.ClassName === 'Win32_PerfRawData_PerfOS_Processor'),
      ).toHaveLength(1);
      expect(report.cpu).toMatchObject({
        interval_ms: 0,
        counters: { total: Math.floor(a.Timestamp_Sys100NS / 1e4), idle: Math.floor(a.PercentProcessorTime / 1e4) },
      });
      const uptime100ns = (Date.parse(report.collected_at) - Date.parse(report.boot_time)) * 1e4;
      expect(report.cpu.percent).toBeCloseTo(100 * (1 - a.PercentProcessorTime / uptime100ns), 0);
      expect(report.warnings).toEqual([]);
    },
    RUN_MS,
  );

  it(
    'first run: host values from CIM and every Security event, checked against the fixtures',
    async () => {
      const run = await host!.run({ scenario: { log: log(48213, 10) } });
      const report = reportOf(run);
      expect(run.dirRemoved).toBe(true);

      const os = cim.Win32_OperatingSystem[0];
      expect(report.host).toMatchObject({
        os: 'windows',
        os_name: os.Caption.trim(),
        kernel: os.Version,
        arch: 'AMD64',
      });
      expect(report.memory).toEqual({
        total_bytes: os.TotalVisibleMemorySize * 1024,
        available_bytes: os.FreePhysicalMemory * 1024,
        used_bytes: (os.TotalVisibleMemorySize - os.FreePhysicalMemory) * 1024,
        percent: Math.round(10000 * (1 - os.FreePhysicalMemory / os.TotalVisibleMemorySize)) / 100,
      });
      expect(report.process_count).toBe(os.NumberOfProcesses);
      expect(report.boot_time).toBe(new Date(os.LastBootUpTime).toISOString());
      const [a, b] = cim.Win32_PerfRawData_PerfOS_Processor.map((s: { Name: string }[]) =>
        s.find((i) => i.Name === '_Total'),
      ) as { PercentProcessorTime: number; Timestamp_Sys100NS: number }[];
      expect(report.cpu).toMatchObject({ cores: 4, interval_ms: 100, load1: null });
      expect(report.cpu.percent).toBeCloseTo(
        100 *
          (1 - (b!.PercentProcessorTime - a!.PercentProcessorTime) / (b!.Timestamp_Sys100NS - a!.Timestamp_Sys100NS)),
        2,
      );
      // The later sample's raw values as cumulative counters, in ms (100 ns values pass 2^53).
      expect(report.cpu.counters).toEqual({
        total: Math.floor(b!.Timestamp_Sys100NS / 1e4),
        idle: Math.floor(b!.PercentProcessorTime / 1e4),
      });
      const page = cim.Win32_PageFileUsage[0];
      expect(report.swap).toMatchObject({
        total_bytes: page.AllocatedBaseSize * 1048576,
        used_bytes: page.CurrentUsage * 1048576,
      });
      // Fixed disks with a size only (no CD-ROM, no RAW volume of size 0).
      const fixed = cim.Win32_LogicalDisk.filter(
        (d: { DriveType: number; Size: number | null }) => d.DriveType === 3 && (d.Size ?? 0) > 0,
      );
      expect(report.disks.map((d) => [d.mount, d.fs, d.size_bytes, d.avail_bytes])).toEqual(
        fixed.map((d: { DeviceID: string; FileSystem: string; Size: number; FreeSpace: number }) => [
          `${d.DeviceID}\\`,
          d.FileSystem,
          d.Size,
          d.FreeSpace,
        ]),
      );
      expect(report.nics.map((n) => [n.name, n.rx_bytes, n.tx_packets, n.rx_errors])).toEqual(
        cim.Win32_PerfRawData_Tcpip_NetworkInterface.map((n: Record<string, number | string>) => [
          n.Name,
          n.BytesReceivedPersec,
          n.PacketsSentPersec,
          n.PacketsReceivedErrors,
        ]),
      );
      // Interactive, remote desktop and cached sessions with their account; the network logon is not a user session.
      expect(report.users).toEqual([
        { name: 'WIN-GG82ULGC9GO\\Administrator', tty: 'console', from: '', login_at: '2026-11-27T07:03:11.500Z' },
        { name: 'CONTOSO\\jdoe', tty: 'rdp', from: '', login_at: '2026-11-28T00:45:02.250Z' },
        { name: 'CONTOSO\\Renée "RJ" O\'Brien', tty: 'cached', from: '', login_at: '2026-11-28T01:00:00.000Z' },
      ]);
      expect(report.warnings).toEqual([]);

      expect(report.events).toMatchObject({ readable: true, truncated: false, note: '' });
      expect(report.events.items.map((e) => e.event_id)).toEqual(EVENT_IDS);
      report.events.items.forEach((item, i) => {
        expect(item).toMatchObject({
          record_id: 48213 + i,
          level: 'Information',
          logged_at: expectedTime(FIXTURES[i]!),
        });
        expect(item.raw).toBe(expectedXml(FIXTURES[i]!, 48213 + i));
      });
      expect(report.events.items.find((e) => e.event_id === 1102)?.provider).toBe('Microsoft-Windows-Eventlog');
      // Windows' message as the probe sends it (CR LF), and as it is stored: after the one sanitiser (LF).
      const sent = sentReport(run).events.items;
      expect(sent[0]!.message).toMatch(/^An account was successfully logged on\.\r\n/);
      expect(report.events.items.map((e) => e.message)).toEqual(sent.map((e) => storedBlock(e.message, 8192)));
    },
    RUN_MS,
  );

  it(
    'resumes after the last stored record id, reports nothing twice, and reads only the new records',
    async () => {
      const grown = await host!.run({ scenario: { log: log(48213, 14) }, probe: { lastRecordId: 48222 } });
      const report = reportOf(grown);
      expect(report.events.items.map((e) => e.record_id)).toEqual([48223, 48224, 48225, 48226]);
      expect(report.events.items.map((e) => e.event_id)).toEqual(EVENT_IDS.slice(0, 4)); // the log repeats the fixtures
      expect(report.events).toMatchObject({ truncated: false, note: '' });
      const query = eventQuery(grown.calls);
      expect(query).toMatchObject({
        FilterXPath: '*[System[EventRecordID >= 48222 and EventRecordID <= 48226]]',
        MaxEvents: 4,
        Oldest: false,
      });
      expect(query.visits).toBe(5); // 48226 … 48222, where the reader stops

      const again = await host!.run({ scenario: { log: log(48213, 14) }, probe: { lastRecordId: 48226 } });
      expect(reportOf(again).events).toEqual({ readable: true, truncated: false, note: '', items: [] });
      expect(winEventCalls(again.calls).every((c) => c.FilterXPath === '*')).toBe(true); // nothing new: no query at all
    },
    RUN_MS,
  );

  it(
    'a cleared log (newest record below the stored id) is read from its start and said so',
    async () => {
      const run = await host!.run({
        scenario: { log: { fixtures: [eventFixture(1102), eventFixture(4624)], first: 1, count: 3 } },
        probe: { lastRecordId: 48226 },
      });
      const report = reportOf(run);
      expect(report.events.items.map((e) => [e.record_id, e.event_id])).toEqual([
        [1, 1102],
        [2, 4624],
        [3, 1102],
      ]);
      expect(report.events.note).toMatch(/cleared or rolled back: newest record id 3 is below the last stored 48226/);
    },
    RUN_MS,
  );

  it(
    'event-cap: the oldest events first, truncated and said so, the rest in the next run',
    async () => {
      const first = reportOf(await host!.run({ scenario: { log: log(48213, 10) }, probe: { eventCap: 3 } }));
      expect(first.events.items.map((e) => e.record_id)).toEqual([48213, 48214, 48215]);
      expect(first.events.truncated).toBe(true);
      expect(first.events.note).toMatch(/7 more events are waiting \(event-cap 3\)/);
      const next = reportOf(
        await host!.run({ scenario: { log: log(48213, 10) }, probe: { eventCap: 3, lastRecordId: 48215 } }),
      );
      expect(next.events.items.map((e) => e.record_id)).toEqual([48216, 48217, 48218]);
    },
    RUN_MS,
  );

  it(
    'a multi-million-record log is not scanned: the filter is bounded and the reader stops at the last stored record',
    async () => {
      const run = await host!.run({
        scenario: { log: log(1, 2_000_000), maxVisits: 30_000 },
        probe: { lastRecordId: 1_999_990 },
      });
      const report = reportOf(run);
      expect(report.events.items.map((e) => e.record_id)).toEqual(Array.from({ length: 10 }, (_, i) => 1_999_991 + i));
      expect(eventQuery(run.calls)).toMatchObject({
        FilterXPath: '*[System[EventRecordID >= 1999990 and EventRecordID <= 2000000]]',
        MaxEvents: 10,
        Oldest: false,
        visits: 11,
      });
      // The other two queries read one record at each end of the log (and one more, as Get-WinEvent does).
      const total = winEventCalls(run.calls).reduce((sum, c) => sum + Number(c.visits), 0);
      expect(total).toBeLessThanOrEqual(15);
    },
    RUN_MS,
  );

  it(
    'a first run on such a log looks back at most 20000 records and says what it skipped',
    async () => {
      const run = await host!.run({ scenario: { log: log(1, 2_000_000), maxVisits: 30_000 }, probe: { eventCap: 5 } });
      const report = reportOf(run);
      expect(report.events.items.map((e) => e.record_id)).toEqual([
        1_980_001, 1_980_002, 1_980_003, 1_980_004, 1_980_005,
      ]);
      expect(report.events.note).toMatch(
        /1980000 older events were skipped: only the newest 20000 records are looked at/,
      );
      expect(report.events.truncated).toBe(true);
      expect(Number(eventQuery(run.calls).visits)).toBeLessThanOrEqual(20_001);
    },
    RUN_MS,
  );

  it(
    'byte budget: huge events are cut to a report under the collector limit, truncated, resumed next run',
    async () => {
      const scenario = { log: log(700, 300, { pad: 40_000, fixtures: [eventFixture(4625)] }) };
      const run = await host!.run({ scenario, probe: { eventCap: 300 } });
      const report = reportOf(run);
      const json = Buffer.byteLength(JSON.stringify(report));
      expect(json).toBeLessThan(MAX_REPORT_BYTES);
      const n = report.events.items.length;
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(300);
      expect(report.events.truncated).toBe(true);
      expect(report.events.note).toMatch(
        new RegExp(`${300 - n} events left for the next run: the events of one run are kept under \\d+ bytes`),
      );
      // The probe cuts each text at the schema's cap; stored is that text after the one sanitiser.
      const sent = sentReport(run).events.items;
      expect(sent.every((e) => e.raw.length === 32768 && e.message.length === 8192)).toBe(true);
      expect(report.events.items.map((e) => [e.message, e.raw])).toEqual(
        sent.map((e) => [storedBlock(e.message, 8192), storedBlock(e.raw, 32768)]),
      );
      const last = report.events.items.at(-1)!.record_id;
      expect(last).toBe(700 + n - 1);
      const next = reportOf(await host!.run({ scenario, probe: { eventCap: 300, lastRecordId: last } }));
      expect(next.events.items[0]!.record_id).toBe(last + 1);
    },
    RUN_MS,
  );

  it(
    'without Administrator rights: everything else is reported, the report and the mail say to run as Administrator',
    async () => {
      const run = await host!.run({ scenario: { log: log(1, 10), access: 'denied' } });
      const report = reportOf(run);
      expect(report.events.readable).toBe(false);
      expect(report.events.items).toEqual([]);
      expect(report.events.note).toMatch(/^Security log not readable: run the probe account as Administrator/);
      expect(report.memory.total_bytes).toBeGreaterThan(0);
      expect(report.disks.length).toBe(2);
      const mail = renderSecurityEventsMail({
        hostName: 'win1',
        ip: '10.0.0.77',
        events: report.events.items,
        truncated: false,
        readable: false,
        note: report.events.note,
        at: new Date(),
      });
      expect(mail.subject).toMatch(/events could not be read/);
      expect(mail.body).toMatch(
        /Security events could not be read: Security log not readable: run the probe account as Administrator/,
      );
    },
    RUN_MS,
  );

  it(
    'a PowerShell default shell whose profile makes piped input UTF-8 with BOM still delivers the input line',
    async () => {
      const run = await host!.run({
        shell: 'powershell',
        profile: '$OutputEncoding = New-Object System.Text.UTF8Encoding $true\n',
        scenario: { log: log(1, 2) },
      });
      expect(reportOf(run).events.items.map((e) => e.record_id)).toEqual([1, 2]);
      expect(run.dirRemoved).toBe(true);
    },
    RUN_MS,
  );

  it(
    'the probe itself accepts its input line after a UTF-8 byte-order mark',
    async () => {
      const first = await host!.run({ shell: 'direct', scenario: { log: log(1, 1) } });
      const line = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(`FLEETSTAT1 ${first.secrets.runId} ${first.secrets.encPass} ${first.secrets.macKey} 100 500 0\n`),
      ]);
      const run = await host!.run({ shell: 'direct', scenario: { log: log(1, 1) }, stdin: line });
      expect(run.code, run.stderr).toBe(0);
    },
    RUN_MS,
  );

  it(
    'a PowerShell without CIM and Get-WinEvent exits 69 naming the commands; the collector shows it readably',
    async () => {
      const run = await host!.run({ scenario: { standins: false } });
      expect(run.code).toBe(69);
      const view = collectorView(run);
      expect('error' in view && view.error.message).toMatch(
        /^the probe cannot run: fleetstat probe: this PowerShell or \.NET lacks what the probe calls: the Get-CimInstance command \(Windows PowerShell 3\.0 or later/,
      );
      if (!('error' in view)) return;
      expect(view.error.message).toContain('the Get-WinEvent command');
      expect(view.error.message).not.toMatch(/CLIXML|<Objs|_x00/);
    },
    RUN_MS,
  );

  it(
    'a .NET without the PBKDF2 constructor the probe calls (4.6.2) exits 69 naming it',
    async () => {
      const run = await host!.run({ scenario: { dotnet: '4.6.2', log: log(1, 1) } });
      expect(run.code).toBe(69);
      expect(excerpt(run.stderr)).toMatch(
        /PBKDF2-SHA256, \[Security\.Cryptography\.Rfc2898DeriveBytes\] with a HashAlgorithmName \(\.NET Framework 4\.7\.2 or later\): Cannot find an overload for "Rfc2898DeriveBytes" and the argument count: "4"/,
      );
    },
    RUN_MS,
  );
});

describe.skipIf(!pwsh).each(testDialects())('probe.ps1 runs resumed from the store on %s', (dialect) => {
  const db = useMigratedStore(dialect);

  it(
    'each run asks for the events after the highest stored record id; every event is stored once',
    async () => {
      const hostId = await ensureHost(db.store, { ip: '10.0.0.78', port: 22, name: 'win2' });
      const stored: number[] = [];
      for (let run = 1; run <= 3; run += 1) {
        const lastRecordId = await lastEventRecordId(db.store, hostId);
        const report = reportOf(
          await host!.run({ scenario: { log: log(48213, 10) }, probe: { eventCap: 5, lastRecordId } }),
        );
        const saved = await saveReport(db.store, { hostId, roundId: null, collectedAt: new Date(), report });
        stored.push(...saved.newEvents.map((e) => e.record_id));
        expect(report.events.truncated).toBe(run === 1);
      }
      expect(stored).toEqual(Array.from({ length: 10 }, (_, i) => 48213 + i));
      const rows = await db.store.db
        .selectFrom('security_events')
        .select(['record_id', 'event_id', 'raw'])
        .where('host_id', '=', hostId)
        .orderBy('record_id')
        .execute();
      expect(rows.map((r) => [Number(r.record_id), Number(r.event_id)])).toEqual(
        EVENT_IDS.map((id, i) => [48213 + i, id]),
      );
      expect(rows.map((r) => r.raw)).toEqual(FIXTURES.map((f, i) => expectedXml(f, 48213 + i)));
    },
    RUN_MS,
  );
});
