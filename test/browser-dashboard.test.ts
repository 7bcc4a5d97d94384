/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * server over real rounds: the overview lists the hosts, a hostile host name stays text, the
 * host page draws its charts, the alerts page shows the crossed memory limit, and the CSP is
 * never violated; a DNS-rebinding page reads nothing. Saves docs/screenshots/overview.png and
 * host.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERTING_NAME, QUOTED_NAME, XSS_NAME, startWebFleet, type WebFleet } from './web-fixture.js';

// The README's screenshots are refreshed only on request (FLEETSTAT_SCREENSHOTS=1), so a test
// run leaves the work tree clean; otherwise they go to a temp directory.
const SCREENSHOTS =
  process.env.FLEETSTAT_SCREENSHOTS === '1'
    ? new URL('../docs/screenshots/', import.meta.url).pathname
    : `${mkdtempSync(join(tmpdir(), 'fleetstat-shots-'))}/`;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The attacker's name, as DNS rebinding would make it resolve: to the dashboard's loopback address.
  '--host-resolver-rules=MAP rebind.attacker.test 127.0.0.1',
  // Chromium's Private Network Access would block the rebound fetch on its own; Firefox and Safari
  // have no such check, so play a browser without it: the dashboard's Host check must hold alone.
  '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks',
];

