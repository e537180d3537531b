/**
 * "Find a car" in a real browser (Debian's Chromium through playwright-core) against a real cloud and gate
 * unit: a car read by the gate enters and leaves (charged); a look-alike plate enters by hand. An auditor
 * (who reads everything and changes nothing) searches the plate: the settled stay shows both plate images,
 * the times in the car park's zone, the decision and the receipt, which the page verifies against the signed
 * ledger; the look-alike shows as such, with "no image". A bad plate gets the API's message next to the
 * field. The accessibility check runs on each state; screenshots in English and Simplified Chinese.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkAccessibility } from './accessibility.js';
import type { Site } from './web-harness.js';
import { DESKTOP, launchBrowser, screenshot, skipBrowser, startSite } from './web-harness.js';

const PLATE = '苏E35817';
/** 5 and S look alike: the look-alike search finds it, the exact one does not */
const LOOK_ALIKE = '苏E3S817';

describe('operator console: find a car', { skip: skipBrowser, timeout: 300_000 }, () => {
  let s: Site;
  let browser: Browser;
  let page: Page;
  let auditorKey: string;

  before(async () => {
    s = await startSite({ entry: [PLATE], exit: [PLATE] }, 23);
    await s.site.addDriver('finder@example.com', 10_000, [PLATE]);
    auditorKey = (await s.site.api<{ secret: string }>('POST', '/v1/keys', { role: 'auditor', label: 'audit' })).secret;
    const entry = await s.trigger('entry');
    assert.deepEqual([entry.plate, entry.action], [PLATE, 'open']);
    const exit = await s.trigger('exit');
    assert.deepEqual([exit.plate, exit.action, exit.reason], [PLATE, 'open', 'charged']);
    await s.site.api('POST', '/v1/events', {
      eventId: 'find-lookalike-1',
      laneId: s.lanes.entry,
      plate: LOOK_ALIKE,
      confidence: 0.93,
      at: Date.now(),
    });
    await s.site.cloud.checkpointNow();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: DESKTOP });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const hit = (plate: string) => page.locator('.find-hit').filter({ has: page.locator('.plate', { hasText: plate }) });
  const loaded = async (img: ReturnType<Page['locator']>) => {
    await img.waitFor();
    await page.waitForFunction(
      (el) => {
        const i = el as unknown as { complete: boolean; naturalWidth: number };
        return i.complete && i.naturalWidth > 0;
      },
      await img.elementHandle(),
    );
  };

  it('refuses an empty plate and a bad one next to the field', async () => {
    await page.goto(`${s.site.url}/operator#find`);
    await page.getByLabel('API key').fill(auditorKey);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    const plate = page.getByLabel('Plate', { exact: true });
    await plate.waitFor();
    await checkAccessibility(page, 'find a car, empty');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#find-plate-error').filter({ hasText: 'Enter a plate' }).waitFor();
    assert.equal(await plate.getAttribute('aria-invalid'), 'true');
    await plate.fill('AB<>12');
    await plate.press('Enter');
    // the API's own message, next to the field it names
    await page.locator('#find-plate-error').filter({ hasText: 'plate: only letters' }).waitFor();
    assert.equal(await page.evaluate<string | undefined>('document.activeElement?.id'), 'find-plate');
    await checkAccessibility(page, 'find a car, bad plate');
  });

  it('finds the stay with images, decision and a receipt that verifies; the look-alike too', async () => {
    const plate = page.getByLabel('Plate', { exact: true });
    await plate.fill(PLATE.toLowerCase());
    await page.keyboard.press('Enter');
    await page
      .locator('#find-status')
      .filter({ hasText: `2 stays of ${PLATE} shown` })
      .waitFor();
    const settled = hit(PLATE);
    assert.equal(await settled.getAttribute('data-status'), 'closed');
    await loaded(settled.getByRole('img', { name: `Plate image at entry, ${PLATE}` }));
    await loaded(settled.getByRole('img', { name: `Plate image at exit, ${PLATE}` }));
    const text = await settled.innerText();
    assert.match(text, /Riverside car park/);
    assert.match(text, /exact/);
    assert.match(text, /barrier opened: charged/);
    assert.match(text, /\(UTC\+8\)/);
    assert.match(text, /5\.00/);
    assert.match(text, /Ledger entry\s+#\d+/);
    await settled.getByRole('button', { name: 'Verify receipt' }).click();
    await settled.locator('.verify[data-verification="verified"]').filter({ hasText: 'verified' }).waitFor();

    const alike = hit(LOOK_ALIKE);
    assert.equal(await alike.getAttribute('data-status'), 'open');
    assert.match(await alike.innerText(), /look-alike/);
    assert.match(await alike.innerText(), /Not settled yet/);
    await alike.getByText('no image').waitFor(); // a manual event has no crop
    await checkAccessibility(page, 'find a car, results');
    await screenshot(page, 'operator-find-en');

    // exact only: the look-alike is gone
    await page.getByLabel('Match').selectOption('exact');
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .locator('#find-status')
      .filter({ hasText: `1 stay of ${PLATE} found` })
      .waitFor();
    assert.equal(await hit(LOOK_ALIKE).count(), 0);
  });

  it('reads in Simplified Chinese', async () => {
    await page.evaluate("localStorage.setItem('platepay.language', 'zh-CN')");
    await page.reload();
    const plate = page.getByLabel('车牌号', { exact: true });
    await plate.waitFor();
    await plate.fill(PLATE);
    await page.getByRole('button', { name: '查找', exact: true }).click();
    await page.locator('#find-status').filter({ hasText: '显示' }).waitFor();
    const settled = hit(PLATE);
    await loaded(settled.getByRole('img', { name: `入场车牌图片，${PLATE}` }));
    const text = await settled.innerText();
    assert.match(text, /道闸已抬杆：已扣费/);
    assert.match(text, /已离场/);
    assert.match(text, /结算凭证/);
    await checkAccessibility(page, 'find a car, Chinese');
    await screenshot(page, 'operator-find-zh-CN');
    await page.evaluate("localStorage.removeItem('platepay.language')");
  });
});
