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
 * disappears from the page by itself too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
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
    page = await browser.newPage({ viewport: DESKTOP });
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
    await page.getByLabel('API key').fill('ppkey_not-a-real-key-0123456789');
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('alert').filter({ hasText: /key/i }).waitFor();
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
    await screenshot(page, 'operator-review-desktop');
    await page.setViewportSize(PHONE);
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
    await screenshot(page, 'operator-resolved-desktop');
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
