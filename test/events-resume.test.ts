/**
 * Security events read for real across rounds: an sshd host whose private mount namespace
 * (userland-ns.sh) holds a /var/log/auth.log the unprivileged probe can read, collected by
 * `fleetstat collect` (dist/cli/main.js) into each database round after round. The first round takes
 * the newest event-cap events; every later round must ask for the events after the highest
 * stored record id (docs/envelope.md: last-record-id), so nothing is stored twice and a burst of
 * new lines larger than event-cap arrives whole over the next rounds, oldest first. A collector
 * that always sent last-record-id 0 would get the newest event-cap lines each time and lose the
 * older part of the burst: the rounds below catch that.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { fleetstat } from './support/cli.js';
import { testDialects, withTestDatabase } from './support/databases.js';
import { writeFleetConfig } from './support/fleet-config.js';
import { requireService, requireTool } from './support/requirements.js';
import { startFleet, type SshdFleet } from './support/sshd.js';
import { inNamespace } from './support/userlands.js';

const ready =
  ['unshare', 'nsenter'].every((t) => requireTool(t, "the host's auth.log lives in a private mount namespace")) &&
  requireService(process.getuid?.() === 0, 'root', 'mount namespaces need root');

const EVENT_CAP = 3;
// A whole second an hour ago: record ids are unix seconds * 1000 (one event per second here).
const T0 = Math.floor(Date.now() / 1000) - 3600;

interface LogLine {
  at: number;
  text: string;
  eventId: number;
}

/** sshd failure lines, one per second from `first` (rsyslog's precise time format). */
function failures(first: number, count: number, tag: string): LogLine[] {
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? {
          at: first + i,
          text: `Failed password for invalid user ${tag}${i} from 127.0.0.9 port ${50000 + i} ssh2`,
          eventId: 1,
        }
      : { at: first + i, text: `Invalid user ${tag}${i} from 127.0.0.9 port ${50000 + i}`, eventId: 2 },
  );
}

function logText(lines: LogLine[]): string {
  const stamp = (s: number) => new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, '.000000+00:00');
  return lines.map((l, i) => `${stamp(l.at)} resume-host sshd[${900 + i}]: ${l.text}\n`).join('');
}

const recordId = (l: LogLine) => l.at * 1000;

const dialects = testDialects();

describe.skipIf(!ready)('security events across rounds (a readable auth.log on the host)', () => {
  let fleet: SshdFleet;
  let dir: string;
  const initial = failures(T0, 5, 'first');
  const burst = failures(T0 + 100, 5, 'burst');

  // One host per database: each starts from the same five lines.
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-events-resume-'));
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(dir, 0o755);
    // A cron line the probe must skip, then the sshd failures.
    writeFileSync(
      join(data, 'auth.log'),
      `${new Date(T0 * 1000 - 1000).toISOString()} resume-host CRON[1]: session opened for user root\n${logText(initial)}`,
    );
    fleet = await startFleet(dialects.length, {
      firstIndex: 241,
      perHost: () => ({ wrap: inNamespace('/', data, []) }),
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Appends lines to host `i`'s /var/log/auth.log inside its sshd's own mount namespace. */
  function appendOnHost(i: number, lines: LogLine[]): void {
    execFileSync('nsenter', ['-t', String(fleet.hosts[i]!.pid), '-m', '--', 'sh', '-c', 'cat >> /var/log/auth.log'], {
      input: logText(lines),
    });
  }

  /** One `fleetstat collect`; returns the events stored so far, by record id. */
  async function round(
    config: string,
    dbUrl: string,
  ): Promise<Array<{ record_id: number; event_id: number; message: string }>> {
    const result = await fleetstat(['collect', '--config', config, '--json'], {}, 300_000);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ hosts_ok: 1, hosts_failed: 0 });
    const store = await openStore(dbUrl);
    try {
      const rows = await store.db
        .selectFrom('security_events')
        .select(['record_id', 'event_id', 'message'])
        .orderBy('record_id')
        .execute();
      return rows.map((r) => ({ record_id: Number(r.record_id), event_id: Number(r.event_id), message: r.message }));
    } finally {
      await store.close();
    }
  }

  const expected = (lines: LogLine[]) =>
    lines.map((l) => ({ record_id: recordId(l), event_id: l.eventId, message: l.text }));

  it.each(dialects.map((dialect, i) => ({ dialect, i })))(
    'on $dialect: stores the newest event-cap events first, then resumes after the last record id: each new line once, nothing twice',
    async ({ dialect, i }) => {
      await withTestDatabase(dialect, async (dbUrl) => {
        const configDir = join(dir, dialect);
        mkdirSync(configDir);
        const config = writeFleetConfig(fleet, {
          dir: configDir,
          databaseUrl: dbUrl,
          settings: { 'event-cap': String(EVENT_CAP), 'cpu-sample': '100' },
          clients: [{ host: fleet.hosts[i]!, auth: 'key', name: 'resume-host' }],
        });
        // Round 1: the probe really read the log (unprivileged): the newest three of five.
        const first = await round(config, dbUrl);
        expect(first).toEqual(expected(initial.slice(-EVENT_CAP)));

        // Round 2: nothing new in the log, nothing new stored.
        expect(await round(config, dbUrl)).toEqual(first);

        // Five new lines, more than event-cap: the next round takes the oldest three after the last
        // stored record id, the one after it the other two, and then nothing more.
        appendOnHost(i, burst);
        expect(await round(config, dbUrl)).toEqual([...first, ...expected(burst.slice(0, EVENT_CAP))]);
        expect(await round(config, dbUrl)).toEqual([...first, ...expected(burst)]);
        expect(await round(config, dbUrl)).toEqual([...first, ...expected(burst)]);

        // One more line: exactly it is added.
        const late = failures(T0 + 200, 1, 'late');
        appendOnHost(i, late);
        expect(await round(config, dbUrl)).toEqual([...first, ...expected(burst), ...expected(late)]);
      });
    },
    900_000,
  );
});
