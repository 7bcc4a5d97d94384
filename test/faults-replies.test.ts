/**
 * Hostile probe replies through a real round: each faulty host runs fixtures/hostile/reply.mjs
 * in place of probe.sh, which reads the real per-run key from stdin and prints garbage, a cut
 * envelope, 100 MB, sealed invalid or absurd reports, a foreign run id, non-UTF-8 bytes, or a
 * valid report full of terminal escapes and HTML/SQL/mail-header payloads. The server must
 * reject each at the right stage with a printable message, store the hostile-but-valid report
 * made printable (parameterised SQL), and mail it without injected headers or control characters.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { deliverQueuedMail } from '../src/cli/deliver-mail.js';
import { MAX_REPLY_BYTES } from '../src/probe/envelope.js';
import { openStore } from '../src/store/open-store.js';
import type { FleetClient } from './support/fleet-config.js';
import { startFaultFleet, type FaultFleet } from './support/hostile-fleet.js';
import { runFaultRound, type FaultRoundResult } from './support/hostile-round.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

const payloads = JSON.parse(
  readFileSync(new URL('./fixtures/hostile/payloads.json', import.meta.url), 'utf8'),
) as Record<string, string>;

/** Reply kind → the stage and message the server must record. */
const REJECTED: Record<string, [string, RegExp]> = {
  garbage: ['decrypt', /^reply has 7 space-separated fields; expected 4$/],
  truncated: ['decrypt', /space-separated fields; expected 4|not standard padded base64|MAC/],
  huge: ['run', new RegExp(`^reply exceeds ${MAX_REPLY_BYTES} bytes; reading stopped$`)],
  'bad-json': ['validate', /^report is not valid JSON: /],
  'deep-json': ['validate', /^report JSON nests deeper than 16 levels/],
  absurd: ['validate', /^report fails schema v1: memory\.percent: /],
  negative: ['validate', /^report fails schema v1: .*uptime_seconds: .*disks\.0\.used_bytes: /],
  'foreign-run-id': ['decrypt', /^run id does not match this run/],
  'non-utf8-json': ['validate', /^report is not valid UTF-8$/],
  'non-utf8-raw': ['decrypt', /^reply has a byte 0xff that is not printable ASCII \(at offset 11\)/],
  'stderr-exit': ['run', /^the probe failed \(exit code 3\): .*Bcc: victim@evil\.test/],
};

