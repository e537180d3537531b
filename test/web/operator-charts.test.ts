/**
 * The console's charts tab in a real browser (Debian's Chromium through
 * playwright-core) against a real cloud: a car park seeded with three days
 * of stays through the API, plus cars read by a real gate unit (whose
 * statuses carry the trigger -> barrier times). Signed in with an auditor
 * key, every chart renders: a canvas with something drawn on it, given as
 * many points as the API's answer holds (the figure's data-points), with a
 * caption and a table of the same figures for screen readers. uPlot comes
 * from the cloud itself and no CSP violation is reported. A bad range shows
 * the API's message next to the field. Accessibility checked, screenshots
 * in English and Simplified Chinese.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { seedCarPark } from '../cloud/stats-seed.js';
import { checkAccessibility } from './accessibility.js';
import type { Site } from './web-harness.js';
import { DESKTOP, launchBrowser, screenshot, skipBrowser, startSite } from './web-harness.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LINKED = '皖A35791';
const VISITOR = '皖B46802';
const CHARTS = [
  'occupancy',
  'flow',
  'revenue-hourly',
  'revenue-daily',
  'decisions',
  'review-rate',
  'confidence',
  'latency',
];

describe('operator console: charts', { skip: skipBrowser, timeout: 300_000 }, () => {
  let s: Site;
  let browser: Browser;
  let page: Page;
  let auditorKey: string;
  const cspViolations: string[] = [];

  before(async () => {
    s = await startSite({ entry: [LINKED, VISITOR], exit: [LINKED] }, 23);
    await s.site.addDriver('charts-owner@example.com', 100_000, [LINKED]);
    // three days of stays, ending a few hours ago (exits never ahead of the cloud's clock)
    await seedCarPark(
      async (method, path, o = {}) => {
        const res = await fetch(s.site.url + path, {
          method,
          headers: {
            ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
          },
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null };
      },
      {
        adminKey: s.site.adminKey,
        lanes: s.lanes,
        start: Date.now() - 3.5 * DAY,
        spanMs: 3 * DAY,
        cars: 60,
        seed: 2207,
        email: 'charts-seed@example.com',
      },
    );
    // real cars through the gate unit: the barrier opens for both entries and the charged exit
    assert.equal((await s.trigger('entry')).action, 'open');
    assert.equal((await s.trigger('entry')).action, 'open');
    assert.equal((await s.trigger('exit')).reason, 'charged');
    auditorKey = (await s.site.api<{ secret: string }>('POST', '/v1/keys', { role: 'auditor', label: 'bank' })).secret;
    // the gate's statuses carry the timings one way: wait until both lanes have theirs
    const today = new Date(Date.now() + 8 * HOUR).toISOString().slice(0, 10);
    for (let i = 0; ; i++) {
      const latency = await s.site.api<{ lanes: unknown[] }>(
        'GET',
        `/v1/lots/${s.lotId}/stats/latency?from=${today}&to=${today}`,
      );
      if (latency.lanes.length === 2) break;
      if (i > 600) throw new Error('the gate did not report its barrier timings');
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: DESKTOP });
    // (page scripts as text: the tests are compiled without the DOM's types)
    await page.addInitScript(`
      globalThis.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        globalThis.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    `);
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  /** the API's answers for the range the page shows, to count the points each chart must have */
  const answers = async (from: string, to: string) => {
    const get = (what: string) =>
      s.site.api<Record<string, unknown[]>>('GET', `/v1/lots/${s.lotId}/stats/${what}?from=${from}&to=${to}`);
    const [decisions, latency] = await Promise.all([get('decisions'), get('latency')]);
    return { decisions: decisions.decisions!.length, lanes: latency.lanes!.length };
  };

  /** each chart's points, whether its canvas has anything drawn, and its screen-reader table's rows */
  const rendered = () =>
    page.evaluate(`
      [...document.querySelectorAll('figure.chart')].map((figure) => {
        const canvas = figure.querySelector('canvas');
        let drawn = false;
        if (canvas) {
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < pixels.length && !drawn; i += 4) drawn = pixels[i] > 0;
        }
        return {
          chart: figure.dataset.chart,
          points: Number(figure.dataset.points),
          drawn,
          rows: figure.querySelectorAll('.sr-only table tbody tr').length,
          caption: figure.querySelector('figcaption h3')?.textContent ?? '',
        };
      })
    `) as Promise<Array<{ chart: string; points: number; drawn: boolean; rows: number; caption: string }>>;

  it('draws every chart for the last seven days with the points the API gave', async () => {
    await page.goto(`${s.site.url}/operator`);
    await page.getByLabel('API key').fill(auditorKey);
    await page.getByLabel('API key').press('Enter');
    await page.locator('#live[data-state="live"]').waitFor();
    await page.getByRole('tab', { name: 'Charts' }).click();
    await page.locator('figure.chart[data-chart="latency"] canvas').waitFor({ timeout: 60_000 });
    const from = await page.getByLabel('From day').inputValue();
    const to = await page.getByLabel('To day').inputValue();
    assert.equal((Date.parse(to) - Date.parse(from)) / DAY, 6, `${from}..${to} is seven days`);
    const { decisions, lanes } = await answers(from, to);
    assert.equal(lanes, 2);
    const charts = await rendered();
    assert.deepEqual(
      charts.map((c) => c.chart),
      CHARTS,
    );
    const expected: Record<string, number> = {
      occupancy: 7 * 24,
      flow: 7 * 24,
      'revenue-hourly': 7 * 24,
      'revenue-daily': 7,
      decisions,
      'review-rate': 7,
      confidence: 20,
      latency: 2,
    };
    for (const c of charts) {
      assert.equal(c.points, expected[c.chart], `${c.chart}: points`);
      assert.ok(c.drawn, `${c.chart}: something is drawn on its canvas`);
      assert.equal(c.rows, c.points, `${c.chart}: its table has a row per point`);
      assert.ok(c.caption.length > 0, `${c.chart}: a caption`);
    }
    assert.ok(decisions >= 3, 'entries, charges and reviews in the decision mix');
    assert.match(await page.locator('figure[data-chart="latency"] table').innerText(), /North entry[\s\S]*North exit/);
    assert.deepEqual(await page.evaluate('globalThis.cspViolations'), []);
    assert.deepEqual(cspViolations, []);
    // uPlot comes from the cloud, with the pages' headers
    for (const [file, type] of [
      ['uplot.js', /^text\/javascript/],
      ['uplot.css', /^text\/css/],
    ] as const) {
      const res = await fetch(`${s.site.url}/web/vendor/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get('content-type') ?? '', type);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok((await res.text()).length > 1000, `${file} has its content`);
    }
    assert.equal((await fetch(`${s.site.url}/web/vendor/uPlot.cjs.js`)).status, 404);
    await checkAccessibility(page, 'charts tab');
    await screenshot(page, 'operator-charts-en');
  });

  it("shows the API's message next to the day it is about, and recovers", async () => {
    const to = page.getByLabel('To day');
    const before = await to.inputValue();
    await to.fill('2020-01-01');
    await page.getByRole('button', { name: 'Show charts' }).click();
    const error = page.locator('#charts-to-error');
    await error.filter({ hasText: 'is before from' }).waitFor();
    assert.equal(await to.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate('document.activeElement.id'), 'charts-to', 'the keyboard is on the day in error');
    assert.match((await to.getAttribute('aria-describedby')) ?? '', /charts-to-error/);
    await checkAccessibility(page, 'charts tab with a bad range');
    await page.getByLabel('To day').fill(before);
    // keyboard: Enter in a field submits the form
    await page.getByLabel('To day').press('Enter');
    await page.locator('figure.chart[data-chart="occupancy"] canvas').waitFor();
    assert.equal(await page.locator('#charts-to-error').count(), 1);
    assert.equal(await page.locator('#charts-to-error').isHidden(), true);
  });

  it('speaks Simplified Chinese when chosen', async () => {
    await page.evaluate("localStorage.setItem('platepay.language', 'zh-CN')");
    await page.reload();
    await page.locator('figure.chart[data-chart="latency"] canvas').waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: '图表' }).waitFor();
    await page.getByLabel('车场').waitFor();
    const charts = await rendered();
    assert.equal(charts.length, CHARTS.length);
    assert.ok(
      charts.every((c) => c.drawn),
      'every chart drawn',
    );
    assert.match(charts[0]!.caption, /场内车辆/);
    // every message of the tab in both languages
    assert.deepEqual(
      await page.evaluate(
        "import('/web/static/i18n.js').then((m) => m.missingMessages().filter((k) => k.includes('charts.')))",
      ),
      [],
    );
    assert.deepEqual(cspViolations, []);
    await checkAccessibility(page, 'charts tab in Chinese');
    await screenshot(page, 'operator-charts-zh-CN');
  });
});
