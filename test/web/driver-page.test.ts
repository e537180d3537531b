/**
 * The driver's page in a real browser (Debian's Chromium through
 * playwright-core), on a phone-sized screen: a driver signs up, is told
 * what is wrong with a bad plate, links a plate (and unlinks another), a
 * car with that plate enters and leaves through a real gate unit (rendered
 * scenes, real recognition), the page shows the stay with its running fee
 * and then the receipt, checked in the browser and marked verified. A
 * receipt tampered on the way (its record, or its checkpoint's
 * cosignature) shows as not verified. Signing out ends the token at the
 * cloud too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Site } from './web-harness.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, skipBrowser, startSite } from './web-harness.js';

const PLATE = '皖A12345';

describe('driver page', { skip: skipBrowser, timeout: 300_000 }, () => {
  let s: Site;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    s = await startSite({ entry: [PLATE], exit: [PLATE] }, 7);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('signs a driver up and links a plate, with clear errors for a bad one', async () => {
    await page.goto(`${s.site.url}/driver`);
    await screenshot(page, 'driver-sign-in-phone');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Mei Lin');
    await page.getByLabel('Email').fill('mei@example.com');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor();
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Signed in as Mei Lin').waitFor();

    // a card from the payment provider's page (the built-in test provider's token): exits are charged on it
    await page.getByLabel('Card token from the payment page').fill('test_card_nope');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.locator('#card-form ~ .message.error').waitFor();
    await page.getByLabel('Card token from the payment page').fill('test_card_ok');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByText('test card ending 4242 saved').waitFor();
    assert.equal(await page.locator('.account .payment-method').innerText(), 'test card ending 4242');

    // the API's validation, in the page's words
    await page.getByLabel('Plate number').fill('HELLO!!');
    await page.getByRole('button', { name: 'Link plate' }).click();
    const error = page.locator('#link-form ~ .message.error');
    await error.waitFor();
    assert.match(await error.innerText(), /plate/i);

    await page.getByLabel('Plate number').fill('皖B67890');
    await page.getByRole('button', { name: 'Link plate' }).click();
    await page.locator('.plate-row[data-plate="皖B67890"]').waitFor();
    await page.getByRole('button', { name: 'Unlink 皖B67890' }).click();
    await page.locator('.plate-row[data-plate="皖B67890"]').waitFor({ state: 'detached' });

    // keyboard only: type the plate and press Enter
    await page.getByLabel('Plate number').fill(` ${PLATE.toLowerCase()} `);
    await page.getByLabel('Plate number').press('Enter');
    await page.locator(`.plate-row[data-plate="${PLATE}"]`).waitFor();
    await page.getByText('Not parked anywhere.').waitFor();
    await screenshot(page, 'driver-signed-in-phone');
  });

  it('shows the stay with its running fee, then the receipt verified in the browser', async () => {
    const entry = await s.trigger('entry');
    assert.deepEqual([entry.plate, entry.action, entry.reason], [PLATE, 'open', 'entry']);
    const stay = page.locator('.stay');
    await stay.waitFor(); // the page refreshes by itself
    assert.match(await stay.innerText(), new RegExp(`${PLATE}[\\s\\S]*Riverside car park`));
    assert.match(await stay.locator('.running-fee').innerText(), /5(\.00)?/);
    await screenshot(page, 'driver-parked-phone');

    const exit = await s.trigger('exit');
    assert.deepEqual([exit.plate, exit.action, exit.reason, exit.fee], [PLATE, 'open', 'charged', 500]);
    const receipt = page.locator('.receipt[data-verification="verified"]');
    await receipt.waitFor({ timeout: 30_000 });
    assert.match(await receipt.innerText(), /verified/);
    await page.getByText('Not parked anywhere.').waitFor();
    await receipt.locator('summary').click();
    assert.match(await receipt.innerText(), /Cosigned by\s+partner-bank/);
    assert.match(await page.locator('.account .balance').innerText(), /^\D*0\.00$/); // charged on the card
    await screenshot(page, 'driver-receipt-phone');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'driver-receipt-desktop');
    await page.setViewportSize(PHONE);
  });

  it('marks a tampered receipt as not verified', async () => {
    const tamper = async (change: (r: Record<string, unknown>) => void) => {
      await page.unroute('**/v1/me/receipts');
      await page.route('**/v1/me/receipts', async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { receipts: Array<Record<string, unknown>> };
        for (const r of body.receipts) change(r);
        await route.fulfill({ response, json: body });
      });
      await page.reload();
      return page.locator('.receipt[data-verification="failed"]');
    };

    // the record (and the settlement shown) say 1 yuan instead of 5: the leaf is not in the signed tree
    const cheaper = await tamper((r) => {
      const record = JSON.parse(r.record as string) as Record<string, unknown>;
      record.amount = 100;
      r.record = JSON.stringify(record);
      (r.settlement as Record<string, unknown>).amount = 100;
    });
    await cheaper.waitFor();
    assert.match(await cheaper.innerText(), /not verified/);
    await cheaper.locator('summary').click();
    assert.match(await cheaper.locator('.why').innerText(), /inclusion proof fails/);
    assert.equal(await page.locator('.receipt[data-verification="verified"]').count(), 0);
    await screenshot(page, 'driver-receipt-tampered-phone');

    // the witness's cosignature dropped: below the quorum
    const uncosigned = await tamper((r) => {
      r.checkpoint = (r.checkpoint as string)
        .split('\n')
        .filter((line) => !line.startsWith('— partner-bank '))
        .join('\n');
    });
    await uncosigned.waitFor();
    await uncosigned.locator('summary').click();
    assert.match(await uncosigned.locator('.why').innerText(), /cosigned by 0 of the 1/);

    // and the real one still verifies
    await page.unroute('**/v1/me/receipts');
    await page.reload();
    await page.locator('.receipt[data-verification="verified"]').waitFor();
  });

  it('signs out: the page forgets the token and the cloud refuses it from then on', async () => {
    const token = await page.evaluate<string | null>("localStorage.getItem('platepay.driverToken')");
    assert.ok(token);
    const me = () => fetch(`${s.site.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await me()).status, 200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#sign-in-form').waitFor();
    assert.equal(await page.evaluate<string | null>("localStorage.getItem('platepay.driverToken')"), null);
    // the page tells the cloud without waiting for it
    for (let i = 0; (await me()).status !== 401; i++) {
      assert.ok(i < 100, 'the signed-out token is still accepted');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
