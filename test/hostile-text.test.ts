/**
 * Hostile text through every path a user sees (issue 11, item 1). Three hostile targets:
 * - a server that speaks like sshd and answers with an SSH disconnect whose reason holds terminal
 *   escapes, a forged log line, bidi overrides and invalid UTF-8, before any host key is offered;
 * - a real sshd host whose probe reports such text as its OS name and architecture (and other
 *   fields), sealed correctly so it passes the envelope checks;
 * - a real sshd host whose probe fails with such text on stderr.
 * Then `collect` (progress and summary), the host_errors rows, the queued mail, `hosts test`
 * (text and JSON), serve's log, the JSON API and the HTML pages must all be printable: no
 * control or bidi character, no forged line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { openStore } from '../src/store/open-store.js';
import { CLI, fleetstat } from './support/cli.js';
import { startDisconnecter, type FaultEndpoint } from './support/fault-servers.js';
import { writeFleetConfig, type FleetClient } from './support/fleet-config.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';

// The forged line imitates both serve's log and collect's output.
const FORGED = '2026-01-01T00:00:00.000Z round 99: 9 ok, 0 failed';
const DISCONNECT_REASON = Buffer.concat([
  Buffer.from(
    `go away\u001b[2J\u001b]0;owned\u0007\r\n${FORGED}\nFAIL nobody [auth] \u202egnp.exe\u2066x\u2069 `,
    'utf8',
  ),
  Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]), // invalid UTF-8
  Buffer.from(' end', 'utf8'),
]);

// Never printable: C0/C1 controls (CR, LF, ESC), DEL, separators, bidi, zero-width, lone surrogates.
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The same, allowing the line breaks and tabs of multi-line output. */
const unsafeIn = (text: string) => text.replace(/[\n\t]/g, ' ');
/** No line starts with the forged text: it may only appear inside a line of ours. */
const FORGED_LINE = /^(\S+ )?round 99:|^FAIL nobody/m;

