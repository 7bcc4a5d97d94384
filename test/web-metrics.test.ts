/**
 * Prometheus /metrics against a real server over a database filled by real rounds, read back
 * with a strict parser of the 0.0.4 text format; plus the escaping rules and the counter registry.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CounterRegistry } from '../src/web/metrics/counter-registry.js';
import { escapeLabelValue, renderExposition } from '../src/web/metrics/exposition.js';
import { ALERTING_NAME, QUOTED_NAME, XSS_NAME, startWebFleet, type WebFleet } from './web-fixture.js';

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format strictly: any line that does not fit throws. */
function parseExposition(text: string): { samples: ParsedSample[]; types: Map<string, string> } {
  expect(text.endsWith('\n')).toBe(true);
  const samples: ParsedSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2]!, meta[3]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const labelText = sample[2] ?? '';
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
    let consumed = 0;
    for (let m; consumed < labelText.length && (m = labelRe.exec(labelText)); consumed = labelRe.lastIndex) {
      labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    if (consumed !== labelText.length) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    const value = Number(sample[3]!.replace('+Inf', 'Infinity'));
    if (Number.isNaN(value) && sample[3] !== 'NaN') throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: sample[1]!, labels, value });
  }
  return { samples, types };
}

function memTotalBytes(): number {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('MemTotal:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

describe('/metrics over a real round', () => {
  let web: WebFleet;
  let metrics: ReturnType<typeof parseExposition>;
  let contentType: string | null;
  const counters = new CounterRegistry().describe('fleetstat_rounds_total', 'Rounds run by this process.');
  const find = (name: string, labels: Record<string, string> = {}) =>
    metrics.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  beforeAll(async () => {
    web = await startWebFleet(2);
    counters.inc('fleetstat_rounds_total', {}, web.rounds);
    const base = await web.serve({ counters });
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    contentType = response.headers.get('content-type');
    metrics = parseExposition(await response.text());
  }, 120_000);
  afterAll(async () => {
    await web?.stop();
  });

  it('uses the 0.0.4 text format with a TYPE for every family', () => {
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const sample of metrics.samples) expect(metrics.types.has(sample.name)).toBe(true);
    // No series appears twice.
    const keys = metrics.samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every configured host an up series with host, ip and port labels, escaped', () => {
    const up = find('fleetstat_host_up');
    const expected = web.config.clients.map((c) => ({ host: c.name, ip: c.ip, port: String(c.port) }));
    expect(up.map((s) => s.labels).sort((a, b) => a.port!.localeCompare(b.port!))).toEqual(
      expected.sort((a, b) => a.port.localeCompare(b.port)),
    );
    expect(find('fleetstat_host_up', { host: QUOTED_NAME })[0]!.value).toBe(0);
    for (const name of [ALERTING_NAME, XSS_NAME, 'gamma'])
      expect(find('fleetstat_host_up', { host: name })[0]!.value).toBe(1);
  });

  it('reports the latest statistics of each collected host', async () => {
    const latest = await web.store.db
      .selectFrom('samples')
      .innerJoin('hosts', 'hosts.id', 'samples.host_id')
      .select(['hosts.name', 'samples.id', 'samples.cpu_percent', 'samples.mem_used', 'samples.uptime_seconds'])
      .orderBy('samples.id', 'desc')
      .execute();
    for (const name of [ALERTING_NAME, XSS_NAME, 'gamma']) {
      const row = latest.find((r) => r.name === name)!;
      expect(find('fleetstat_memory_total_bytes', { host: name })[0]!.value).toBe(memTotalBytes());
      expect(find('fleetstat_memory_used_bytes', { host: name })[0]!.value).toBe(Number(row.mem_used));
      expect(find('fleetstat_cpu_percent', { host: name })[0]!.value).toBe(Number(row.cpu_percent));
      expect(find('fleetstat_uptime_seconds', { host: name })[0]!.value).toBe(Number(row.uptime_seconds));
      expect(find('fleetstat_swap_used_bytes', { host: name })).toHaveLength(1);
      const disks = await web.store.db
        .selectFrom('disk_usage')
        .select(['mount', 'used_percent'])
        .where('sample_id', '=', row.id)
        .execute();
      const root = disks.find((d) => d.mount === '/')!;
      expect(find('fleetstat_disk_used_percent', { host: name, mount: '/' })[0]!.value).toBe(Number(root.used_percent));
      expect(find('fleetstat_disk_used_percent', { host: name })).toHaveLength(new Set(disks.map((d) => d.mount)).size);
      expect(find('fleetstat_last_seen_timestamp_seconds', { host: name })[0]!.value).toBeGreaterThan(
        Date.now() / 1000 - 600,
      );
    }
    // The host nobody answers on has no statistics.
    expect(find('fleetstat_cpu_percent', { host: QUOTED_NAME })).toHaveLength(0);
    expect(find('fleetstat_alerts_firing', { host: ALERTING_NAME })[0]!.value).toBe(1);
    expect(find('fleetstat_alert_firing', { host: ALERTING_NAME })).toMatchObject([
      { labels: { rule: 'memory', severity: 'warning' }, value: 1 },
    ]);
  });

  it('reports the collector: last round, errors by stage, outbox', async () => {
    const round = await web.store.db.selectFrom('rounds').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(find('fleetstat_last_round_hosts', { outcome: 'ok' })[0]!.value).toBe(round.hosts_ok);
    expect(find('fleetstat_last_round_hosts', { outcome: 'failed' })[0]!.value).toBe(round.hosts_failed);
    expect(round.hosts_failed).toBe(1);
    expect(find('fleetstat_last_round_host_errors', { stage: 'connect' })[0]!.value).toBe(1);
    const duration = (Date.parse(String(round.finished_at)) - Date.parse(String(round.started_at))) / 1000;
    expect(find('fleetstat_last_round_duration_seconds')[0]!.value).toBeCloseTo(duration, 3);
    const outbox = await web.store.db.selectFrom('outbox').select(['sent_at', 'last_error', 'failed_at']).execute();
    expect(outbox.length).toBeGreaterThan(0); // the memory alert queued a mail (no SMTP in this config)
    expect(find('fleetstat_outbox_mails', { state: 'queued' })[0]!.value).toBe(
      outbox.filter((m) => m.sent_at === null && m.last_error === null).length,
    );
    expect(find('fleetstat_outbox_mails', { state: 'sent' })[0]!.value).toBe(
      outbox.filter((m) => m.sent_at !== null).length,
    );
    expect(find('fleetstat_outbox_mails', { state: 'failed' })[0]!.value).toBe(
      outbox.filter((m) => m.sent_at === null && m.failed_at !== null).length,
    );
    expect(find('fleetstat_outbox_mails', { state: 'retrying' })[0]!.value).toBe(
      outbox.filter((m) => m.sent_at === null && m.failed_at === null && m.last_error !== null).length,
    );
    expect(metrics.types.get('fleetstat_rounds_total')).toBe('counter');
    expect(find('fleetstat_rounds_total')[0]!.value).toBe(web.rounds);
  });
});

describe('exposition format', () => {
  it('escapes backslash, double quote and line feed in label values', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = renderExposition([
      {
        name: 'm',
        help: 'line one\nback\\slash',
        type: 'gauge',
        samples: [{ labels: { mount: '/mnt/"x"\n' }, value: NaN }, { value: Infinity }],
      },
    ]);
    expect(text).toBe('# HELP m line one\\nback\\\\slash\n# TYPE m gauge\nm{mount="/mnt/\\"x\\"\\n"} NaN\nm +Inf\n');
  });

  it('rejects invalid names and a family rendered twice', () => {
    expect(() => renderExposition([{ name: 'bad-name', help: '', type: 'gauge', samples: [{ value: 1 }] }])).toThrow(
      /invalid metric name/,
    );
    expect(() =>
      renderExposition([{ name: 'm', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }]),
    ).toThrow(/invalid label name/);
    const family = { name: 'm', help: '', type: 'gauge' as const, samples: [{ value: 1 }] };
    expect(() => renderExposition([family, family])).toThrow(/twice/);
  });

  it('counts per label set and refuses to go down', () => {
    const registry = new CounterRegistry();
    registry.inc('fleetstat_hosts_collected_total', { outcome: 'ok' });
    registry.inc('fleetstat_hosts_collected_total', { outcome: 'ok' }, 2);
    registry.inc('fleetstat_hosts_collected_total', { outcome: 'failed' });
    expect(registry.get('fleetstat_hosts_collected_total', { outcome: 'ok' })).toBe(3);
    expect(() => registry.inc('fleetstat_hosts_collected_total', {}, -1)).toThrow(/only increase/);
    expect(renderExposition(registry.families())).toContain('fleetstat_hosts_collected_total{outcome="failed"} 1\n');
  });
});
