/**
 * Failures a round survives are reported, once each, never swallowed: writing a host's error,
 * finishing the round, reading the last event id, writing the host row, importing the spool.
 * Real SQLite; each fault is made real inside the database (a trigger refusing one statement,
 * a table taken away) or on disk, and the host is a real closed port on loopback (connect fails).
 * Also: an abandoned round's hosts come back as `not-started`, not as an invented stage; and the
 * alerts of hosts that failed (the outage notice, its recipients, what is counted, the alert steps
 * that fail), with closed ports only, so that they run cheaply under mutation testing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import type { Config } from '../src/config/types.js';
import { outcomeFailure } from '../src/collect/host-outcome.js';
import { collectRound, type RoundEvent, type RoundSummary } from '../src/collect/round.js';
import { migrate } from '../src/store/migrate.js';
import { openStore, type Store } from '../src/store/open-store.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { fleetstat } from './support/cli.js';
import { startServe } from './support/serve-process.js';
import { closedPort, type FaultEndpoint } from './support/fault-servers.js';

describe('failures a round survives', () => {
  let dir: string;
  let down: FaultEndpoint;
  /** Two more closed ports, for rounds where several hosts fail. */
  let others: FaultEndpoint[];
  let store: Store;
  let config: Config;
  let configPath: string;
  let caseNo = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-problems-'));
    down = await closedPort('127.0.9.53');
    others = [await closedPort('127.0.9.54'), await closedPort('127.0.9.55')];
  });
  afterAll(async () => {
    await down?.stop();
    for (const other of others ?? []) await other.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh database and a config with one client whose port is closed (fails at connect). */
  beforeEach(async () => {
    const caseDir = join(dir, `case-${++caseNo}`);
    mkdirSync(caseDir);
    writeFileSync(join(caseDir, 'pw'), 'unused\n', { mode: 0o600 });
    const databaseUrl = `sqlite:${join(caseDir, 'db.sqlite')}`;
    configPath = join(caseDir, 'config.xml');
    writeFileSync(
      configPath,
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<clients>',
        `  <settings database="${databaseUrl}" known-hosts="known_hosts" spool-dir="spool" connect-timeout="20" interval="1"/>`,
        `  <client ip="${down.address}" port="${down.port}" username="nobody" password-file="pw" name="down1" host-key="accept-new"/>`,
        '</clients>',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    config = await loadConfig(configPath);
    store = await openStore(databaseUrl);
    await migrate(store);
  });
  afterEach(async () => {
    await store?.close();
  });

  /**
   * Rewrites this case's config: `settings` are extra attributes of <settings>, `clients` the
   * <client> elements (their ip, port and password-file are filled in, `others` after down1).
   */
  async function useConfig(settings: string, clients: string[]): Promise<void> {
    const text = readFileSync(configPath, 'utf8');
    const endpoints = [down, ...others];
    const elements = clients.map((client, i) =>
      client.replace(
        '<client ',
        `<client ip="${endpoints[i]!.address}" port="${endpoints[i]!.port}" username="nobody" password-file="pw" host-key="accept-new" `,
      ),
    );
    writeFileSync(
      configPath,
      text
        .replace('interval="1"/>', `interval="1" ${settings}/>`)
        .replace(/ {2}<client [^\n]*\n/, elements.map((e) => `  ${e}\n`).join('')),
      { mode: 0o600 },
    );
    config = await loadConfig(configPath);
  }

  /** Runs a round, keeping its events. */
  async function round(
    options: { signal?: AbortSignal } = {},
  ): Promise<{ summary: RoundSummary; events: RoundEvent[] }> {
    const events: RoundEvent[] = [];
    const summary = await collectRound(config, store, { onEvent: (event) => events.push(event), ...options });
    return { summary, events };
  }

  /** The problem events, and checks the summary lists the same ones. */
  function problemsOf(summary: RoundSummary, events: RoundEvent[]): string[] {
    const fromEvents = events.flatMap((e) => (e.type === 'problem' ? [e.problem.message] : []));
    expect(summary.problems.map((p) => p.message)).toEqual(fromEvents);
    return fromEvents;
  }

  it('a host error that cannot be written: the round finishes and says so once, with host, stage and cause', async () => {
    await sql`CREATE TRIGGER refuse_host_errors BEFORE INSERT ON host_errors BEGIN SELECT RAISE(ABORT, 'host_errors refused by the test'); END`.execute(
      store.db,
    );
    const { summary, events } = await round();
    expect(summary).toMatchObject({ hostsOk: 0, hostsFailed: 1 });
    expect(summary.outcomes[0]!.status).toBe('failed');
    expect(outcomeFailure(summary.outcomes[0]!)?.stage).toBe('connect');
    const problems = problemsOf(summary, events);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^recording the connect error of down1 in host_errors failed \(it was: connection refused .*\): host_errors refused by the test$/,
    );
    expect(summary.problems[0]!.client?.name).toBe('down1');
    expect((summary.problems[0]!.cause as Error).message).toBe('host_errors refused by the test');
    // The round itself is recorded as finished, and the events end with round-end.
    const row = await store.db
      .selectFrom('rounds')
      .selectAll()
      .where('id', '=', summary.roundId)
      .executeTakeFirstOrThrow();
    expect(row.finished_at).not.toBeNull();
    expect(row.hosts_failed).toBe(1);
    expect(events.at(-1)?.type).toBe('round-end');
  }, 60_000);

  it("the round's end that cannot be written: reported once, and the summary still returned", async () => {
    await sql`CREATE TRIGGER refuse_round_end BEFORE UPDATE ON rounds BEGIN SELECT RAISE(ABORT, 'rounds refused by the test'); END`.execute(
      store.db,
    );
    const { summary, events } = await round();
    const problems = problemsOf(summary, events);
    expect(problems).toEqual([
      `recording the end of round ${summary.roundId} failed; it stays listed as unfinished: rounds refused by the test`,
    ]);
    const errors = await store.db.selectFrom('host_errors').select('stage').execute();
    expect(errors).toEqual([{ stage: 'connect' }]);
    expect(events.at(-1)).toMatchObject({ type: 'round-end', summary: { problems: summary.problems } });
  }, 60_000);

  it('the last event id that cannot be read: reported once; the host still fails only at its own stage', async () => {
    await sql`ALTER TABLE security_events RENAME TO security_events_gone`.execute(store.db);
    try {
      const { summary, events } = await round();
      const problems = problemsOf(summary, events);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^reading the last stored security event of down1 failed; its events are read from the start .*: .*security_events/,
      );
      expect(outcomeFailure(summary.outcomes[0]!)?.stage).toBe('connect');
    } finally {
      await sql`ALTER TABLE security_events_gone RENAME TO security_events`.execute(store.db);
    }
  }, 60_000);

  it('a host row that cannot be written: its failure, unrecordable, is reported instead of dropped', async () => {
    await sql`CREATE TRIGGER refuse_hosts BEFORE INSERT ON hosts BEGIN SELECT RAISE(ABORT, 'hosts refused by the test'); END`.execute(
      store.db,
    );
    const { summary, events } = await round();
    expect(summary.outcomes[0]!.status).toBe('failed');
    const problems = problemsOf(summary, events);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^the connect failure of down1 is not recorded in host_errors and its alerts are not evaluated: its host row could not be written: .*hosts refused by the test/,
    );
  }, 60_000);

  it('a spool that cannot be read: reported once, the round goes on', async () => {
    writeFileSync(config.settings.spoolDir, 'a file where the spool directory should be\n');
    const { summary, events } = await round();
    const problems = problemsOf(summary, events);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^importing the spool .* failed; the reports left there wait for the next round: ENOTDIR/,
    );
    expect(summary.spoolImported).toBe(0);
    expect(summary.spoolRejected).toEqual([]);
    expect(summary.hostsFailed).toBe(1);
  }, 60_000);

  it('nothing to report when nothing failed but the host', async () => {
    const before = Date.now();
    const { summary, events } = await round();
    const elapsed = Date.now() - before;
    expect(problemsOf(summary, events)).toEqual([]);
    expect(summary.alertNotes).toEqual([]);
    expect(outcomeFailure(summary.outcomes[0]!)?.stage).toBe('connect');
    // The failed host is announced (serve logs it) with its error and how long it took.
    const failed = events.filter((e) => e.type === 'host-failed');
    expect(failed).toMatchObject([{ type: 'host-failed', client: { name: 'down1' }, error: { stage: 'connect' } }]);
    const { ms } = failed[0] as Extract<RoundEvent, { type: 'host-failed' }>;
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThanOrEqual(elapsed);
    expect(summary.outcomes[0]).toMatchObject({ status: 'failed', ms });
  }, 60_000);

  it('CPU counters that cannot be read: reported once with the host; the host fails only at its own stage', async () => {
    await sql`ALTER TABLE samples RENAME TO samples_gone`.execute(store.db);
    const { summary, events } = await round();
    expect(problemsOf(summary, events)).toEqual([
      'reading the last CPU counters of down1 failed; the probe samples CPU this round: no such table: samples',
    ]);
    expect(summary.problems[0]!.client?.name).toBe('down1');
    expect(outcomeFailure(summary.outcomes[0]!)?.stage).toBe('connect');
  }, 60_000);

  it('silences that cannot be read: noted once, none applied, the round goes on', async () => {
    await useConfig('alert-mail="per-change"', [
      '<client name="down1" mail="ops@example.test"><alert type="unreachable"/></client>',
    ]);
    await sql`DROP TABLE silences`.execute(store.db);
    const { summary, events } = await round();
    expect(summary.alertNotes).toEqual([
      'silences could not be read, none applied this round: no such table: silences',
    ]);
    expect(problemsOf(summary, events)).toEqual([]);
    // None applied: the host's unreachable notice is queued as without silences.
    expect(summary).toMatchObject({ hostsFailed: 1, mailsQueued: 1 });
  }, 60_000);

  it('a long cause is kept whole in the problem (up to twice the stage-message limit and the context)', async () => {
    const cause = `refused ${'x'.repeat(1900)} end`;
    await sql
      .raw(`CREATE TRIGGER refuse_host_errors BEFORE INSERT ON host_errors BEGIN SELECT RAISE(ABORT, '${cause}'); END`)
      .execute(store.db);
    const { summary, events } = await round();
    const [problem] = problemsOf(summary, events);
    expect(problem).toMatch(
      /^recording the connect error of down1 in host_errors failed \(it was: .*\): refused x+ end$/,
    );
    expect(problem!.endsWith(`: ${cause}`)).toBe(true);
  }, 60_000);

  describe('alerts of the hosts that failed', () => {
    const unreachable = '<alert type="unreachable"/>';
    const memory = '<alert type="memory" limit="90%"/>';
    /** down1 (ops, an unreachable rule), down2 (other, no unreachable rule), down3 (no mail). */
    const fleet = [
      `<client name="down1" mail="ops@example.test">${unreachable}${memory}</client>`,
      `<client name="down2" mail="other@example.test">${memory}</client>`,
      `<client name="down3">${unreachable}</client>`,
    ];

    async function outbox() {
      return store.db.selectFrom('outbox').select(['recipient', 'subject']).orderBy('id').execute();
    }

    it('an outage (grouped): one collector-outage notice, only to recipients of an unreachable rule', async () => {
      await useConfig('inhibit-min-hosts="1"', fleet);
      const { summary, events } = await round();
      expect(summary).toMatchObject({ hostsFailed: 3, mailsQueued: 1, groupedMails: 1, alertNotes: [] });
      expect(problemsOf(summary, events)).toEqual([]);
      const notices = await store.db
        .selectFrom('notifications')
        .select(['recipient', 'rule', 'severity', 'transition', 'thread_id'])
        .execute();
      expect(notices).toEqual([
        {
          recipient: 'ops@example.test',
          rule: 'collector-outage',
          severity: 'critical',
          transition: 'firing',
          thread_id: expect.stringMatching(/^outage\.\d+$/),
        },
      ]);
      expect(await outbox()).toEqual([
        {
          recipient: 'ops@example.test',
          subject: '[fleetstat] FIRING [critical]: collector cannot reach 3 of 3 hosts',
        },
      ]);
    }, 120_000);

    it('an outage (per-change): the notice is one mail, queued at once', async () => {
      await useConfig('inhibit-min-hosts="1" alert-mail="per-change"', fleet);
      const { summary } = await round();
      expect(summary).toMatchObject({ hostsFailed: 3, mailsQueued: 1, groupedMails: 0, alertNotes: [] });
      expect(await store.db.selectFrom('notifications').select('id').execute()).toEqual([]);
      expect(await outbox()).toEqual([
        {
          recipient: 'ops@example.test',
          subject: '[fleetstat] FIRING [critical]: collector cannot reach 3 of 3 hosts',
        },
      ]);
    }, 120_000);

    it('an outage where no one has an unreachable rule: nothing queued', async () => {
      await useConfig('inhibit-min-hosts="1"', [
        fleet[1]!,
        `<client name="down1" mail="ops@example.test">${memory}</client>`,
      ]);
      const { summary } = await round();
      expect(summary).toMatchObject({ hostsFailed: 2, mailsQueued: 0, groupedMails: 0, alertNotes: [] });
      expect(await store.db.selectFrom('notifications').select('id').execute()).toEqual([]);
      expect(await outbox()).toEqual([]);
    }, 120_000);

    it('no outage: each unreachable rule gives its own notice, mail and webhook, counted in mailsQueued', async () => {
      const withWebhook = fleet[0]!.replace('</client>', '<webhook url="http://127.0.0.1:9/hook"/></client>');
      await useConfig('inhibit-share="0" alert-mail="per-change"', [withWebhook, ...fleet.slice(1)]);
      const { summary } = await round();
      expect(summary).toMatchObject({ hostsFailed: 3, mailsQueued: 2, alertNotes: [] });
      expect(await outbox()).toEqual([
        {
          recipient: 'ops@example.test',
          subject: '[fleetstat] FIRING [warning]: host unreachable on down1 (127.0.9.53)',
        },
        { recipient: 'http://127.0.0.1:9/hook', subject: 'FIRING [warning]: host unreachable on down1 (127.0.9.53)' },
      ]);
    }, 120_000);

    it('alert steps that fail are noted, each once, and fail nothing else', async () => {
      await useConfig('inhibit-min-hosts="1"', fleet);
      await sql`ALTER TABLE alerts RENAME TO alerts_gone`.execute(store.db);
      await sql`ALTER TABLE notifications RENAME TO notifications_gone`.execute(store.db);
      const { summary, events } = await round();
      expect(summary.alertNotes).toEqual([
        'alerts of down1 not evaluated: no such table: alerts',
        'alerts of down2 not evaluated: no such table: alerts',
        'alerts of down3 not evaluated: no such table: alerts',
        'alerts of unreachable hosts failed: no such table: notifications',
        'grouped mail not queued, the changes wait for the next round: no such table: notifications',
      ]);
      expect(problemsOf(summary, events)).toEqual([]);
      expect(summary).toMatchObject({ hostsFailed: 3, mailsQueued: 0, groupedMails: 0 });
      expect(events.at(-1)?.type).toBe('round-end');
    }, 120_000);
  });

  it("an abandoned round's hosts are not-started: counted as not stored, with no stage invented and nothing recorded", async () => {
    const abort = new AbortController();
    abort.abort();
    const { summary, events } = await round({ signal: abort.signal });
    expect(summary.outcomes.map((o) => o.status)).toEqual(['not-started']);
    expect(outcomeFailure(summary.outcomes[0]!)).toEqual({
      stage: null,
      message: 'not started: the collector is shutting down',
    });
    expect(summary).toMatchObject({ hostsOk: 0, hostsFailed: 1, spooled: 0 });
    expect(events.filter((e) => e.type === 'host-failed' || e.type === 'host-ok')).toEqual([]);
    expect(await store.db.selectFrom('host_errors').select('id').execute()).toEqual([]);
  }, 60_000);

  describe('fleetstat collect (the built CLI)', () => {
    it('prints a survived failure once: in the summary text, and in --json', async () => {
      await sql`CREATE TRIGGER refuse_host_errors BEFORE INSERT ON host_errors BEGIN SELECT RAISE(ABORT, 'host_errors refused by the test'); END`.execute(
        store.db,
      );
      const json = await fleetstat(['collect', '--config', configPath, '--json']);
      expect(json.code, json.stderr).toBe(EXIT.allHostsFailed);
      const parsed = JSON.parse(json.stdout) as {
        problems: string[];
        failures: Array<{ host: string; stage: string }>;
      };
      expect(parsed.failures).toMatchObject([{ host: 'down1', stage: 'connect' }]);
      expect(parsed.problems).toHaveLength(1);
      expect(parsed.problems[0]).toMatch(
        /^recording the connect error of down1 in host_errors failed .*: host_errors refused by the test$/,
      );

      const text = await fleetstat(['collect', '--config', configPath]);
      expect(text.code, text.stderr).toBe(EXIT.allHostsFailed);
      expect(text.stderr.match(/host_errors refused by the test/g)).toHaveLength(1);
      expect(text.stderr).toMatch(/^ {2}problem: recording the connect error of down1 in host_errors failed/m);
    }, 120_000);
  });

  describe('fleetstat serve (the built CLI)', () => {
    it('logs each survived failure once per round, at warn, with the host and the cause', async () => {
      await sql`CREATE TRIGGER refuse_host_errors BEFORE INSERT ON host_errors BEGIN SELECT RAISE(ABORT, 'host_errors refused by the test'); END`.execute(
        store.db,
      );
      const serve = startServe(configPath, ['--listen', '127.0.0.1:0', '--log-format', 'json']);
      try {
        await serve.waitFor(/(round \d+: 0 ok, 1 failed[\s\S]*){2}/, 60_000);
      } finally {
        serve.child.kill('SIGTERM');
      }
      expect(await serve.exited).toBe(0);
      const rounds = serve.records().filter((r) => /^round \d+: 0 ok, 1 failed/.test(r.msg ?? ''));
      const problems = serve.records().filter((r) => /host_errors refused by the test/.test(r.msg ?? ''));
      expect(rounds.length).toBeGreaterThanOrEqual(2);
      expect(problems).toHaveLength(rounds.length);
      for (const record of problems) {
        expect(record).toMatchObject({
          level: 'warn',
          component: 'round',
          host: 'down1',
          err: { message: 'host_errors refused by the test' },
        });
        expect(record.msg).toMatch(/^recording the connect error of down1 in host_errors failed/);
      }
    }, 120_000);
  });
});
