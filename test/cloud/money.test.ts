/**
 * Money that is real (issue: "a driver can mint balance"), through a
 * running cloud over HTTP with the built-in test provider: each finding of
 * the attack on the old money model has a test here that failed on the old
 * code, and the provider's webhooks are checked as an attacker would send
 * them (forged, tampered, replayed, stale, out of order).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../../cloud/payments/test-gateway.js';
import { ADMIN_KEY, TestCloud, eventId, setUpLot, signUp } from './cloud-harness.js';
import { topUpAndWait } from './top-up.js';

type Driver = { token: string; accountId: string; driverId: string };

describe('money enters only through the payment provider', { timeout: 120_000 }, () => {
  let t: TestCloud;
  let lot: { lotId: string; entry: string; exit: string };

  before(async () => {
    // stays of hours pass on the test clock: tokens must outlive them
    t = await TestCloud.start(undefined, { tokenTtlMinutes: 60 * 24 * 90 });
    lot = await setUpLot(t, 'Money P1');
  });
  after(async () => {
    await t.stop();
  });

  const accounts = async (d: Driver) =>
    (await t.call('GET', '/v1/me/accounts', { token: d.token })).body.accounts as Array<{
      id: string;
      balance: number;
      available: number;
      pendingTopUps: Array<{ id: string; amount: number; status: string }>;
    }>;
  const balanceOf = async (d: Driver, accountId = d.accountId) =>
    (await accounts(d)).find((a) => a.id === accountId)!.balance;
  const gateway = () => t.cloud.gateway as TestGateway;

  /** a webhook as the provider would sign it (Stripe-Signature), at `at` ms */
  const webhook = (event: unknown, at = t.clock.now(), secret = gateway().webhookSecret) => {
    const body = JSON.stringify(event);
    const ts = Math.floor(at / 1000);
    const v1 = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
    return { raw: body, signature: `t=${ts},v1=${v1}` };
  };
  const deliver = async (w: { raw: string; signature: string }) => {
    const res = await fetch(`${t.url}/v1/payments/webhooks/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': w.signature },
      body: w.raw,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const parkAndLeave = async (plate: string, minutes: number) => {
    const at = t.clock.now();
    const entry = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.entry, plate, confidence: 0.99, at },
    });
    assert.equal(entry.body.action, 'open', JSON.stringify(entry.body));
    t.clock.advance(minutes * 60_000);
    const exit = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.exit, plate, confidence: 0.99, at: t.clock.now() },
    });
    return exit.body as { action: string; reason: string; fee: number | null; pendingPaymentId: string | null };
  };

  it('a top-up request changes no balance; it is pending until the provider confirms it', async () => {
    const d = await signUp(t, 'mint@example.com');
    // the attack: a driver asks for a hundred million and nothing stands behind it
    const r = await t.call('POST', `/v1/me/accounts/${d.accountId}/top-ups`, {
      token: d.token,
      body: { amount: 100_000_000, reference: 'x' },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.topUp.status, 'pending');
    assert.equal(r.body.account.balance, 0);
    assert.ok(r.body.clientSecret, 'the driver completes the payment at the provider');
    // every new reference is another pending top-up, never money
    for (const reference of ['y', 'z']) {
      await t.call('POST', `/v1/me/accounts/${d.accountId}/top-ups`, {
        token: d.token,
        body: { amount: 100_000_000, reference },
      });
    }
    const [wallet] = await accounts(d);
    assert.equal(wallet!.balance, 0);
    assert.equal(wallet!.available, 0);
    assert.deepEqual(
      wallet!.pendingTopUps.map((p) => [p.amount, p.status]),
      [
        [100_000_000, 'pending'],
        [100_000_000, 'pending'],
        [100_000_000, 'pending'],
      ],
    );
  });

  it("a top-up paid with the provider's card is credited by its webhook, once", async () => {
    const d = await signUp(t, 'payer@example.com');
    await topUpAndWait(t.driverCall(d.token), d.accountId, 8_500, 'card-1');
    assert.equal(await balanceOf(d), 8_500);
    // the same reference again is the same top-up: no second credit
    const again = await t.call('POST', `/v1/me/accounts/${d.accountId}/top-ups`, {
      token: d.token,
      body: { amount: 8_500, reference: 'card-1', paymentMethod: 'test_card_ok' },
    });
    assert.equal(again.status, 202);
    assert.equal(again.body.topUp.status, 'succeeded');
    assert.equal(await balanceOf(d), 8_500);
    // a declined card credits nothing
    const declined = await t.call('POST', `/v1/me/accounts/${d.accountId}/top-ups`, {
      token: d.token,
      body: { amount: 1_000, reference: 'card-2', paymentMethod: 'test_card_declined' },
    });
    assert.equal(declined.status, 402, JSON.stringify(declined.body));
    assert.equal(await balanceOf(d), 8_500);
  });

  it('forged, tampered, stale and replayed webhooks are refused and change nothing', async () => {
    const d = await signUp(t, 'webhooks@example.com');
    const r = await t.call('POST', `/v1/me/accounts/${d.accountId}/top-ups`, {
      token: d.token,
      body: { amount: 5_000, reference: 'w1' },
    });
    const topUp = r.body.topUp as { id: string; providerPaymentId: string };
    const paid = (id: string, amount = 5_000) => ({
      id,
      type: 'payment.succeeded',
      createdAt: t.clock.now(),
      payment: {
        id: topUp.providerPaymentId,
        status: 'succeeded',
        amount,
        currency: 'CNY',
        clientSecret: null,
        metadata: { top_up: topUp.id },
      },
    });
    const before = t.snapshot();
    const forged = await deliver(webhook(paid('evt_forged'), t.clock.now(), 'whsec_not_the_providers_secret'));
    assert.equal(forged.status, 400);
    assert.equal((forged.body.error as { code: string }).code, 'BAD_SIGNATURE');
    const genuine = webhook(paid('evt_tampered'));
    const tampered = await deliver({ ...genuine, raw: genuine.raw.replace('5000', '500000') });
    assert.equal(tampered.status, 400);
    const stale = await deliver(webhook(paid('evt_stale'), t.clock.now() - 10 * 60_000));
    assert.equal(stale.status, 400);
    assert.equal((stale.body.error as { code: string }).code, 'STALE_WEBHOOK');
    const unsigned = await fetch(`${t.url}/v1/payments/webhooks/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(paid('evt_unsigned')),
    });
    assert.equal(unsigned.status, 400);
    assert.equal(t.snapshot(), before, 'refused webhooks changed nothing');
    assert.equal(await balanceOf(d), 0);

    // a genuine one credits once; its replay (even signed afresh) changes nothing
    const ok = await deliver(webhook(paid('evt_paid')));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.result, 'applied');
    assert.equal(await balanceOf(d), 5_000);
    const replay = await deliver(webhook(paid('evt_paid')));
    assert.equal(replay.body.result, 'duplicate');
    // another event about the same payment, or its failure delivered late: nothing moves
    assert.equal((await deliver(webhook(paid('evt_paid_again')))).body.result, 'ignored');
    const late = await deliver(webhook({ ...paid('evt_failed_late'), type: 'payment.failed' }));
    assert.equal(late.body.result, 'ignored');
    assert.equal(await balanceOf(d), 5_000);
  });

  it('a webhook whose amount differs from the top-up is refused', async () => {
    const d = await signUp(t, 'mismatch@example.com');
    const r = await t.call('POST', `/v1/me/accounts/${d.accountId}/top-ups`, {
      token: d.token,
      body: { amount: 100, reference: 'm1' },
    });
    const res = await deliver(
      webhook({
        id: 'evt_mismatch',
        type: 'payment.succeeded',
        createdAt: t.clock.now(),
        payment: {
          id: r.body.topUp.providerPaymentId,
          status: 'succeeded',
          amount: 100_000,
          currency: 'CNY',
          clientSecret: null,
          metadata: { top_up: r.body.topUp.id },
        },
      }),
    );
    assert.equal(res.status, 409);
    assert.equal(await balanceOf(d), 0);
  });

  it('top-up references are per driver and normalised; reuse with another wallet or amount is 409', async () => {
    const d = await signUp(t, 'refs@example.com');
    const second = await t.call('POST', '/v1/me/accounts', { token: d.token, body: { currency: 'CNY', label: 'b' } });
    const topUp = (accountId: string, amount: number, reference: string) =>
      t.call('POST', `/v1/me/accounts/${accountId}/top-ups`, { token: d.token, body: { amount, reference } });
    const first = await topUp(d.accountId, 700, 'ref');
    assert.equal(first.status, 202);
    for (const same of ['ref ', 'REF', ' Ref ']) {
      const r = await topUp(d.accountId, 700, same);
      assert.equal(r.status, 202);
      assert.equal(r.body.topUp.id, first.body.topUp.id, `${JSON.stringify(same)} is the same reference`);
    }
    const otherWallet = await topUp(second.body.id, 700, 'ref');
    assert.equal(otherWallet.status, 409);
    assert.equal(otherWallet.body.error.code, 'REFERENCE_REUSED');
    const otherAmount = await topUp(d.accountId, 701, 'REF');
    assert.equal(otherAmount.status, 409);
    // another driver's "ref" is theirs
    const e = await signUp(t, 'refs2@example.com');
    const theirs = await t.call('POST', `/v1/me/accounts/${e.accountId}/top-ups`, {
      token: e.token,
      body: { amount: 700, reference: 'ref' },
    });
    assert.equal(theirs.status, 202);
    assert.notEqual(theirs.body.topUp.id, first.body.topUp.id);
  });

  it('credit does not multiply: a new driver with no money runs up no debt, whatever wallets and links', async () => {
    const d = await signUp(t, 'debtor@example.com');
    const wallets = [d.accountId];
    for (const label of ['w2', 'w3']) {
      wallets.push(
        (await t.call('POST', '/v1/me/accounts', { token: d.token, body: { currency: 'CNY', label } })).body.id,
      );
    }
    const credit = await t.call('GET', '/v1/me/credit', { token: d.token });
    assert.equal(credit.body.creditLimit, 0);
    // one plate per fresh wallet, and one plate moved from wallet to wallet
    let moved = '';
    for (const [i, wallet] of wallets.entries()) {
      const plate = `DEB123${i}`;
      const l = await t.call('POST', '/v1/me/links', { token: d.token, body: { plate, accountId: wallet } });
      assert.equal(l.status, 201, JSON.stringify(l.body));
      if (moved) await t.call('DELETE', `/v1/me/links/${moved}`, { token: d.token });
      const m = await t.call('POST', '/v1/me/links', { token: d.token, body: { plate: 'MOV1234', accountId: wallet } });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      moved = m.body.id;
      for (const p of [plate, 'MOV1234']) {
        const exit = await parkAndLeave(p, 6 * 60 + i);
        assert.equal(exit.action, 'hold', `${p} on wallet ${i}: ${JSON.stringify(exit)}`);
        assert.equal(exit.reason, 'payment_declined');
        // owed as a pending payment, not as wallet debt
        assert.ok(exit.pendingPaymentId);
        if (p === 'MOV1234') {
          // the moved plate's stay is paid by someone at the pay station so the car can come back
          const payer = await signUp(t, `payer-${i}@example.com`);
          await topUpAndWait(t.driverCall(payer.token), payer.accountId, 10_000, `p${i}`);
          const paid = await t.call('POST', `/v1/pending-payments/${exit.pendingPaymentId}/pay`, {
            token: payer.token,
            body: { accountId: payer.accountId },
          });
          assert.equal(paid.status, 200, JSON.stringify(paid.body));
          const out = await t.call('POST', '/v1/events', {
            token: ADMIN_KEY,
            body: { eventId: eventId(), laneId: lot.exit, plate: p, confidence: 0.99, at: t.clock.now() },
          });
          assert.equal(out.body.action, 'open', JSON.stringify(out.body));
        }
      }
    }
    const total = (await accounts(d)).reduce((s, a) => s + Math.min(0, a.balance), 0);
    assert.equal(total, 0, 'no wallet went below zero');
  });

  it('a plate link shows only the stays since the link was made', async () => {
    const first = await signUp(t, 'first-holder@example.com');
    await topUpAndWait(t.driverCall(first.token), first.accountId, 5_000, 'h1');
    const l = await t.call('POST', '/v1/me/links', {
      token: first.token,
      body: { plate: 'HIS1234', accountId: first.accountId },
    });
    const exit = await parkAndLeave('HIS1234', 90);
    assert.equal(exit.reason, 'charged');
    await t.call('DELETE', `/v1/me/links/${l.body.id}`, { token: first.token });
    t.clock.advance(60_000);
    const next = await signUp(t, 'next-holder@example.com');
    await t.call('POST', '/v1/me/links', { token: next.token, body: { plate: 'HIS1234', accountId: next.accountId } });
    const seen = await t.call('GET', '/v1/me/sessions', { token: next.token });
    assert.deepEqual(seen.body.sessions, [], "the earlier holder's stay is not shown");
  });

  it('exits of an account with a saved card are charged on it through the provider; a declined card holds', async () => {
    const d = await signUp(t, 'card@example.com');
    const saved = await t.call('PUT', `/v1/me/accounts/${d.accountId}/payment-method`, {
      token: d.token,
      body: { paymentMethod: 'test_card_ok' },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await t.call('POST', '/v1/me/links', { token: d.token, body: { plate: 'CRD1234', accountId: d.accountId } });
    const exit = await parkAndLeave('CRD1234', 125);
    assert.equal(exit.action, 'open', JSON.stringify(exit));
    assert.equal(exit.reason, 'charged');
    const receipts = await t.call('GET', '/v1/me/receipts', { token: d.token });
    assert.equal(receipts.body.receipts.length, 1);
    assert.equal(receipts.body.receipts[0].settlement.method, 'card');
    assert.equal(receipts.body.receipts[0].settlement.amount, exit.fee);
    assert.equal(await balanceOf(d), 0, 'the card paid, not the wallet');

    const refused = await t.call('PUT', `/v1/me/accounts/${d.accountId}/payment-method`, {
      token: d.token,
      body: { paymentMethod: 'pm_made_up' },
    });
    assert.equal(refused.status, 409, 'one method per account');
    const e = await signUp(t, 'declined@example.com');
    await t.call('PUT', `/v1/me/accounts/${e.accountId}/payment-method`, {
      token: e.token,
      body: { paymentMethod: 'test_card_declined' },
    });
    await t.call('POST', '/v1/me/links', { token: e.token, body: { plate: 'DCL1234', accountId: e.accountId } });
    const held = await parkAndLeave('DCL1234', 125);
    assert.equal(held.action, 'hold');
    assert.equal(held.reason, 'payment_declined');
    assert.ok(held.pendingPaymentId);
  });
});
