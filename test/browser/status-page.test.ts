// The status page in a real browser: Debian's headless Chromium driven by playwright-core (the library only;
// the browser is the system's). Three demo backends, Redis and two gateway replicas; after a known mix of
// traffic the page shows the backends and their sessions, finds a session by id from the keyboard, works at
// 1280 px and 390 px, and marks a killed backend without a reload. No console errors throughout.
// Page-side code is passed as functions (a string would be eval'd, which the page's CSP forbids); the project's
// TypeScript has no DOM library, so the little of it they use is typed here.
// Screenshots go to $STATUS_SCREENSHOTS_DIR (docs/ to refresh the README's), else a temporary directory.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startGateway } from '../support/gateway.ts';
import { trafficMix, type MixResult } from '../support/status.ts';
import { startTopology, type Topology } from '../support/topology.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.STATUS_SCREENSHOTS_DIR ?? mkdtempSync(join(tmpdir(), 'status-page-'));
/** The page polls every 2 s; a health check notices a dead backend within a second or so. Generous: shared machine. */
const WITHIN_MS = 15_000;

interface PageGlobals {
  document: {
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    activeElement: { id: string } | null;
    documentElement: { scrollWidth: number };
  };
  innerWidth: number;
  marker?: string;
}
function requireChromium(): string {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run  scripts/system-deps.sh browser  (apt-get install -y --no-install-recommends chromium), or set CHROMIUM_PATH`);
  }
  return CHROMIUM;
}

describe('status page in headless Chromium', () => {
  let topo: Topology;
  let mix: MixResult;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    const executablePath = requireChromium();
    topo = await startTopology({ store: 'redis', gateways: 2 });
    mix = await trafficMix(topo.entries()[0]!);
    browser = await chromium.launch({ executablePath, args: ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      // Chromium logs every non-2xx fetch; the one 404 the lookup test asks for on purpose is expected.
      if (m.location().url.endsWith('/sessions/no-such-session')) return;
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`${topo.gateways[0]!.adminUrl}/`);
  });
  after(async () => {
    await browser?.close();
    await topo?.stop();
  });

  test('shows three backends serving and the sessions of the mix', async () => {
    const rows = page.locator('#backends tbody tr[data-backend]');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('#backends tbody tr[data-backend]').length === 3 && (globalThis as unknown as PageGlobals).document.querySelector('#replicas tbody tr + tr') !== null, undefined, { timeout: WITHIN_MS });
    assert.equal(await rows.count(), 3);
    for (const b of topo.backends) {
      const row = page.locator(`#backends tbody tr[data-backend="${b.url}"]`);
      assert.equal(await row.getAttribute('data-state'), 'serving');
      const expected = [...mix.sessions.values()].filter((name) => name === b.name).length;
      const shown = Number(await row.locator('td.sessions').textContent());
      assert.ok(shown >= expected && expected > 0, `${b.name}: shows ${shown} sessions, the mix has ${expected}`);
    }
    assert.equal(await page.locator('#replicas tbody tr').count(), 2, 'both gateway replicas listed');
    assert.match((await page.locator('#store').textContent()) ?? '', /redis/);
    assert.equal(await page.getByRole('table', { name: /every backend/i }).count(), 1, 'the table is named by its caption');
  });

  test('finds a session by id with the keyboard only', async () => {
    const [sid, name] = [...mix.sessions][0]!;
    const backend = topo.backends.find((b) => b.name === name)!;
    // Tab from the top of the page to the lookup field, as a keyboard user would.
    await page.locator('body').focus();
    const focused = () => page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id);
    for (let i = 0; i < 10 && (await focused()) !== 'lookup-id'; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), 'lookup-id', 'the lookup field is reachable with Tab');
    await page.keyboard.type(sid);
    await page.keyboard.press('Enter');
    const facts = page.locator('#lookup-facts');
    await facts.waitFor({ timeout: WITHIN_MS });
    const text = (await facts.textContent()) ?? '';
    assert.ok(text.includes(backend.url), `the binding names ${backend.url}: ${text}`);
    assert.match(text, /2025-11-25/);
    assert.match(text, /none \(auth off\)/);
    await page.locator('#lookup-id').fill('no-such-session');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'No such session' }).waitFor({ timeout: WITHIN_MS });
    // Back to the real one for the screenshot.
    await page.locator('#lookup-id').fill(sid);
    await page.keyboard.press('Enter');
    await facts.waitFor({ timeout: WITHIN_MS });
  });

  test('fits 1280 px and a 390 px phone without sideways scrolling', async () => {
    await page.screenshot({ path: join(SHOTS, 'status-page.png'), fullPage: true });
    const fits = () => page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth <= (globalThis as unknown as PageGlobals).innerWidth);
    assert.ok(await fits(), 'no horizontal scroll at 1280 px');
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await fits(), 'no horizontal scroll at 390 px');
    await page.screenshot({ path: join(SHOTS, 'status-page-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    console.log(`screenshots in ${SHOTS}`);
  });

  test('marks a killed backend within seconds, without a reload', async () => {
    await page.evaluate(() => void ((globalThis as unknown as PageGlobals).marker = 'same document'));
    const victim = topo.backends[2]!;
    await victim.kill();
    const row = page.locator(`#backends tbody tr[data-backend="${victim.url}"]`);
    await page.waitForFunction((url) => (globalThis as unknown as PageGlobals).document.querySelector(`#backends tbody tr[data-backend="${url}"]`)?.getAttribute('data-state') === 'ejected', victim.url, { timeout: WITHIN_MS });
    assert.match((await row.locator('td.state').textContent()) ?? '', /ejected/);
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).marker), 'same document', 'the page was not reloaded');
  });

  test('with a status token, the page asks for it and then shows the gateway', async () => {
    const token = 'browser-status-token-0123456789';
    const gw = await startGateway({ backends: topo.backends.map((b) => b.url), redisUrl: topo.redis!.url, env: { STATUS_TOKEN: token } });
    const tokenPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const unexpected: string[] = [];
    tokenPage.on('console', (m) => {
      // The first poll is refused (401) on purpose: that is how the page learns it needs the token.
      if (/status of 401/.test(m.text())) return;
      if (m.type() === 'error' || m.type() === 'warning') unexpected.push(m.text());
    });
    tokenPage.on('pageerror', (err) => unexpected.push(err.message));
    try {
      await tokenPage.goto(`${gw.adminUrl}/`);
      await tokenPage.getByLabel('Token').waitFor({ timeout: WITHIN_MS });
      await tokenPage.getByLabel('Token').focus();
      await tokenPage.keyboard.type(token);
      await tokenPage.keyboard.press('Enter');
      await tokenPage.locator('#backends tbody tr[data-backend]').first().waitFor({ timeout: WITHIN_MS });
      assert.equal(await tokenPage.locator('#token-form').isHidden(), true, 'the token form goes away');
      assert.deepEqual(unexpected, []);
    } finally {
      await tokenPage.close();
      await gw.stop();
    }
  });

  test('logged no console error, page error or failed request', () => {
    assert.deepEqual(problems, []);
  });
});
