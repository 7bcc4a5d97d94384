/**
 * Webhooks through the durable outbox against a real HTTP receiver on 127.0.0.1, on every real
 * database: a receiver that is down, then answers 500, then is too slow, then accepts; the
 * payload (Alertmanager-style, signed) and the chat formats.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateHostAlerts } from '../src/alerts/evaluate-host-alerts.js';
import { parseConfig } from '../src/config/index.js';
import type { AlertRule, WebhookConfig } from '../src/config/types.js';
import { drainOutbox } from '../src/notify/drain-outbox.js';
import { renderWebhookPayload, type WebhookNotice } from '../src/notify/webhook-payload.js';
import { webhookTransport } from '../src/notify/webhook-transport.js';
import { reportSchema, type Report } from '../src/probe/report.js';
import { listUndeliveredMail } from '../src/web/queries/mail-delivery.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { findFreePort } from './support/smtp-catcher.js';

const T0 = new Date('2024-05-01T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const memoryRule: AlertRule = {
  type: 'memory',
  limit: 90,
  severity: 'critical',
  forSeconds: 0,
  repeatSeconds: 4 * 3600,
  notify: 'on-change',
  line: 5,
};

function report(memoryPercent: number): Report {
  return reportSchema.parse({
    schema: 1,
    probe: 'sh',
    collected_at: '2024-05-01T12:00:00Z',
    host: { hostname: 'h', os: 'linux', os_name: 'Debian', kernel: '6.1', arch: 'x86_64' },
    cpu: { percent: 5, cores: 2, interval_ms: 1000, load1: 0.5, load5: 0.5, load15: 0.5 },
    memory: { total_bytes: 100, used_bytes: 50, available_bytes: 50, percent: memoryPercent },
    swap: { total_bytes: 0, used_bytes: 0, percent: 0 },
    uptime_seconds: 10,
    boot_time: '2024-05-01T11:00:00Z',
    process_count: 10,
    disks: [],
    nics: [],
    users: [],
    events: { readable: false, truncated: false, note: '', items: [] },
    warnings: [],
  });
}

type Mode = 'ok' | 'fail500' | 'slow';
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1:`port`, answering as `mode` says. */
async function startReceiver(port: number) {
  const received: Received[] = [];
  const state = { mode: 'ok' as Mode };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      if (state.mode === 'fail500') {
        response.writeHead(500).end('boom');
        return;
      }
      if (state.mode === 'slow') {
        setTimeout(() => response.writeHead(200).end(), 3000).unref();
        return;
      }
      received.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    received,
    state,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.each(testDialects())('webhooks on %s', (dialect) => {
  const database = useMigratedStore(dialect);
  let hostId: number;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

  beforeEach(async () => {
    const { db } = database.store;
    for (const table of ['notifications', 'outbox', 'alerts', 'hosts'] as const) await db.deleteFrom(table).execute();
    await db
      .insertInto('hosts')
      .values({
        ip: '10.0.0.1',
        port: 22,
        name: 'web1',
        first_seen: T0,
        last_seen: null,
        os: null,
        os_name: null,
        kernel: null,
        arch: null,
        hostname: null,
      })
      .execute();
    hostId = Number((await db.selectFrom('hosts').select('id').executeTakeFirstOrThrow()).id);
  });
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  it('retries through down, 500 and slow with backoff, then delivers once, signed', async () => {
    const { db } = database.store;
    const port = await findFreePort(); // nothing listens yet: the receiver is down
    const webhook: WebhookConfig = {
      url: `http://127.0.0.1:${port}/hooks/fleet`,
      format: 'json',
      secret: 's3cret',
      secretHeader: 'X-Fleetstat-Token',
      line: 7,
    };
    const fired = await evaluateHostAlerts(db, {
      hostId,
      hostName: 'web1',
      ip: '10.0.0.1',
      rules: [memoryRule],
      report: report(95),
      now: at(0),
      webhooks: [webhook],
    });
    expect(fired).toMatchObject([{ transition: 'firing', webhooks: 1, outboxIds: [] }]);
    const transport = webhookTransport([webhook], { timeoutMs: 500 });
    const row = () => db.selectFrom('outbox').selectAll().where('channel', '=', 'webhook').executeTakeFirstOrThrow();

    expect(await drainOutbox(db, transport, { now: at(0), channel: 'webhook' })).toMatchObject({
      sent: 0,
      deferred: 1,
    });
    expect(await row()).toMatchObject({ attempts: 1, sent_at: null, failed_at: null });
    expect((await row()).last_error).toMatch(
      /^webhook: temporary failure \(attempt 1 of 10, will retry\): POST http:\/\/127\.0\.0\.1:\d+\/…: .*ECONNREFUSED/,
    );
    expect((await row()).last_error).not.toContain('/hooks/fleet'); // the path may be a secret
    // Backoff: not due again before a minute has passed, and the mail drain never touches it.
    expect(await drainOutbox(db, transport, { now: at(30), channel: 'webhook' })).toEqual({
      sent: 0,
      failed: 0,
      deferred: 0,
    });
    expect(await drainOutbox(db, transport, { now: at(3600) })).toEqual({ sent: 0, failed: 0, deferred: 0 });

    receiver = await startReceiver(port);
    receiver.state.mode = 'fail500';
    expect(await drainOutbox(db, transport, { now: at(60), channel: 'webhook' })).toMatchObject({ deferred: 1 });
    expect((await row()).last_error).toMatch(/HTTP 500/);
    receiver.state.mode = 'slow';
    expect(await drainOutbox(db, transport, { now: at(60 + 120), channel: 'webhook' })).toMatchObject({ deferred: 1 });
    expect((await row()).last_error).toMatch(/no answer within 500 ms/);
    expect(await listUndeliveredMail(db, 10)).toMatchObject([
      { channel: 'webhook', status: 'retrying', recipient: `http://127.0.0.1:${port}/…`, tries: 3 },
    ]);

    receiver.state.mode = 'ok';
    expect(await drainOutbox(db, transport, { now: at(60 + 120 + 240), channel: 'webhook' })).toMatchObject({
      sent: 1,
    });
    expect(await drainOutbox(db, transport, { now: at(9000), channel: 'webhook' })).toEqual({
      sent: 0,
      failed: 0,
      deferred: 0,
    });
    expect(receiver.received).toHaveLength(1);
    const [delivery] = receiver.received;
    expect(delivery!.path).toBe('/hooks/fleet');
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['x-fleetstat-token']).toBe('s3cret');
    expect(delivery!.headers['x-fleetstat-signature']).toBe(
      `sha256=${createHmac('sha256', 's3cret').update(delivery!.body).digest('hex')}`,
    );
    const payload = JSON.parse(delivery!.body);
    expect(payload).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'fleetstat',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'memory', rule: 'memory:critical', severity: 'critical', host: 'web1', ip: '10.0.0.1' },
          startsAt: T0.toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
        },
      ],
      fleetstat: { transition: 'firing', value: 95, limit: 90 },
    });
    expect(payload.alerts[0].annotations.summary).toBe('FIRING [critical]: memory 95.0% > 90% on web1 (10.0.0.1)');
  }, 60_000);

  it('a silenced notice sends no webhook; a resolution does, as resolved', async () => {
    const { db } = database.store;
    const port = await findFreePort();
    receiver = await startReceiver(port);
    const webhook: WebhookConfig = {
      url: `http://127.0.0.1:${port}/h`,
      format: 'json',
      secretHeader: 'X-Fleetstat-Token',
      line: 7,
    };
    const input = { hostId, hostName: 'web1', ip: '10.0.0.1', rules: [memoryRule], webhooks: [webhook] };
    await evaluateHostAlerts(db, { ...input, report: report(95), now: at(0), mutedBy: () => 'silence 1' });
    expect(await db.selectFrom('outbox').selectAll().execute()).toEqual([]);
    await evaluateHostAlerts(db, { ...input, report: report(95), now: at(60) }); // silence over: the late firing
    await evaluateHostAlerts(db, { ...input, report: report(10), now: at(120) });
    await drainOutbox(db, webhookTransport([webhook]), { now: at(120), channel: 'webhook' });
    const statuses = receiver.received.map((r) => JSON.parse(r.body).status);
    expect(statuses).toEqual(['firing', 'resolved']);
    expect(JSON.parse(receiver.received[1]!.body).alerts[0].endsAt).toBe(at(120).toISOString());
    expect(receiver.received[0]!.headers['x-fleetstat-signature']).toBeUndefined();
  });
});