// C0/C1 controls (CR, LF and ESC included), DEL, bidi overrides.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('hostile probe replies', () => {
  let fleet: FaultFleet;
  let smtp: SmtpCatcher;
  let dir: string;
  let result: FaultRoundResult;
  const kinds = Object.keys(REJECTED);

  beforeAll(async () => {
    [fleet, smtp] = await Promise.all([startFaultFleet(kinds.length + 2, { firstIndex: 60 }), startSmtpCatcher()]);
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-replies-'));
    const [healthy, hostile, ...faulty] = fleet.hosts;
    fleet.setMode(hostile!, 'reply hostile');
    kinds.forEach((kind, i) => fleet.setMode(faulty[i]!, `reply ${kind}`));
    const clients: FleetClient[] = [
      { host: healthy!, auth: 'key', name: 'healthy' },
      {
        host: hostile!,
        auth: 'key',
        name: 'hostile',
        mail: 'ops@example.test',
        alerts: ['<alert type="memory" limit="1%"/>'],
      },
      ...kinds.map((kind, i): FleetClient => ({
        host: faulty[i]!,
        auth: 'key',
        name: kind,
        attributes: { timeout: '20' },
        ...(kind === 'stderr-exit' ? { mail: 'ops@example.test', alerts: ['<alert type="unreachable"/>'] } : {}),
      })),
    ];
    // One mail per host and change: hostile text then reaches subjects and headers host by host.
    result = await runFaultRound(fleet, {
      dir,
      clients,
      smtp: { host: smtp.host, port: smtp.port },
      settings: { 'alert-mail': 'per-change' },
    });
  });
  afterAll(async () => {
    await Promise.all([fleet?.stop(), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects each bad reply at its stage with a printable message, and stores the others', () => {
    expect(result.stored).toEqual(['healthy', 'hostile']);
    expect(result.summary).toMatchObject({ hostsOk: 2, hostsFailed: kinds.length });
    for (const [kind, [stage, message]] of Object.entries(REJECTED)) {
      const error = result.summaryErrors.get(kind);
      expect(error, kind).toMatchObject({ stage });
      expect(error!.message, kind).toMatch(message);
      expect(error!.message, kind).not.toMatch(CONTROL);
      expect(result.tableErrors.get(kind), kind).toEqual(error);
    }
  });

  it('stops reading a 100 MB reply at the cap instead of buffering it', async () => {
    await expect.poll(() => fleet.result(fleet.hosts[2 + kinds.indexOf('huge')]!), { timeout: 5000 }).toBeDefined();
    const huge = fleet.hosts[2 + kinds.indexOf('huge')]!;
    const written = fleet.result(huge) as { written: number; how: string };
    // The writer saw its pipe closed after about the cap plus SSH and pipe buffers, far from 100 MB.
    expect(written.how).toBe('pipe closed');
    expect(written.written).toBeGreaterThanOrEqual(MAX_REPLY_BYTES);
    expect(written.written).toBeLessThan(40 * 1024 * 1024);
  });

  it('leaves no temp directory on any host, the cut-off one included', async () => {
    // The cut-off run removes its directory after the server has hung up: give it a moment.
    await expect
      .poll(() => fleet.hosts.flatMap((host, i) => fleet.leftovers(host).map((d) => `${i}:${d}`)), { timeout: 5000 })
      .toEqual([]);
  });

  it('stores hostile text made printable, through parameterised SQL', async () => {
    const store = await openStore(result.databaseUrl);
    try {
      // Escapes, CR/LF and bidi overrides became spaces (one line) or went (multi-line text);
      // quotes, SQL and markup are kept as text: the sinks escape them.
      const host = await store.db
        .selectFrom('hosts')
        .selectAll()
        .where('name', '=', 'hostile')
        .executeTakeFirstOrThrow();
      expect(host.hostname).toBe(' ]0;pwned [2Jevil<script>alert(1)</script>');
      expect(host.arch).toBe('x86_64 [5m FORGED');
      expect(host.os_name).toBe(
        'Hostile [2J ]0;owned  Linux 2026-01-01T00:00:00.000Z round 99: 9 ok, 0 failed  gnp.exe x  \ufffd',
      );
      const sample = await store.db
        .selectFrom('samples')
        .select('id')
        .where('host_id', '=', host.id)
        .executeTakeFirstOrThrow();
      const users = await store.db
        .selectFrom('logged_in_users')
        .selectAll()
        .where('sample_id', '=', sample.id)
        .execute();
      expect(users).toMatchObject([{ name: payloads.user, tty: 'pts/0 Bcc: victim@evil.test' }]);
      const disks = await store.db
        .selectFrom('disk_usage')
        .select('mount')
        .where('sample_id', '=', sample.id)
        .execute();
      expect(disks.map((d) => d.mount)).toEqual(['/mnt/ [1mbold [0m"; DROP TABLE disk_usage;--']);
      const events = await store.db.selectFrom('security_events').selectAll().where('host_id', '=', host.id).execute();
      expect(events).toMatchObject([
        {
          message:
            "Failed password for root\nBcc: victim@evil.test\nSubject: hijacked\n\n[31mred[0m evil '); DELETE FROM samples;-- <b>bold</b>",
          provider: 'sshd X-Injected: yes',
        },
      ]);
      // The "DROP TABLE" and "DELETE FROM" payloads did nothing.
      expect(await store.db.selectFrom('hosts').select('id').execute()).toHaveLength(kinds.length + 2);
      expect(await store.db.selectFrom('samples').select('id').execute()).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('mails hostile text with no injected headers and no control characters', async () => {
    const config = await loadConfig(result.configPath);
    const store = await openStore(result.databaseUrl);
    try {
      const totals = await deliverQueuedMail(store, config.smtp);
      // Memory alert + security events for the hostile host, unreachable for the stderr one.
      expect(totals).toMatchObject({ sent: 3, failed: 0, deferred: 0 });
    } finally {
      await store.close();
    }
    const mails = await smtp.waitForMessages(3);
    for (const mail of mails) {
      expect(mail.envelope.to).toEqual(['ops@example.test']);
      const headerNames = [...mail.headers.keys()];
      expect(headerNames).not.toContain('bcc');
      expect(headerNames).not.toContain('x-injected');
      expect(mail.headers.get('subject')).toHaveLength(1);
      expect(mail.subject).not.toMatch(CONTROL);
      expect(mail.subject).not.toMatch(/hijacked/);
      expect(mail.body.replace(/[\n\t]/g, ' ')).not.toMatch(CONTROL);
      // No header line of the raw message came from host data.
      const rawHead = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
      expect(rawHead).not.toMatch(/^(Bcc|X-Injected|Subject: hijacked)/im);
    }
    const events = mails.find((m) => /security/i.test(m.subject ?? ''));
    expect(events?.body).toContain('Failed password for root');
    const unreachable = mails.find((m) => m.body.includes('Bcc: victim@evil.test'));
    expect(unreachable, 'the hostile stderr reaches the mail only as flat text').toBeDefined();
  });
});
