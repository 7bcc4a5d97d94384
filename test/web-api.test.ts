/**
 * The JSON API, pages and access rules against a real server over a SQLite database filled by
 * real rounds on loopback sshd hosts. Expected values come from this machine's /proc and from
 * the database, never from constants.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSeries } from '../src/web/queries/host-series.js';
import { ALERTING_NAME, QUOTED_NAME, XSS_NAME, startWebFleet, type WebFleet } from './web-fixture.js';

function memTotalBytes(): number {
  const line = readFileSync('/proc/meminfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('MemTotal:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}

interface ApiHost {
  id: number | null;
  name: string;
  ip: string;
  port: number;
  status: string;
  error: { stage: string } | null;
  latest: { mem_total: number; cpu_percent: number; disk_max_percent: number | null } | null;
  firing_alerts: number;
  in_config: boolean;
}

describe('web API over a real round', () => {
  let web: WebFleet;
  let base: string;
  const getJson = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(base + path, { headers });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };
  const hostsByName = async () =>
    Object.fromEntries(((await getJson('/api/hosts')).body.hosts as ApiHost[]).map((h) => [h.name, h]));

  beforeAll(async () => {
    web = await startWebFleet(3);
    base = await web.serve();
  }, 120_000);
  afterAll(async () => {
    await web?.stop();
  });

  it('lists every host of the config with its status from the latest round', async () => {
    const { status, body } = await getJson('/api/hosts');
    expect(status).toBe(200);
    const hosts = body.hosts as ApiHost[];
    expect(hosts.map((h) => h.name).sort()).toEqual([ALERTING_NAME, XSS_NAME, 'gamma', QUOTED_NAME].sort());
    const configured = web.config.clients.map((c) => `${c.ip}:${c.port}`).sort();
    expect(hosts.map((h) => `${h.ip}:${h.port}`).sort()).toEqual(configured);
    for (const host of hosts) {
      expect(host.in_config).toBe(true);
      if (host.name === QUOTED_NAME) {
        expect(host.status).toBe('down');
        expect(host.error?.stage).toBe('connect');
        expect(host.latest).toBeNull();
      } else {
        expect(host.status).toBe('up');
        expect(host.error).toBeNull();
        expect(host.latest!.mem_total).toBe(memTotalBytes());
        expect(host.latest!.cpu_percent).toBeGreaterThanOrEqual(0);
        expect(host.latest!.cpu_percent).toBeLessThanOrEqual(100);
        expect(host.latest!.disk_max_percent).toBeGreaterThan(0);
      }
    }
  });

  it('shows a configured host that was never stored, without an id', async () => {
    const extra = { ...web.config.clients[2]!, name: 'not-yet', port: 1 };
    const url = await web.serve({ config: () => ({ ...web.config, clients: [...web.config.clients, extra] }) });
    const hosts = ((await (await fetch(`${url}/api/hosts`)).json()) as { hosts: ApiHost[] }).hosts;
    expect(hosts.find((h) => h.name === 'not-yet')).toMatchObject({
      id: null,
      status: 'unknown',
      latest: null,
      in_config: true,
    });
  });

  it('returns one host with its disks, alerts and errors', async () => {
    const hosts = await hostsByName();
    const alpha = await getJson(`/api/hosts/${hosts[ALERTING_NAME]!.id}`);
    expect(alpha.status).toBe(200);
    expect(alpha.body.host.name).toBe(ALERTING_NAME);
    expect(
      alpha.body.disks.some((d: { mount: string; size_bytes: number }) => d.mount === '/' && d.size_bytes > 0),
    ).toBe(true);
    expect(Array.isArray(alpha.body.users)).toBe(true);
    expect(alpha.body.alerts.find((a: { rule: string }) => a.rule === 'memory')).toMatchObject({
      state: 'firing',
      limit_value: 0,
    });
    const down = await getJson(`/api/hosts/${hosts[QUOTED_NAME]!.id}`);
    expect(down.body.errors).toHaveLength(web.rounds);
    expect(down.body.errors.every((e: { stage: string }) => e.stage === 'connect')).toBe(true);
    expect((await getJson('/api/hosts/99999')).status).toBe(404);
  });

  it("returns a host's samples of every round as columns", async () => {
    const hosts = await hostsByName();
    const id = hosts['gamma']!.id;
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const { status, body } = await getJson(`/api/hosts/${id}/samples?from=${from}&to=${to}`);
    expect(status).toBe(200);
    expect(body.samples).toBe(web.rounds);
    expect(body.downsampled).toBe(false);
    expect(body.time).toHaveLength(web.rounds);
    expect([...body.time].sort()).toEqual(body.time);
    for (const series of Object.values<(number | null)[]>(body.series)) expect(series).toHaveLength(web.rounds);
    for (const cpu of body.series.cpu_percent) expect(cpu).toBeGreaterThanOrEqual(0);
    for (const mem of body.series.mem_percent) expect(mem).toBeGreaterThan(0);
    // A rate needs a previous sample: the first point has none.
    expect(body.series.rx_bytes_per_second[0]).toBeNull();
    // A range before the first round holds nothing.
    const empty = await getJson(`/api/hosts/${id}/samples?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z`);
    expect(empty.body).toMatchObject({ samples: 0, time: [] });
  });

  it('averages a long series down to the point bound', async () => {
    const hosts = await hostsByName();
    const from = new Date(Date.now() - 3600_000);
    const to = new Date(Date.now() + 60_000);
    const full = await hostSeries(web.store.db, hosts['gamma']!.id!, from, to, 100);
    const bounded = await hostSeries(web.store.db, hosts['gamma']!.id!, from, to, 1);
    expect(bounded.downsampled).toBe(true);
    expect(bounded.time).toHaveLength(1);
    const mean = (values: (number | null)[]) => (values as number[]).reduce((a, b) => a + b, 0) / values.length;
    expect(bounded.series.mem_percent[0]).toBeCloseTo(mean(full.series.mem_percent), 2);
    expect(bounded.time[0]).toBeCloseTo(mean(full.time), 2);
  });

  it('answers 400 with a message naming the bad parameter', async () => {
    const id = (await hostsByName())['gamma']!.id;
    const cases: [string, RegExp][] = [
      [`/api/hosts/abc/samples`, /"id" must be a positive integer/],
      [`/api/hosts/${id}/samples?from=yesterday`, /"from" must be an ISO 8601 timestamp/],
      [`/api/hosts/${id}/samples?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z`, /"from" .* must be before "to"/],
      [`/api/hosts/${id}/samples?from=2000-01-01T00:00:00Z&to=2024-05-01T00:00:00Z`, /at most 400 days/],
      [`/api/hosts/${id}/samples?bogus=1`, /unknown query parameter "bogus"/],
      [`/api/hosts/${id}/samples?to=2024-05-01T00:00:00Z&to=2024-05-02T00:00:00Z`, /"to" must be given once/],
      ['/api/events?since=2024-13-45', /"since" must be an ISO 8601 timestamp/],
      ['/api/events?host=-1', /"host" must be a positive integer/],
      ['/api/rounds?limit=0', /"limit" must be an integer from 1 to 1000/],
      ['/api/alerts?state=burning', /"state" must be one of all, firing, pending, ok/],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await getJson(path);
      expect({ path, status }).toEqual({ path, status: 400 });
      expect(body.error).toMatch(message);
    }
    const page = await fetch(`${base}/hosts/${id}?range=1y`);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('&quot;range&quot; must be one of 1h, 24h, 7d');
  });

  it('lists firing alerts, events and rounds', async () => {
    const alerts = (await getJson('/api/alerts?state=firing')).body.alerts as {
      host_name: string;
      rule: string;
      value: number;
    }[];
    expect(alerts.map((a) => `${a.host_name}:${a.rule}`)).toEqual([`${ALERTING_NAME}:memory`]);
    expect(alerts[0]!.value).toBeGreaterThan(0);
    const all = (await getJson('/api/alerts')).body.alerts as { rule: string; state: string }[];
    expect(all.find((a) => a.rule === 'disk')?.state).toBe('ok');
    const body = (await getJson('/api/alerts')).body as {
      alerts: { severity: string; mount: string | null }[];
      delivery: Record<string, number>;
      undelivered: unknown[];
    };
    expect(body.alerts.every((a) => a.severity === 'warning' && a.mount === null)).toBe(true);
    // No SMTP server in this config: the firing mail waits, and it is not counted as delivered.
    expect(body.delivery).toMatchObject({ sent: 0, failed: 0 });
    expect(body.delivery.queued! + body.delivery.retrying!).toBeGreaterThan(0);
    expect(Array.isArray(body.undelivered)).toBe(true);

    const rounds = (await getJson('/api/rounds')).body.rounds as {
      id: number;
      hosts_ok: number;
      hosts_failed: number;
      duration_seconds: number;
      errors_by_stage: Record<string, number>;
    }[];
    expect(rounds).toHaveLength(web.rounds);
    expect(rounds.map((r) => r.id)).toEqual([...rounds.map((r) => r.id)].sort((a, b) => b - a));
    for (const round of rounds) {
      expect(round).toMatchObject({ hosts_ok: 3, hosts_failed: 1, errors_by_stage: { connect: 1 } });
      expect(round.duration_seconds).toBeGreaterThan(0);
    }
    expect((await getJson('/api/rounds?limit=1')).body.rounds).toHaveLength(1);

    const stored = await web.store.db.selectFrom('security_events').select('id').execute();
    const events = (await getJson('/api/events?since=2000-01-01T00:00:00Z')).body.events as unknown[];
    expect(events).toHaveLength(stored.length);
  });

  it('serves an OpenAPI document naming every endpoint', async () => {
    const { status, body } = await getJson('/api/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/api/hosts',
        '/api/hosts/{id}',
        '/api/hosts/{id}/samples',
        '/api/alerts',
        '/api/events',
        '/api/rounds',
      ]),
    );
  });

  it('escapes host names on the overview and sends a strict CSP', async () => {
    const response = await fetch(`${base}/`);
    const page = await response.text();
    expect(response.status).toBe(200);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain(XSS_NAME);
    expect(page).toContain('odd &quot;quoted&quot; \\ name');
    // Every script on the page is an external file.
    for (const tag of page.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/ src="\/assets\//);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    for (const path of ['/alerts', '/rounds', `/hosts/${(await hostsByName())[XSS_NAME]!.id}`]) {
      const text = await (await fetch(base + path)).text();
      expect(text).not.toContain(XSS_NAME);
    }
  });

  it('serves the page assets and 404s anything else', async () => {
    for (const [name, type] of [
      ['style.css', 'text/css'],
      ['host-charts.js', 'text/javascript'],
      ['uPlot.iife.min.js', 'text/javascript'],
    ]) {
      const response = await fetch(`${base}/assets/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain(type);
    }
    expect((await fetch(`${base}/assets/..%2fserver.js`)).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('web access control', () => {
  let web: WebFleet;
  const basic = { user: 'admin', password: 'pässword:with-colon' };
  const token = 'a-long-random-token';
  const basicHeader = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  });

  beforeAll(async () => {
    web = await startWebFleet(1);
  }, 120_000);
  afterAll(async () => {
    await web?.stop();
  });

  it('requires the configured credentials for the dashboard and the API', async () => {
    const base = await web.serve({ auth: { basic, bearerToken: token } });
    for (const path of ['/', '/api/hosts', '/alerts', '/api/openapi.json']) {
      const anonymous = await fetch(base + path);
      expect({ path, status: anonymous.status }).toEqual({ path, status: 401 });
      expect(anonymous.headers.get('www-authenticate')).toContain('Basic realm="fleetstat"');
      expect((await fetch(base + path, { headers: basicHeader(basic.user, basic.password) })).status).toBe(200);
      expect((await fetch(base + path, { headers: basicHeader(basic.user, 'wrong') })).status).toBe(401);
      expect((await fetch(base + path, { headers: basicHeader('root', basic.password) })).status).toBe(401);
      expect((await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await fetch(base + path, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    }
    // /metrics needs the same credentials by default.
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('serves /metrics without credentials only when metrics-open says so', async () => {
    const open = await web.serve({ auth: { bearerToken: token }, metricsOpen: true });
    expect((await fetch(`${open}/metrics`)).status).toBe(200);
    expect((await fetch(`${open}/api/hosts`)).status).toBe(401);
    const base = await web.serve({ auth: { bearerToken: token }, metricsOpen: false });
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    // A basic header is no use when only a token is configured.
    expect((await fetch(`${base}/api/hosts`, { headers: basicHeader('admin', token) })).status).toBe(401);
  });
});