describe('webhook formats and config', () => {
  const notice: WebhookNotice = {
    transition: 'firing',
    host: { id: 3, name: 'web<1>', ip: '10.0.0.1' },
    rule: { key: 'disk@/var', type: 'disk', severity: 'warning', mount: '/var' },
    value: 91,
    limit: 90,
    headline: 'FIRING [warning]: disk /var 91.0% > 90% on web<1> (10.0.0.1)',
    text: 'line one\nline & two',
    startsAt: T0,
    at: T0,
    fingerprint: 'alert.3.x.1',
  };

  it('renders Slack, Mattermost and Teams messages with markup escaped', () => {
    expect(JSON.parse(renderWebhookPayload('slack', notice))).toEqual({
      text: '*FIRING [warning]: disk /var 91.0% &gt; 90% on web&lt;1&gt; (10.0.0.1)*\nline one\nline &amp; two',
    });
    expect(JSON.parse(renderWebhookPayload('mattermost', notice))).toEqual(
      JSON.parse(renderWebhookPayload('slack', notice)),
    );
    expect(JSON.parse(renderWebhookPayload('teams', notice))).toMatchObject({
      '@type': 'MessageCard',
      themeColor: 'F2C744',
      title: 'FIRING [warning]: disk /var 91.0% &gt; 90% on web&lt;1&gt; (10.0.0.1)',
    });
    expect(JSON.parse(renderWebhookPayload('json', notice)).alerts[0].labels).toEqual({
      alertname: 'disk',
      rule: 'disk@/var',
      severity: 'warning',
      host: 'web<1>',
      ip: '10.0.0.1',
      mount: '/var',
    });
  });

  it('reads <webhook> with a hidden secret and refuses bad URLs on their line', () => {
    const xml = (w: string) =>
      `<clients>\n<client ip="10.0.0.5" username="ops" agent="true">\n  ${w}\n</client>\n</clients>`;
    const config = parseConfig(
      xml('<webhook url="https://hooks.example.com/T1/B2" format="slack" secret-env="HOOK_SECRET"/>'),
      '/c.xml',
      { env: { HOOK_SECRET: 'abc' } },
    );
    const [webhook] = config.clients[0]!.webhooks!;
    expect(webhook).toMatchObject({
      url: 'https://hooks.example.com/T1/B2',
      format: 'slack',
      secretHeader: 'X-Fleetstat-Token',
      line: 3,
    });
    expect(webhook!.secret).toBe('abc');
    expect(JSON.stringify(webhook)).not.toContain('abc');
    expect(() => parseConfig(xml('<webhook url="ftp://x.example.com/"/>'), '/c.xml')).toThrow(
      '/c.xml:3: webhook url "ftp://x.example.com/" must start with http:// or https://',
    );
    expect(() => parseConfig(xml('<webhook url="https://u:p@x.example.com/"/>'), '/c.xml')).toThrow(
      /must not carry credentials/,
    );
  });
});
