/**
 * The operator dashboard in a real browser (Debian's Chromium through
 * playwright-core): signed in with an operator key, it shows the gate
 * online and, live (server-sent events, no reload), each read of a real
 * gate unit with its plate crop and confidence and the barrier command, and
 * what the gate itself reports (its offline queue, each barrier's state); an
 * exit read that fits no stay lands in the review queue with its crop, the
 * operator matches it to the right stay and charges it, and the queue, the
 * day's settlements and the cosigned checkpoint update without a reload;
 * a review item resolved elsewhere (another operator, through the API)
 * disappears from the page by itself too. The console switches to
 * Simplified Chinese in place (no reload, what the operator typed kept),
 * times are the car park's (UTC+8, shown as such to a reader in UTC), both
 * languages pass the accessibility check, and screenshots of each are saved.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkAccessibility } from './accessibility.js';
import { missingMessages, switchLanguage } from './page-language.js';
import type { Site } from './web-harness.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, skipBrowser, startSite } from './web-harness.js';

const PARKED = '皖C24680';
/** what the exit camera sees: one character off, and not a look-alike, so nothing matches it (the stay is "near") */
const MISREAD = '皖C24689';

describe('operator dashboard', { skip: skipBrowser, timeout: 300_000 }, () => {
  let s: Site;
  let browser: Browser;
  let page: Page;
  let operatorKey: string;

  before(async () => {
    s = await startSite({ entry: [PARKED], exit: [MISREAD] }, 11);
    await s.site.addDriver('owner@example.com', 10_000, [PARKED]);
    operatorKey = (await s.site.api<{ secret: string }>('POST', '/v1/keys', { role: 'operator', label: 'desk' }))
      .secret;
    browser = await launchBrowser();
    // the reader is in UTC, the car park in UTC+8 (hourlyTariff): the page shows the car park's times, marked
    page = await browser.newPage({ viewport: DESKTOP, timezoneId: 'UTC', locale: 'en-GB' });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  const lane = (which: 'entry' | 'exit') => page.locator(`.lane[data-lane="${s.lanes[which]}"]`);
  const review = (plate: string) => page.locator('.review').filter({ hasText: plate });
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

  it('signs in with an API key and shows the gate online', async () => {
    await page.goto(`${s.site.url}/operator`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en'); // the browser's language
    await checkAccessibility(page, 'operator sign-in, en');
    await screenshot(page, 'operator-sign-in-en');
    await page.getByLabel('API key').fill('ppkey_not-a-real-key-0123456789');
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('alert').filter({ hasText: /key/i }).waitFor();
    await checkAccessibility(page, 'operator sign-in with an error, en');
    await page.getByLabel('API key').fill(operatorKey);
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    const gate = page.locator('.gate[data-online="true"]').filter({ hasText: 'north-gate' });
    await gate.waitFor();
    // the gate's own report: nothing waiting for the cloud, both barriers closed at rest
    await gate.locator('.gate-report[data-outbox="0"]').filter({ hasText: 'offline queue: 0' }).waitFor();
    await lane('entry').locator('.barrier[data-barrier="closed"]').filter({ hasText: 'closed' }).waitFor();
    await lane('exit').locator('.barrier[data-barrier="closed"]').waitFor();
    await lane('entry').getByText('No reads yet.').waitFor();
    await checkAccessibility(page, 'operator live view, en');
  });

  it('shows reads with their crops live, and queues an exit one character off a stay, naming it', async () => {
    const entry = await s.trigger('entry');
    assert.deepEqual([entry.plate, entry.action], [PARKED, 'open']);
    const read = lane('entry').locator('.read').filter({ hasText: PARKED });
    await read.waitFor(); // pushed, not reloaded
    await loaded(read.locator('img.crop'));
    assert.match(await read.innerText(), /\d+(\.\d)?%/);
    // the cloud said open, and the gate reports the barrier it confirmed open
    await lane('entry').locator('.last-decision').filter({ hasText: 'opened' }).waitFor();
    await lane('entry').locator('.barrier[data-barrier="open"]').filter({ hasText: 'open' }).waitFor();

    const exit = await s.trigger('exit');
    assert.deepEqual([exit.plate, exit.action, exit.reason], [MISREAD, 'hold', 'review']);
    await loaded(review(MISREAD).locator('img.crop'));
    await lane('exit').locator('.last-decision').filter({ hasText: 'held' }).waitFor();
    assert.match(await lane('exit').locator('.barrier').innerText(), /closed/);
    await page.locator('.gate-report[data-outbox="0"]').waitFor();
    assert.match(await review(MISREAD).innerText(), /near/);
    assert.match(await review(MISREAD).innerText(), new RegExp(PARKED));
    // times of day are the car park's, marked with its offset for this reader in UTC
    assert.match(await read.innerText(), /\d\d:\d\d:\d\d UTC\+8/);
    await checkAccessibility(page, 'operator live view with a review item, en');
    await screenshot(page, 'operator-review-desktop');
    await page.setViewportSize(PHONE);
    await checkAccessibility(page, 'operator live view on a phone, en');
    await screenshot(page, 'operator-review-phone');
    await page.setViewportSize(DESKTOP);
  });

  it('resolves a review item by matching and charging; the dashboard updates without a reload', async () => {
    // a mark on the window that a reload would wipe
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    const item = review(MISREAD);
    const select = item.getByLabel('Stay this car belongs to');
    const option = select.locator('option').filter({ hasText: PARKED });
    await select.selectOption(await option.getAttribute('value'));
    // keyboard: focus the button and press Enter
    await item.getByRole('button', { name: 'Match and charge' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#notice').filter({ hasText: 'charged' }).waitFor();
    await item.waitFor({ state: 'detached' });
    await page.locator('#no-reviews').waitFor();
    await page.locator('#today tbody tr').first().waitFor();
    assert.match(await page.locator('#today').innerText(), /5\.00/);
    assert.match(await page.locator('.lot').innerText(), /Today: 1 settlement/);
    await page.locator('#cosigners').filter({ hasText: 'partner-bank' }).waitFor();
    await page.locator('#checkpoint-size').filter({ hasText: '1 records' }).waitFor();
    assert.equal(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true);
    await checkAccessibility(page, 'operator live view after a settlement, en');
    await screenshot(page, 'operator-resolved-desktop');
    await screenshot(page, 'operator-live-en');
  });

  it('switches to Simplified Chinese in place, keeping what was typed, and back', async () => {
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    // every tab's module loaded, so each one's catalogue is checked too
    for (const tab of ['manage', 'charts', 'find', 'export', 'live']) {
      await page.locator(`#tab-${tab}`).click();
      await page.locator(`#panel-${tab}:not([hidden])`).waitFor();
    }
    assert.deepEqual(await missingMessages(page), []);

    // the switcher is in the keyboard's path, just before the sign-out button
    await page.locator('#sign-out').focus();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'language');
    await switchLanguage(page, 'zh-CN');
    await page.getByRole('tab', { name: '实时' }).waitFor();
    await page.locator('#reviews-h').filter({ hasText: '待审核' }).waitFor();
    await page.locator('#no-reviews').filter({ hasText: '没有待审核的记录。' }).waitFor();
    // the last notice too, made again in Chinese
    await page
      .locator('#notice')
      .filter({ hasText: `${MISREAD}：已扣费，¥5.00。` })
      .waitFor();
    assert.match(await page.locator('.lot').innerText(), /今日：1 笔结算，合计 ¥5\.00/);
    assert.match(await page.locator('#today').innerText(), /¥5\.00/);
    assert.match(await lane('entry').locator('.read').first().innerText(), /放行 · 入场/);
    assert.equal(await page.title(), 'platepay — 车场运营控制台');
    assert.equal(await page.getByRole('button', { name: '退出登录' }).count(), 1);
    assert.equal(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true);
    await checkAccessibility(page, 'operator live view, zh-CN');
    await screenshot(page, 'operator-live-zh-CN');

    // signed out, the sign-in is in Chinese too; a key half typed survives a switch of language
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByLabel('API 密钥').fill(operatorKey.slice(0, 10));
    await switchLanguage(page, 'en');
    assert.equal(await page.getByLabel('API key').inputValue(), operatorKey.slice(0, 10));
    await switchLanguage(page, 'zh-CN');
    assert.equal(await page.getByLabel('API 密钥').inputValue(), operatorKey.slice(0, 10));
    await checkAccessibility(page, 'operator sign-in, zh-CN');
    // the API's refusal, in Chinese
    await page.getByLabel('API 密钥').press('Enter');
    await page.getByRole('alert').filter({ hasText: '密钥或登录状态无效' }).waitFor();
    await checkAccessibility(page, 'operator sign-in with an error, zh-CN');
    await screenshot(page, 'operator-sign-in-zh-CN');
    await page.getByLabel('API 密钥').fill(operatorKey);
    await page.getByRole('button', { name: '打开控制台' }).click();
    await page.locator('#live[data-state="live"]').filter({ hasText: '实时' }).waitFor();
    await page.locator('#no-reviews').waitFor();

    // and back: the choice is remembered for the next visit
    await switchLanguage(page, 'en');
    assert.equal(await page.evaluate("localStorage.getItem('platepay.language')"), 'en');
    await page.getByRole('tab', { name: 'Live' }).waitFor();
    await page.locator('#no-reviews').filter({ hasText: 'Nothing to review.' }).waitFor();
  });

  it('drops a review item another operator resolved, by itself', async () => {
    await s.site.api('POST', '/v1/events', {
      eventId: 'desk-manual-1',
      laneId: s.lanes.exit,
      plate: '皖E99999',
      confidence: 0.97,
      at: Date.now(),
    });
    const item = review('皖E99999');
    await item.waitFor(); // polled by the server, pushed to the page
    const reviews = await s.site.api<{ reviews: Array<{ id: string; plate: string }> }>(
      'GET',
      '/v1/reviews?status=open',
    );
    const id = reviews.reviews.find((r) => r.plate === '皖E99999')!.id;
    await s.site.api('POST', `/v1/reviews/${id}/resolve`, { action: 'dismiss' }, operatorKey);
    await item.waitFor({ state: 'detached' });
    await page.setViewportSize(PHONE);
    await screenshot(page, 'operator-dashboard-phone');
  });
});
