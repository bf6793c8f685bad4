/**
 * The dashboard in headless Chromium (Debian's /usr/bin/chromium through playwright-core): the page
 * loads with no console errors, shows the seeded data, escapes what people typed, and runs no
 * script. Screenshots: test-artifacts/dashboard.png (every run) and docs/dashboard.png (README).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { registerInsightsRoutes } from '../../src/http/insights-routes';
import { esc } from '../../src/http/dashboard';
import { HttpServer } from '../../src/http/server';
import { MemoryLogger } from '../../src/runtime/logger';
import type { Harness } from '../harness/harness';
import { seedHistory } from './seed';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const TOKEN = 'dashboard-token-0123456789';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
const maybe = haveChromium ? test : test.skip;

let h: Harness;
let http: HttpServer;
let base: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  h = await seedHistory();
  // An open incident whose title tries to inject markup.
  await h.run('zed', 'incident report sev2 <script>alert(1)</script> & "quotes" --service web --team payments');
  const logger = new MemoryLogger();
  http = new HttpServer(logger);
  registerInsightsRoutes(http, { app: h.app, env: { ONEHAND_API_TOKEN: TOKEN }, clock: h.clock, logger });
  base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await h?.stop();
});

maybe('the dashboard needs the token; the token leaves the URL at once for a cookie that opens the dashboard alone', async () => {
  expect((await fetch(`${base}/dashboard`)).status).toBe(401);
  expect((await fetch(`${base}/dashboard?token=nope`)).status).toBe(401);
  const opened = await fetch(`${base}/dashboard?token=${TOKEN}&since=28d`, { redirect: 'manual' });
  expect(opened.status).toBe(303);
  expect(opened.headers.get('location')).toBe('/dashboard?since=28d');
  const setCookie = opened.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/^onehand_dashboard=[\w-]+; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200$/);
  expect(setCookie).not.toContain(TOKEN);
  const session = setCookie.split(';')[0] as string;
  expect((await fetch(`${base}/dashboard?since=28d`, { headers: { cookie: session } })).status).toBe(200);
  expect((await fetch(`${base}/dashboard`, { headers: { cookie: 'onehand_dashboard=forged' } })).status).toBe(401);
  expect((await fetch(`${base}/dashboard`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  // The cookie's value is not the API token: it opens no report.
  expect((await fetch(`${base}/api/teams/payments/report`, { headers: { authorization: `Bearer ${session.split('=')[1] ?? ''}` } })).status).toBe(401);
});

maybe('the dashboard loads with no console errors and shows the seeded data', async () => {
  const page = await (browser as Browser).newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const res = await page.goto(`${base}/dashboard?token=${TOKEN}&since=28d`);
  expect(res?.status()).toBe(200);
  expect(page.url()).toBe(`${base}/dashboard?since=28d`); // the token is not in the address bar
  expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");

  const payments = page.locator('#team-payments');
  // Who is on call now (dave, since Mon Mar 2) and next (alice, Mar 9).
  await expect(payments.locator('.card').nth(0).innerText()).resolves.toContain('Dave');
  await expect(payments.locator('.card').nth(1).innerText()).resolves.toContain('Alice');
  const text = await payments.innerText();
  expect(text).toContain('9 incidents, 9 resolved');
  expect(text).toContain('huddle rate 11.1 per 100 — huddles are not rare');
  expect(text).toContain('5 of 9 incidents paged only the on-call');
  expect(text).toMatch(/only Dave has ever resolved it; suggestion: make Dave the mentor of Alice/);
  // The open incident, its title shown as text, not markup.
  expect(text).toContain('<script>alert(1)</script> & "quotes"'); // the title as typed, shown as text
  expect(await page.locator('script').count()).toBe(0);
  // Charts: solo rate per member (a line per rotation member), huddle rate, interruptions by hour.
  const charts = payments.locator('figure');
  await expect(charts.count()).resolves.toBe(3);
  await expect(charts.nth(0).locator('polyline, circle').count()).resolves.toBeGreaterThan(3);
  await expect(charts.nth(2).locator('rect').count()).resolves.toBe(24);
  // The coming weeks, no override among them; the search team is there too.
  await expect(payments.locator('table.schedule tbody tr').count()).resolves.toBeGreaterThanOrEqual(4);
  await expect(page.locator('#team-search h2').innerText()).resolves.toBe('Search');

  expect(problems).toEqual([]);
  expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
  fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'dashboard.png') });
  await page.screenshot({ path: path.join(ROOT, 'docs', 'dashboard.png') });
  await page.close();
}, 60_000);

test('esc escapes markup and quotes', () => {
  expect(esc('<a href="x">\'&\'</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
