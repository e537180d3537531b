/**
 * The accounting export in a real browser (Debian's Chromium through playwright-core) against a real cloud:
 * two linked cars enter and leave (charged) through the API. An operator opens the Export tab, gets the
 * period checked in the page (the last day before the first) and by the API (its message next to the field
 * it names), then downloads the CSV of this month: the file has the header and one line per settlement.
 * The accessibility check runs on each state; screenshots in English and Simplified Chinese.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkAccessibility } from './accessibility.js';
import type { Site } from './web-harness.js';
import { DESKTOP, launchBrowser, screenshot, skipBrowser, startSite } from './web-harness.js';

const PLATES = ['浙A12345', '浙A67890'];

describe('operator console: accounting export', { skip: skipBrowser, timeout: 300_000 }, () => {
  let s: Site;
  let browser: Browser;
  let page: Page;
  let operatorKey: string;

  before(async () => {
    s = await startSite({ entry: [PLATES[0]!], exit: [PLATES[0]!] }, 31);
    await s.site.addDriver('accounts@example.com', 10_000, PLATES);
    operatorKey = (await s.site.api<{ secret: string }>('POST', '/v1/keys', { role: 'operator', label: 'accounts' }))
      .secret;
    const now = Date.now();
    for (const [i, plate] of PLATES.entries()) {
      const event = (kind: 'entry' | 'exit', at: number) =>
        s.site.api<{ reason: string }>('POST', '/v1/events', {
          eventId: `export-${kind}-${i}`,
          laneId: s.lanes[kind],
          plate,
          confidence: 0.99,
          at,
        });
      await event('entry', now - 3_600_000);
      assert.equal((await event('exit', now)).reason, 'charged');
    }
    await s.site.cloud.checkpointNow();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: DESKTOP, acceptDownloads: true });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('checks the period in the page and through the API, next to the field', async () => {
    await page.goto(`${s.site.url}/operator#export`);
    await page.getByLabel('API key').fill(operatorKey);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    const from = page.getByLabel('From (first day)');
    const to = page.getByLabel('To (last day, included)');
    await from.waitFor();
    assert.match(await page.getByLabel('Car park').innerText(), /Riverside car park/);
    await page.getByText("Days in the car park's local time (UTC+8).").waitFor();
    await checkAccessibility(page, 'export, empty');

    await from.fill('2026-03-10');
    await to.fill('2026-03-01');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    await page.locator('#export-to-error').filter({ hasText: 'The last day cannot be before the first.' }).waitFor();
    assert.equal(await to.getAttribute('aria-invalid'), 'true');

    // the API's own check (the page lets the day through): its message names the field
    await from.fill('1999-12-31');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    await page.locator('#export-from-error').filter({ hasText: 'from: expected a day as YYYY-MM-DD' }).waitFor();
    assert.equal(await from.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), 'export-from');
    await checkAccessibility(page, 'export, bad period');
  });

  it('downloads the CSV of this month, one line per settlement', async () => {
    // this month in the car park's zone (UTC+8), as the page offers it by default
    const today = new Date(Date.now() + 480 * 60_000).toISOString().slice(0, 10);
    await page.getByLabel('From (first day)').fill(`${today.slice(0, 8)}01`);
    await page.getByLabel('To (last day, included)').fill(today);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^settlements-lot_[0-9a-f]{32}-\d{4}-\d{2}-01-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const lines = csv.split('\r\n').slice(0, -1);
    assert.match(lines[0]!, /^settlement_id,session_id,plate,entry_at,exit_at,amount_minor,amount,currency,/);
    assert.deepEqual(
      lines
        .slice(1)
        .map((l) => l.split(',')[2])
        .sort(),
      [...PLATES].sort(),
    );
    for (const line of lines.slice(1)) assert.match(line, /,500,5\.00,CNY,acc_[0-9a-f]{32},wallet,\d+,/);
    await page.locator('#export-status').filter({ hasText: 'Saved settlements-' }).waitFor();
    assert.match(await page.locator('#export-status').innerText(), /2 settlements/);
    await checkAccessibility(page, 'export, downloaded');
    await screenshot(page, 'operator-export-en');
  });

  it('reads in Simplified Chinese', async () => {
    await page.evaluate("localStorage.setItem('platepay.language', 'zh-CN')");
    await page.reload();
    await page.getByLabel('开始日期').waitFor();
    await page.getByText('按车场当地时间（UTC+8）计算日期。').waitFor();
    await page.getByLabel('结束日期（含当天）').fill('2026-03-01');
    await page.getByLabel('开始日期').fill('2026-03-10');
    await page.getByRole('button', { name: '下载 CSV' }).click();
    await page.locator('#export-to-error').filter({ hasText: '结束日期不能早于开始日期。' }).waitFor();
    await checkAccessibility(page, 'export, Chinese');
    await screenshot(page, 'operator-export-zh-CN');
    await page.evaluate("localStorage.removeItem('platepay.language')");
  });
});