describe('dashboard in a browser', () => {
  let web: WebFleet;
  let base: string;
  let browser: Browser;
  /** Problems any page reported: dialogs opened, CSP violations, script errors. */
  const problems: string[] = [];

  async function openPage(path: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    const response = await page.goto(base + path);
    expect(response?.status()).toBe(200);
    return page;
  }

  beforeAll(async () => {
    [web, browser] = await Promise.all([
      startWebFleet(4),
      chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
    ]);
    base = await web.serve();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    if (process.env.FLEETSTAT_SCREENSHOTS !== '1') rmSync(SCREENSHOTS, { recursive: true, force: true });
    await browser?.close();
    await web?.stop();
  });

  it('lists the hosts of the round, with a hostile name shown as text', async () => {
    const page = await openPage('/');
    const rows = page.locator('tr.host-row');
    await expect.poll(() => rows.count()).toBe(web.config.clients.length);
    const names = await page
      .locator('td.host-name')
      .evaluateAll((cells) =>
        cells.map((c) => c.querySelector('a')?.textContent ?? c.firstChild?.firstChild?.textContent),
      );
    expect([...names].sort()).toEqual(web.config.clients.map((c) => c.name).sort());
    // The <script> name is visible text, and no element was created from it.
    expect(await page.getByText(XSS_NAME, { exact: true }).isVisible()).toBe(true);
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('tr.host-row[data-status="up"]').count()).toBe(3);
    expect(await page.locator('tr.host-row[data-status="down"]').textContent()).toContain(QUOTED_NAME);
    await page.screenshot({ path: `${SCREENSHOTS}overview.png` });
    await page.close();
    expect(problems).toEqual([]);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const page = await openPage('/', { width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${SCREENSHOTS}overview-phone.png` });
    await page.close();
    expect(problems).toEqual([]);
  });

  it('lists hosts in trouble first: down before firing before the healthy ones, the firing rule named', async () => {
    const page = await openPage('/');
    const rows = await page.locator('tr.host-row').evaluateAll((trs) =>
      trs.map((tr) => ({
        status: tr.getAttribute('data-status'),
        text: tr.textContent ?? '',
      })),
    );
    expect(rows[0]!.status).toBe('down');
    expect(rows[0]!.text).toContain(QUOTED_NAME);
    expect(rows[1]!.text).toContain(ALERTING_NAME);
    expect(rows[1]!.text).toContain('memory firing');
    expect(rows.slice(2).every((r) => r.status === 'up')).toBe(true);
    // alpha's own memory limit (0%) colours its bar, not the default 90%.
    expect(
      await page
        .locator('tr.host-row', { hasText: ALERTING_NAME })
        .locator('meter[title^="memory"]')
        .getAttribute('data-limit'),
    ).toBe('0.0');
    await page.close();
    expect(problems).toEqual([]);
  });

  it('keeps the filters in the URL: status from the address, the search box submitted into it', async () => {
    const page = await openPage('/?status=down');
    expect(await page.locator('tr.host-row').count()).toBe(1);
    expect(await page.locator('select[name="status"]').inputValue()).toBe('down');
    await page.locator('select[name="status"]').selectOption('all');
    await page.locator('input[name="q"]').fill('gam');
    await Promise.all([page.waitForURL(/[?&]q=gam/), page.locator('.filters button').click()]);
    expect(new URL(page.url()).searchParams.get('status')).toBe('all');
    const names = await page.locator('tr.host-row td.host-name a').allTextContents();
    expect(names).toEqual(['gamma']);
    expect(await page.locator('#shown-count').textContent()).toBe(`1 of ${web.config.clients.length} hosts`);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('fits a phone on every page: no sideways scrolling, chart legends and axis labels inside their charts', async () => {
    const hosts = (await (await fetch(`${base}/api/hosts`)).json()) as { hosts: { id: number; name: string }[] };
    const gamma = hosts.hosts.find((h) => h.name === 'gamma')!;
    for (const path of ['/', '/?status=trouble', '/alerts', '/rounds', `/hosts/${gamma.id}?range=1h`]) {
      const page = await openPage(path, { width: 360, height: 740 });
      if (path.startsWith('/hosts/')) await page.waitForSelector('body[data-charts="drawn"]');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      // Nothing inside a chart box sticks out of it (legends, axis labels drawn on the canvas).
      const outside = await page.locator('.chart').evaluateAll((charts) =>
        charts.flatMap((chart) => {
          const box = chart.getBoundingClientRect();
          return [...chart.querySelectorAll('*')]
            .filter((el) => {
              const r = el.getBoundingClientRect();
              return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5);
            })
            .map((el) => `${el.tagName}.${el.className}`);
        }),
      );
      expect(outside, path).toEqual([]);
      if (path.startsWith('/hosts/')) await page.screenshot({ path: `${SCREENSHOTS}host-phone.png`, fullPage: true });
      await page.close();
    }
    expect(problems).toEqual([]);
  });

  it('draws the charts of a host page', async () => {
    const hosts = (await (await fetch(`${base}/api/hosts`)).json()) as { hosts: { id: number; name: string }[] };
    const gamma = hosts.hosts.find((h) => h.name === 'gamma')!;
    const page = await openPage(`/hosts/${gamma.id}?range=1h`);
    await page.waitForSelector('body[data-charts="drawn"]');
    const canvases = page.locator('.chart canvas');
    expect(await canvases.count()).toBe(4);
    // Each chart has drawn something: pixels that are not transparent and not the white background.
    const inked = await canvases.evaluateAll((elements) =>
      elements.map((element) => {
        const canvas = element as HTMLCanvasElement;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let count = 0;
        for (let i = 0; i < pixels.length; i += 4) {
          const background = pixels[i + 3] === 0 || (pixels[i]! > 245 && pixels[i + 1]! > 245 && pixels[i + 2]! > 245);
          if (!background) count++;
        }
        return count;
      }),
    );
    for (const count of inked) expect(count).toBeGreaterThan(100);
    expect(await page.locator('#chart-status').textContent()).toContain(`${web.rounds} samples`);
    expect(await page.locator('h1').textContent()).toContain('gamma');
    await page.screenshot({ path: `${SCREENSHOTS}host.png` });
    await page.close();
    expect(problems).toEqual([]);
  });

  it('shows the firing memory alert on /alerts', async () => {
    const page = await openPage('/alerts');
    const firing = page.locator('#firing tr.alert-row');
    expect(await firing.count()).toBe(1);
    const text = await firing.textContent();
    expect(text).toContain(ALERTING_NAME);
    expect(text).toContain('memory');
    expect(text).toContain('firing');
    await page.close();
    expect(problems).toEqual([]);
  });

  it('keeps the hostile name inert on its own host page', async () => {
    const hosts = (await (await fetch(`${base}/api/hosts`)).json()) as { hosts: { id: number; name: string }[] };
    const hostile = hosts.hosts.find((h) => h.name === XSS_NAME)!;
    const page = await openPage(`/hosts/${hostile.id}`);
    await page.waitForSelector('body[data-charts="drawn"]');
    expect(await page.locator('h1').textContent()).toContain(XSS_NAME);
    expect(await page.title()).toContain(XSS_NAME);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('says so instead of drawing empty charts for a host never collected', async () => {
    const hosts = (await (await fetch(`${base}/api/hosts`)).json()) as { hosts: { id: number; name: string }[] };
    const down = hosts.hosts.find((h) => h.name === QUOTED_NAME)!;
    const page = await openPage(`/hosts/${down.id}`);
    await page.waitForSelector('body[data-charts="empty"]');
    expect(await page.locator('#chart-status').textContent()).toContain('No samples');
    expect(await page.locator('.charts').isVisible()).toBe(false);
    expect(await page.locator('.problem-box').textContent()).toContain('connect');
    await page.close();
    expect(problems).toEqual([]);
  });
  it('gives a DNS-rebinding page nothing: its same-origin reads under a foreign name get 421', async () => {
    const origin = `http://rebind.attacker.test:${new URL(base).port}`;
    const page = await browser.newPage();
    // The attacker's page, served while its name still pointed at the attacker; its later
    // requests go to the network, where the name now resolves to the dashboard.
    await page.route(`${origin}/`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>cats</title>' }),
    );
    await page.goto(`${origin}/`);
    const stolen = await page.evaluate(async () => {
      const response = await fetch('/api/hosts');
      return { status: response.status, body: await response.text() };
    });
    expect(stolen.status).toBe(421);
    expect(stolen.body).not.toContain('gamma');
    await page.close();
    // The same request under the dashboard's own address is answered.
    const own = await browser.newPage();
    await own.goto(`${base}/`);
    expect(await own.evaluate(async () => (await fetch('/api/hosts')).status)).toBe(200);
    await own.close();
  });
});
