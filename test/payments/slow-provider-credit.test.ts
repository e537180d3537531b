/**
 * `whenProviderSlow: "credit"` (cloud/settlement/card-charges.ts), in-process
 * cloud on the Stripe emulator: when the provider does not answer within the
 * lane's budget, a driver in good standing (a verified card and a year on
 * the books) is let out on credit (`charged_on_credit`) and the charge
 * settles when the provider answers; the open charge counts against the
 * driver's credit meanwhile; a new driver with no standing is held.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, ManualClock, T0, TestCloud, eventId, setUpLot } from '../cloud/cloud-harness.js';
import { until } from '../cloud/cloud-instances.js';
import { StripeEmulator } from './stripe-emulator.js';

const YEAR = 366 * 86_400_000;

describe('a slow provider with whenProviderSlow: credit', { timeout: 120_000 }, () => {
  const emulator = new StripeEmulator();
  let t: TestCloud;
  let lot: { lotId: string; entry: string; exit: string };

  before(async () => {
    const baseUrl = await emulator.start();
    t = await TestCloud.start(new ManualClock(T0), {
      exitChargeBudgetMs: 200,
      whenProviderSlow: 'credit',
      payments: {
        provider: 'stripe',
        apiKey: emulator.apiKey,
        webhookSecrets: [emulator.webhookSecret],
        baseUrl,
        timeoutMs: 5000,
      },
    });
    emulator.holdWebhooks(); // the API answer settles the charges here
    lot = await setUpLot(t, 'Credit P1');
  });
  after(async () => {
    await t.stop();
    await emulator.close();
  });

  /** a driver with pm_card_visa saved and `plate` linked; the clock then moves on by `age` ms */
  const cardDriver = async (email: string, plate: string, age: number) => {
    const password = 'correct horse battery';
    await t.call('POST', '/v1/drivers', { body: { email, password, name: 'D' } });
    let token = (await t.call('POST', '/v1/auth/token', { body: { email, password } })).body.token as string;
    const accountId = (await t.call('GET', '/v1/me', { token })).body.accounts[0].id as string;
    const saved = await t.call('PUT', `/v1/me/accounts/${accountId}/payment-method`, {
      token,
      body: { paymentMethod: 'pm_card_visa' },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await t.call('POST', '/v1/me/links', { token, body: { plate, accountId } });
    t.clock.advance(age);
    token = (await t.call('POST', '/v1/auth/token', { body: { email, password } })).body.token as string;
    return token;
  };
  const stay = async (plate: string) => {
    await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.entry, plate, confidence: 0.99, at: t.clock.now() },
    });
    t.clock.advance(90 * 60_000);
    emulator.delayNext(1, 1500);
    return t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.exit, plate, confidence: 0.99, at: t.clock.now() },
    });
  };

  it('lets a driver in good standing out on credit, then settles the charge once', async () => {
    const token = await cardDriver('standing@example.com', 'CRE1234', YEAR);
    const standing = (await t.call('GET', '/v1/me/credit', { token })).body;
    assert.equal(standing.goodStanding, true, JSON.stringify(standing));
    assert.ok(standing.creditLimit > 0);
    const exit = await stay('CRE1234');
    assert.equal(exit.body.action, 'open', JSON.stringify(exit.body));
    assert.equal(exit.body.reason, 'charged_on_credit');
    const during = (await t.call('GET', '/v1/me/credit', { token })).body;
    assert.equal(during.debt, exit.body.fee, 'the open charge counts against the credit');
    const receipts = await until('the late charge settled', async () => {
      const r = await t.call('GET', '/v1/me/receipts', { token });
      return r.body.receipts.length ? r.body.receipts : null;
    });
    assert.equal(receipts.length, 1);
    assert.equal(receipts[0].settlement.method, 'card');
    assert.equal((await t.call('GET', '/v1/me/credit', { token })).body.debt, 0);
    assert.equal(emulator.totalCharges, 1);
  });

  it('holds a new driver with no standing', async () => {
    await cardDriver('newcomer@example.com', 'NEW1234', 0);
    const exit = await stay('NEW1234');
    assert.equal(exit.body.action, 'hold', JSON.stringify(exit.body));
    assert.equal(exit.body.reason, 'payment_pending');
  });
});
