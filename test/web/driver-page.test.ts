/**
 * The driver's page in a real browser (Debian's Chromium through
 * playwright-core), on a phone-sized screen: a driver signs up, is told
 * what is wrong with a bad plate, links a plate (and unlinks another), a
 * car with that plate enters and leaves through a real gate unit (rendered
 * scenes, real recognition), the page shows the stay with its running fee
 * and then the receipt, checked in the browser and marked verified. A
 * receipt tampered on the way (its record, or its checkpoint's
 * cosignature) shows as not verified. Signing out ends the token at the
 * cloud too. The page switches to Simplified Chinese in place (what the
 * driver typed kept), times are the car park's, and both languages pass the
 * accessibility check, with screenshots of each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { checkAccessibility } from './accessibility.js';
import { missingMessages, switchLanguage } from './page-language.js';
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
    // a driver in the car park's own time zone (UTC+8): the page's times carry no offset for them
    context = await browser.newContext({
      viewport: PHONE,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      timezoneId: 'Asia/Shanghai',
      locale: 'en-US',
    });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('signs a driver up and links a plate, with clear errors for a bad one', async () => {
    await page.goto(`${s.site.url}/driver`);
    await checkAccessibility(page, 'driver sign-in, en');
    await screenshot(page, 'driver-sign-in-phone');
    await screenshot(page, 'driver-sign-in-en');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Mei Lin');
    await page.getByLabel('Email').fill('mei@example.com');
    // in Chinese and back, in place: what was typed stays
    await switchLanguage(page, 'zh-CN');
    assert.equal(await page.getByLabel('姓名').inputValue(), 'Mei Lin');
    assert.equal(await page.getByLabel('电子邮箱').inputValue(), 'mei@example.com');
    assert.equal(await page.title(), 'platepay — 我的停车');
    await checkAccessibility(page, 'driver sign-up, zh-CN');
    await screenshot(page, 'driver-sign-in-zh-CN');
    await switchLanguage(page, 'en');
    assert.equal(await page.getByLabel('Your name').inputValue(), 'Mei Lin');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor();
    await checkAccessibility(page, 'driver sign-up with an error, en');
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
    await checkAccessibility(page, 'driver home, en');
    await screenshot(page, 'driver-signed-in-phone');
  });

  it('shows the stay with its running fee, then the receipt verified in the browser', async () => {
    const entry = await s.trigger('entry');
    assert.deepEqual([entry.plate, entry.action, entry.reason], [PLATE, 'open', 'entry']);
    const stay = page.locator('.stay');
    await stay.waitFor(); // the page refreshes by itself
    assert.match(await stay.innerText(), new RegExp(`${PLATE}[\\s\\S]*Riverside car park`));
    assert.match(await stay.locator('.running-fee').innerText(), /5(\.00)?/);
    // the entry time in the car park's zone, which is the reader's: no offset shown
    assert.doesNotMatch(await stay.innerText(), /UTC/);
    await checkAccessibility(page, 'driver parked, en');
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
    await checkAccessibility(page, 'driver receipt, en');
    await screenshot(page, 'driver-receipt-phone');
    await screenshot(page, 'driver-en');
    await page.setViewportSize(DESKTOP);
    await screenshot(page, 'driver-receipt-desktop');
    await page.setViewportSize(PHONE);
  });

  it('switches to Simplified Chinese in place: words, money and what the driver is typing', async () => {
    await page.getByLabel('Plate number').fill('皖A9');
    await switchLanguage(page, 'zh-CN');
    await page.locator('#now-h').filter({ hasText: '正在停车' }).waitFor();
    await page.getByText('当前没有停车。').waitFor();
    assert.equal(await page.getByLabel('车牌号码').inputValue(), '皖A9');
    await page.getByRole('button', { name: '绑定车牌' }).waitFor();
    const receipt = page.locator('.receipt[data-verification="verified"]');
    assert.match(await receipt.innerText(), /✓ 已验证/);
    assert.match(await receipt.locator('.amount').innerText(), /^¥5\.00$/);
    assert.match(await receipt.innerText(), /银行卡扣款/);
    await receipt.locator('summary').click();
    assert.match(await receipt.innerText(), /联署方\s+partner-bank/);
    assert.match(await page.locator('.greeting').innerText(), /^已登录：Mei Lin/);
    // every module the page loaded (receipt checks included) has both languages' words
    assert.deepEqual(await missingMessages(page), []);
    await checkAccessibility(page, 'driver receipt, zh-CN');
    await screenshot(page, 'driver-zh-CN');
    await page.getByLabel('车牌号码').fill('');
    await switchLanguage(page, 'en');
    await page.locator('#now-h').filter({ hasText: 'Parking now' }).waitFor();
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
    await checkAccessibility(page, 'driver tampered receipt, en');
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