/** Every string inside a parsed JSON value. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

describe('hostile text from targets and libraries', () => {
  let fleet: FaultFleet;
  let disconnecter: FaultEndpoint;
  let dir: string;
  let configPath: string;
  let databaseUrl: string;

  beforeAll(async () => {
    [fleet, disconnecter] = await Promise.all([
      startFaultFleet(2, { firstIndex: 150 }),
      startDisconnecter('127.0.9.40', DISCONNECT_REASON),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-hostile-text-'));
    const [reporter, failer] = fleet.hosts;
    fleet.setMode(reporter!, 'reply hostile');
    fleet.setMode(failer!, 'reply stderr-exit');
    databaseUrl = `sqlite:${join(dir, 'hostile.sqlite')}`;
    const unreachable = { mail: 'ops@example.test', alerts: ['<alert type="unreachable"/>'] };
    const clients: FleetClient[] = [
      { host: disconnecter, auth: 'key', name: 'disconnecter', ...unreachable },
      {
        host: reporter!,
        auth: 'key',
        name: 'reporter',
        mail: 'ops@example.test',
        alerts: ['<alert type="memory" limit="1%"/>'],
      },
      { host: failer!, auth: 'key', name: 'failer', attributes: { timeout: '20' }, ...unreachable },
    ];
    configPath = writeFleetConfig(fleet, {
      dir,
      databaseUrl,
      clients,
      settings: { 'connect-timeout': '10', interval: '3600' },
    });
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), disconnecter?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('collect prints one printable line per failure, and stores and mails printable text', async () => {
    const run = await fleetstat(['collect', '--config', configPath]);
    expect(run.code, run.stderr).toBe(EXIT.hostsFailed);
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).toMatch(/FAIL disconnecter \[connect\] .*go away .*round 99: 9 ok.*gnp\.exe x \ufffd/);
    expect(unsafeIn(output)).not.toMatch(UNSAFE);
    expect(output).not.toMatch(FORGED_LINE);

    const store = await openStore(databaseUrl);
    try {
      const errors = await store.db.selectFrom('host_errors').select(['stage', 'message']).execute();
      expect(errors.map((e) => e.stage).sort()).toEqual(['connect', 'run']);
      for (const { message } of errors) expect(message).not.toMatch(UNSAFE);
      const host = await store.db
        .selectFrom('hosts')
        .selectAll()
        .where('name', '=', 'reporter')
        .executeTakeFirstOrThrow();
      expect(host.os_name).toMatch(/^Hostile .* Linux 2026-01-01T00:00:00\.000Z round 99/);
      for (const text of [host.os_name, host.arch, host.hostname]) expect(text).not.toMatch(UNSAFE);
      const mails = await store.db.selectFrom('outbox').select(['subject', 'body']).execute();
      // Grouped (the default): one mail for ops@ listing both unreachable hosts and the memory alert.
      expect(mails.length).toBeGreaterThanOrEqual(1);
      const bodies = mails.map((m) => m.body).join('\n');
      for (const name of ['disconnecter', 'failer', 'reporter']) expect(bodies).toContain(name);
      expect(mails.some((m) => m.body.includes('go away'))).toBe(true);
      for (const mail of mails) {
        expect(mail.subject).not.toMatch(UNSAFE);
        expect(unsafeIn(mail.body)).not.toMatch(UNSAFE);
      }
    } finally {
      await store.close();
    }
  });

  it('collect --json carries the same text printable', async () => {
    const run = await fleetstat(['collect', '--config', configPath, '--json']);
    expect(run.code, run.stderr).toBe(EXIT.hostsFailed);
    const strings = stringsOf(JSON.parse(run.stdout));
    expect(strings.some((s) => s.includes('go away'))).toBe(true);
    for (const s of strings) expect(s).not.toMatch(UNSAFE);
    expect(unsafeIn(run.stderr)).not.toMatch(UNSAFE);
  });

  it('hosts test prints the OS name and arch a target reports, and every error, printable', async () => {
    const text = await fleetstat(['hosts', 'test', '--config', configPath]);
    expect(text.stdout).toMatch(/^ok {5}reporter .*: Hostile .* Linux .* x86_64 \[5m FORGED, cpu/m);
    expect(text.stdout).toMatch(/^FAILED disconnecter .*go away/m);
    expect(unsafeIn(text.stdout)).not.toMatch(UNSAFE);
    expect(text.stdout).not.toMatch(FORGED_LINE);
    expect(text.stdout.trim().split('\n')).toHaveLength(3);

    const json = await fleetstat(['hosts', 'test', '--config', configPath, '--json']);
    const strings = stringsOf(JSON.parse(json.stdout));
    expect(strings).toContain('x86_64 [5m FORGED');
    for (const s of strings) expect(unsafeIn(s)).not.toMatch(UNSAFE);
  });

  it("serve's log, the JSON API and the HTML pages hold no control or bidi character", async () => {
    const serve: ChildProcess = spawn(
      process.execPath,
      [CLI, 'serve', '--config', configPath, '--listen', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    serve.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    try {
      await expect.poll(() => log, { timeout: 60_000, interval: 100 }).toMatch(/round \d+: 1 ok, 2 failed/);
      expect(log).toMatch(/FAIL disconnecter \[connect\] .*go away/);
      expect(unsafeIn(log)).not.toMatch(UNSAFE);
      expect(log).not.toMatch(FORGED_LINE);

      const port = /dashboard on http:\/\/127\.0\.0\.1:(\d+)\//.exec(log)![1];
      const base = `http://127.0.0.1:${port}`;
      const { hosts } = (await (await fetch(`${base}/api/hosts`)).json()) as {
        hosts: Array<{ id: number; name: string }>;
      };
      expect(hosts.map((h) => h.name).sort()).toEqual(['disconnecter', 'failer', 'reporter']);
      for (const host of hosts) {
        const api = await (await fetch(`${base}/api/hosts/${host.id}`)).json();
        for (const s of stringsOf(api)) expect(unsafeIn(s), host.name).not.toMatch(UNSAFE);
        const page = await (await fetch(`${base}/hosts/${host.id}`)).text();
        expect(unsafeIn(page), host.name).not.toMatch(UNSAFE);
      }
      const events = await (await fetch(`${base}/api/events`)).json();
      for (const s of stringsOf(events)) expect(unsafeIn(s)).not.toMatch(UNSAFE);
      for (const path of ['/', '/rounds', '/alerts']) {
        expect(unsafeIn(await (await fetch(`${base}${path}`)).text()), path).not.toMatch(UNSAFE);
      }
    } finally {
      if (serve.exitCode === null) {
        const exited = new Promise((resolve) => serve.once('exit', resolve));
        serve.kill('SIGTERM');
        await exited;
      }
    }
  });
});
