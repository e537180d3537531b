/**
 * The console's Manage tab in a real browser against a real cloud and a
 * connected gate unit: an admin creates a car park and adds a lane,
 * registers a gate by its public key (a bad key is refused at its field,
 * nothing stored) and revokes it after a confirmation, edits the tariff and
 * sees the fee preview change (a bad band is refused at its field, nothing
 * stored), makes an API key whose secret is shown once and revokes it,
 * gives a disputed plate to its claimant, sees an unpaid stay and refunds
 * part of a settlement with a reason. An auditor's key shows the same tab
 * with no change controls, and the API refuses its changes. Each state
 * passes the accessibility check; screenshots in English and Chinese.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkAccessibility } from './accessibility.js';
import type { Site } from './web-harness.js';
import { DESKTOP, launchBrowser, screenshot, skipBrowser, startSite } from './web-harness.js';

const HOUR = 3_600_000;
const PAYER = '皖A11111';
const UNLINKED = '皖B22222';
const DISPUTED = '皖C33333';

const newPublicKey = () =>
  generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');

interface Lot {
  id: string;
  name: string;
  tariff: Record<string, unknown> & { unitPrice: number; bands: unknown[] };
  lanes: Array<{ name: string; direction: string }>;
  gates: Array<{ id: string; name: string; revokedAt: number | null }>;
}

describe('operator console: Manage tab', { skip: skipBrowser, timeout: 300_000 }, () => {
  let s: Site;
  let browser: Browser;
  let page: Page;
  let auditorKey: string;
  let settlementId: string;
  let payer: { token: string; accountId: string };
  let disputeId: string;

  const lots = async () => (await s.site.api<{ lots: Lot[] }>('GET', '/v1/lots')).lots;
  const balance = async () =>
    (await s.site.api<{ accounts: Array<{ balance: number }> }>('GET', '/v1/me/accounts', undefined, payer.token))
      .accounts[0]!.balance;

  async function signIn(p: Page, secret: string) {
    await p.goto(`${s.site.url}/operator#manage`);
    await p.getByLabel('API key').fill(secret);
    await p.getByLabel('API key').press('Enter');
    await p.locator('#manage-role').waitFor();
  }

  before(async () => {
    s = await startSite({ entry: [], exit: [] }, 21);
    auditorKey = (await s.site.api<{ secret: string }>('POST', '/v1/keys', { role: 'auditor', label: 'audit desk' }))
      .secret;
    // a stay charged on a wallet (to refund), an unpaid one, and a disputed plate
    payer = await s.site.addDriver('payer@example.com', 10_000, [PAYER]);
    const now = Date.now();
    const event = (id: string, laneId: string, plate: string, at: number) =>
      s.site.api<{ settlementId: string | null }>('POST', '/v1/events', {
        eventId: id,
        laneId,
        plate,
        confidence: 0.99,
        at,
      });
    await event('m-in-1', s.lanes.entry, PAYER, now - 2 * HOUR);
    settlementId = (await event('m-out-1', s.lanes.exit, PAYER, now)).settlementId!;
    await event('m-in-2', s.lanes.entry, UNLINKED, now - 2 * HOUR);
    await event('m-out-2', s.lanes.exit, UNLINKED, now);
    await s.site.addDriver('holder@example.com', 0, [DISPUTED]);
    const claimant = await s.site.addDriver('claimant@example.com', 0, []);
    disputeId = (
      await s.site.api<{ id: string }>(
        'POST',
        '/v1/me/disputes',
        { plate: DISPUTED, accountId: claimant.accountId, reason: 'I bought this car last week' },
        claimant.token,
      )
    ).id;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: DESKTOP });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  it('shows an admin the car park with its gate online, last contact and offline queue', async () => {
    await signIn(page, s.site.adminKey);
    assert.equal(await page.locator('#manage-role').getAttribute('data-role'), 'admin');
    const gate = page.locator('.managed-gate').filter({ hasText: 'north-gate' });
    await gate.filter({ hasText: 'online' }).waitFor();
    await gate.locator('.gate-queue[data-outbox="0"]').filter({ hasText: 'offline queue: 0' }).waitFor();
    assert.match(await gate.innerText(), /last contact \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\)/);
    await page.locator('#manage-pending tr').filter({ hasText: UNLINKED }).waitFor();
    assert.match(await page.locator('#manage-pending').innerText(), /10\.00/);
    await checkAccessibility(page, 'manage tab (admin)');
    await screenshot(page, 'operator-manage-en');
  });

  it('creates a car park and adds an exit lane to it', async () => {
    await page.locator('.new-lot summary').click();
    await page.getByLabel('Name', { exact: true }).fill('Airport P2');
    await page.getByLabel('Price per hour').fill('8');
    await page.getByRole('button', { name: 'Create car park' }).click();
    await page.locator('#manage-notice').filter({ hasText: 'Airport P2' }).waitFor();
    const created = (await lots()).find((l) => l.name === 'Airport P2')!;
    assert.equal(created.tariff.unitPrice, 800);
    assert.equal(await page.locator('#manage-lot').inputValue(), created.id);
    await page.getByLabel('Lane name').fill('East exit');
    await page.getByLabel('Direction').selectOption('exit');
    await page.getByRole('button', { name: 'Add lane' }).click();
    await page.locator('.managed-lane').filter({ hasText: 'East exit' }).filter({ hasText: 'exit' }).waitFor();
    assert.deepEqual(
      (await lots()).find((l) => l.id === created.id)!.lanes.map((l) => [l.name, l.direction]),
      [['East exit', 'exit']],
    );
    await checkAccessibility(page, 'manage tab after a new lot and lane');
    // the live view shows them too, without a reload
    await page.getByRole('tab', { name: 'Live' }).click();
    await page
      .locator('.lot')
      .filter({ hasText: 'Airport P2' })
      .locator('.lane')
      .filter({ hasText: 'East exit' })
      .waitFor();
    // coming back, the tab reads everything again: wait for that before typing into it
    const loads = Number(await page.locator('#panel-manage').getAttribute('data-loads'));
    await page.getByRole('tab', { name: 'Manage' }).click();
    await page.locator(`#panel-manage[data-loads="${loads + 1}"]`).waitFor();
  });

  it('refuses a bad gate key at its field, registers a gate by its public key and revokes it after asking', async () => {
    const lotId = await page.locator('#manage-lot').inputValue();
    await page.getByLabel('Gate name').fill('east-gate');
    await page.getByLabel('Public key').fill('x'.repeat(44));
    await page.getByRole('button', { name: 'Register gate' }).click();
    const keyError = page.locator('#new-gate-key-error');
    await keyError.filter({ hasText: 'publicKey' }).waitFor();
    assert.equal(await page.getByLabel('Public key').getAttribute('aria-invalid'), 'true');
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id,
      ),
      'new-gate-key',
    );
    assert.equal((await lots()).find((l) => l.id === lotId)!.gates.length, 0);
    await checkAccessibility(page, 'manage tab with a field error');

    await page.getByLabel('Public key').fill(newPublicKey());
    await page.getByRole('button', { name: 'Register gate' }).click();
    const gate = page.locator('.managed-gate').filter({ hasText: 'east-gate' });
    await gate.filter({ hasText: 'offline' }).waitFor();
    const gateId = (await lots()).find((l) => l.id === lotId)!.gates[0]!.id;
    await gate.getByRole('button', { name: 'Revoke east-gate' }).click();
    await gate.getByText('cut off at once').waitFor();
    await checkAccessibility(page, 'manage tab asking to revoke a gate');
    await gate.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await lots()).find((l) => l.id === lotId)!.gates[0]!.revokedAt, null);
    await gate.getByRole('button', { name: 'Revoke east-gate' }).click();
    await gate.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.locator(`.managed-gate[data-gate="${gateId}"][data-revoked="true"]`).waitFor();
    assert.notEqual((await lots()).find((l) => l.id === lotId)!.gates[0]!.revokedAt, null);
  });

  it('previews the fee as the tariff is edited, refuses a bad band at its field, and saves', async () => {
    await page.locator('#manage-lot').selectOption(s.lotId);
    await page.locator('#manage-tariff-h').filter({ hasText: 'Riverside' }).waitFor();
    const preview = page.locator('#tariff-preview');
    await page.getByLabel(/^Entry/).fill('2026-03-02T08:00');
    await page.getByLabel(/^Exit/).fill('2026-03-02T10:30');
    await page.locator('#tariff-preview[data-fee="1500"]').waitFor(); // 3 started hours at 5.00
    await page.getByLabel('Price per unit', { exact: true }).fill('6');
    await page.locator('#tariff-preview[data-fee="1800"]').waitFor();
    assert.match(await preview.innerText(), /18\.00/);

    const before = (await lots()).find((l) => l.id === s.lotId)!.tariff;
    await page.getByRole('button', { name: 'Add band' }).click();
    await page.getByLabel('Band 1 from (HH:MM)').fill('25:00');
    await page.locator('#band-0-from-error').filter({ hasText: 'tariff.bands[0].from' }).waitFor();
    await page.getByRole('button', { name: 'Save tariff' }).click();
    await page.locator('#band-0-from-error').filter({ hasText: 'tariff.bands[0].from' }).waitFor();
    assert.equal(await page.getByLabel('Band 1 from (HH:MM)').getAttribute('aria-invalid'), 'true');
    assert.deepEqual((await lots()).find((l) => l.id === s.lotId)!.tariff, before);
    await checkAccessibility(page, 'manage tab with a tariff error');

    await page.getByLabel('Band 1 from (HH:MM)').fill('09:00');
    await page.getByLabel('Band 1 to (HH:MM)').fill('10:00');
    await page.getByLabel('Band 1 price per unit').fill('1');
    await page.locator('#tariff-preview[data-fee="1300"]').waitFor(); // 08:00 6.00, 09:00 1.00, 10:00 6.00
    await page.getByRole('button', { name: 'Save tariff' }).click();
    await page.locator('#manage-notice').filter({ hasText: 'Tariff of “Riverside car park” saved' }).waitFor();
    const saved = (await lots()).find((l) => l.id === s.lotId)!.tariff;
    assert.equal(saved.unitPrice, 600);
    assert.deepEqual(saved.bands, [{ from: '09:00', to: '10:00', unitPrice: 100 }]);
  });

  it('makes an API key whose secret is shown once, and revokes it', async () => {
    await page.getByLabel('Label', { exact: true }).fill('night desk');
    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secretInput = page.getByLabel('Secret', { exact: true });
    await secretInput.waitFor();
    const secret = await secretInput.inputValue();
    assert.match(secret, /^ppkey_/);
    const me = await s.site.api<{ role: string; label: string }>('GET', '/v1/keys/me', undefined, secret);
    assert.deepEqual([me.role, me.label], ['operator', 'night desk']);
    await checkAccessibility(page, 'manage tab showing a new secret');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.site.url });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.locator('#new-key-copied').filter({ hasText: 'Copied.' }).waitFor();
    const copied = await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    assert.equal(copied, secret);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await secretInput.waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');

    const row = page.locator('.api-key').filter({ hasText: 'night desk' });
    await row.getByRole('button', { name: 'Revoke night desk' }).click();
    await row.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.locator('.api-key[data-revoked="true"]').filter({ hasText: 'night desk' }).waitFor();
    await assert.rejects(s.site.api('GET', '/v1/keys/me', undefined, secret), /401/);
  });

  it('gives a disputed plate to its claimant', async () => {
    const item = page.locator(`.dispute[data-dispute="${disputeId}"]`);
    await item.getByText('I bought this car last week').waitFor();
    await item.getByRole('button', { name: 'Give plate to claimant' }).click();
    await item.getByRole('button', { name: 'Yes, give it' }).click();
    await item.waitFor({ state: 'detached' });
    await page.locator('#manage-no-disputes').waitFor();
    const disputes = await s.site.api<{ disputes: Array<{ id: string; status: string }> }>('GET', '/v1/disputes');
    assert.equal(disputes.disputes.find((d) => d.id === disputeId)!.status, 'transferred');
  });

  it('refunds part of a settlement with the reason, and no more than it charged', async () => {
    const before = await balance();
    const row = page.locator(`#manage-refunds tr[data-settlement="${settlementId}"]`);
    await row.getByRole('button', { name: /Refund/ }).click();
    await page.locator('#refund-charged').filter({ hasText: '10.00' }).waitFor();
    await page.getByLabel(/^Amount to refund/).fill('12');
    await page.getByLabel('Reason').fill('barrier did not open');
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.locator('#refund-amount-error').filter({ hasText: 'at most 1000' }).waitFor();
    assert.equal(await balance(), before);
    await page.getByLabel(/^Amount to refund/).fill('2.50');
    await page.getByRole('button', { name: 'Refund', exact: true }).click();
    await page.locator('#manage-notice').filter({ hasText: 'Refunded' }).waitFor();
    await page.locator('#refund-refunded').filter({ hasText: '2.50' }).waitFor();
    await page.locator('.refunds').getByText('barrier did not open').waitFor();
    assert.equal(await balance(), before + 250);
    const state = await s.site.api<{ refunded: number; refunds: Array<{ reason: string }> }>(
      'GET',
      `/v1/settlements/${settlementId}/refunds`,
    );
    assert.equal(state.refunded, 250);
    assert.deepEqual(
      state.refunds.map((r) => r.reason),
      ['barrier did not open'],
    );
    await checkAccessibility(page, 'manage tab after a refund');
  });

  it('shows an auditor everything with no change controls, and the API refuses its changes', async () => {
    const auditor = await browser.newPage({ viewport: DESKTOP });
    try {
      await signIn(auditor, auditorKey);
      assert.equal(await auditor.locator('#manage-role').getAttribute('data-role'), 'auditor');
      await auditor.locator('.managed-gate').filter({ hasText: 'north-gate' }).waitFor();
      await auditor.locator('#tariff-preview[data-fee]').waitFor();
      await auditor.locator('#manage-pending tr').filter({ hasText: UNLINKED }).waitFor();
      const controls = [
        '#new-lot-form',
        '#new-lane-form',
        '#new-gate-form',
        '#tariff-save',
        '#band-add',
        '#refund-form',
        '#new-key-form',
        '[id^="revoke-"]',
        '[id^="transfer-"]',
      ];
      for (const c of controls) assert.equal(await auditor.locator(c).count(), 0, `${c} is not shown to an auditor`);
      assert.equal(await auditor.locator('#tariff-unitPrice').getAttribute('readonly'), '');
      await checkAccessibility(auditor, 'manage tab (auditor)');
      const refused = await fetch(`${s.site.url}/v1/lots/${s.lotId}/tariff`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${auditorKey}`, 'content-type': 'application/json' },
        body: JSON.stringify((await lots())[0]!.tariff),
      });
      assert.equal(refused.status, 403);
    } finally {
      await auditor.close();
    }
  });

  it('reads in Simplified Chinese', async () => {
    await page.evaluate(() =>
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'platepay.language',
        'zh-CN',
      ),
    );
    await page.reload();
    await page.locator('#manage-role').waitFor();
    await page.locator('#manage-lots-h').filter({ hasText: '车场' }).waitFor();
    await page.locator('#manage-tariff-h').filter({ hasText: '收费标准' }).waitFor();
    await page.locator('#tariff-preview[data-fee]').waitFor();
    const text = await page.locator('#panel-manage').innerText();
    assert.doesNotMatch(text, /manage\.[a-z]/, 'no message key shows instead of its text');
    await checkAccessibility(page, 'manage tab in Chinese');
    await screenshot(page, 'operator-manage-zh-CN');
  });
});
