/**
 * The cloud service end to end over real HTTP on 127.0.0.1 with real
 * SQLite: a driver links a plate, an operator sets up a lot, a car enters
 * and leaves, the right fee is charged exactly once, the books balance, the
 * receipt is there, and all of it survives a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, T0, TestCloud, eventId, setUpLot, signUp } from './cloud-harness.js';
import { topUpAndWait } from './top-up.js';
import { leafHash, verifyInclusion } from '../../cloud/ledger/merkle.js';
import { verifyCheckpointNote } from '../../cloud/ledger/signed-note.js';

const MIN = 60_000;

describe('cloud: the whole story', () => {
  let t: TestCloud;
  before(async () => {
    t = await TestCloud.start();
  });
  after(async () => {
    await t.stop();
  });

  it('charges a linked driver the tariff fee at exit, keeps the books balanced, and survives a restart', async () => {
    const driver = await signUp(t, 'ana@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 10_000, 'card-1');
    const funded = await t.call('GET', '/v1/me/accounts', { token: driver.token });
    assert.equal(funded.body.accounts[0].balance, 10_000);
    const link = await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: '皖a·12345', accountId: driver.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    assert.equal(link.body.plate, '皖A12345');

    const { entry, exit } = await setUpLot(t);
    const entered = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: 'e-in-1', laneId: entry, plate: '皖A12345', confidence: 0.98, at: T0 },
    });
    assert.equal(entered.status, 200, JSON.stringify(entered.body));
    assert.equal(entered.body.action, 'open');
    assert.equal(entered.body.reason, 'entry');

    // 2 h 30 min later: three started 60-minute units of 500
    t.clock.advance(150 * MIN);
    const left = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: 'e-out-1', laneId: exit, plate: '皖A12345', confidence: 0.97, at: T0 + 150 * MIN },
    });
    assert.equal(left.status, 200, JSON.stringify(left.body));
    assert.deepEqual(
      { action: left.body.action, reason: left.body.reason, fee: left.body.fee, currency: left.body.currency },
      { action: 'open', reason: 'charged', fee: 1500, currency: 'CNY' },
    );

    const me = await t.call('GET', '/v1/me/accounts', { token: driver.token });
    assert.equal(me.body.accounts[0].balance, 8500);
    const total = await t.cloud.store.transaction((r) => r.accounts.totalOfAllPostings());
    assert.equal(total, 0, 'the postings of all accounts sum to zero');

    await t.cloud.checkpointNow();
    const receipts = await t.call('GET', '/v1/me/receipts', { token: driver.token });
    assert.equal(receipts.body.receipts.length, 1);
    const receipt = receipts.body.receipts[0];
    // the receipt proves itself: the record is in the checkpoint's tree, and the checkpoint is signed by the log
    const { checkpoint } = verifyCheckpointNote(receipt.checkpoint, t.cloud.ledger.key, []);
    assert.ok(
      verifyInclusion(
        leafHash(Buffer.from(receipt.record, 'utf8')),
        receipt.ledgerIndex,
        checkpoint.size,
        receipt.proof.map((p: string) => Buffer.from(p, 'base64')),
        checkpoint.root,
      ),
    );
    assert.equal(receipt.settlement.amount, 1500);
    assert.equal(receipt.settlement.method, 'wallet');
    assert.equal(receipt.ledgerIndex, 0);
    const record = JSON.parse(receipt.record);
    assert.equal(record.amount, 1500);
    assert.match(record.plateHash, /^[0-9a-f]{64}$/);
    assert.ok(!receipt.record.includes('12345'), 'the ledger record does not hold the plate');

    const sessions = await t.call('GET', '/v1/me/sessions', { token: driver.token });
    assert.equal(sessions.body.sessions[0].status, 'closed');
    assert.equal(sessions.body.sessions[0].fee, 1500);

    await t.restart();
    const again = await t.call('GET', '/v1/me/receipts', { token: driver.token });
    assert.equal(again.status, 200, 'the token survives the restart');
    assert.deepEqual(again.body, receipts.body);
    const balance = await t.call('GET', '/v1/me/accounts', { token: driver.token });
    assert.equal(balance.body.accounts[0].balance, 8500);
    const replay = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: 'e-out-1', laneId: exit, plate: '皖A12345', confidence: 0.97, at: T0 + 150 * MIN },
    });
    assert.deepEqual(replay.body, left.body, 'a replay after the restart returns the first decision');
    const metrics = await t.call('GET', '/metrics', { token: ADMIN_KEY });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /platepay_review_queue_depth 0/);
    // the store's counters since the restart, and the ledger (this single instance sequences it)
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics.body)?.[1]);
    assert.ok(value('platepay_store_transactions_total') >= 4, metrics.body);
    assert.ok(value('platepay_store_commits_total') >= 1);
    assert.ok(Number.isInteger(value('platepay_store_failed_total')), 'failed transactions are counted');
    assert.ok(Number.isInteger(value('platepay_store_retries_total')), 'retries are counted');
    assert.equal(value('platepay_ledger_sequencer'), 1);
    assert.ok(value('platepay_ledger_records') >= 1, 'the settlement is in the ledger');
  });

  it('charges once when the same exit arrives 50 times at once', async () => {
    const driver = await signUp(t, 'bo@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 5_000, 'card-1');
    await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: 'ABC1234', accountId: driver.accountId },
    });
    const { entry, exit } = await setUpLot(t, 'Scenic P2');
    const at = t.clock.now();
    await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: entry, plate: 'ABC1234', confidence: 0.99, at },
    });
    t.clock.advance(61 * MIN);
    const exitEvent = { eventId: eventId(), laneId: exit, plate: 'ABC1234', confidence: 0.99, at: at + 61 * MIN };
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => t.call('POST', '/v1/events', { token: ADMIN_KEY, body: exitEvent })),
    );
    for (const r of replies) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, replies[0]!.body);
    }
    assert.equal(replies[0]!.body.fee, 1000);
    const accounts = await t.call('GET', '/v1/me/accounts', { token: driver.token });
    assert.equal(accounts.body.accounts[0].balance, 4000, 'charged exactly once');
    const receipts = await t.call('GET', '/v1/me/receipts', { token: driver.token });
    assert.equal(receipts.body.receipts.length, 1);
    const reused = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { ...exitEvent, plate: 'ABC1235' },
    });
    assert.equal(reused.status, 409);
    assert.equal(reused.body.error.code, 'EVENT_ID_REUSED');
  });

  it('sends an exit read between two confusable open sessions to review, and an operator settles it', async () => {
    const a = await signUp(t, 'cy@example.com');
    const b = await signUp(t, 'di@example.com');
    for (const [d, plate] of [
      [a, 'AB8B01'],
      [b, 'ABB801'],
    ] as const) {
      await topUpAndWait(t.driverCall(d.token), d.accountId, 3_000, 'r');
      const l = await t.call('POST', '/v1/me/links', { token: d.token, body: { plate, accountId: d.accountId } });
      assert.equal(l.status, 201, JSON.stringify(l.body));
    }
    const { entry, exit } = await setUpLot(t, 'Confusion P3');
    const at = t.clock.now();
    for (const plate of ['AB8B01', 'ABB801']) {
      const r = await t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId: entry, plate, confidence: 0.99, at },
      });
      assert.equal(r.body.action, 'open');
    }
    t.clock.advance(90 * MIN);
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const out = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: exit, plate: 'AB8801', confidence: 0.99, at: at + 90 * MIN },
    });
    assert.equal(out.body.action, 'hold');
    assert.equal(out.body.reason, 'review');
    assert.equal(out.body.fee, null);
    for (const d of [a, b]) {
      const acc = await t.call('GET', '/v1/me/accounts', { token: d.token });
      assert.equal(acc.body.accounts[0].balance, 3000, 'nobody was charged');
    }
    assert.notEqual(t.snapshot(), before, 'the exit and its review item were stored');

    const queue = await t.call('GET', '/v1/reviews?status=open', { token: ADMIN_KEY });
    const item = queue.body.reviews.find((r: { id: string }) => r.id === out.body.reviewId);
    assert.equal(item.candidateSessionIds.length, 2);
    assert.equal(item.reason, 'ambiguous');

    const sessionOfA = (await t.call('GET', '/v1/me/sessions', { token: a.token })).body.sessions[0].id;
    const resolved = await t.call('POST', `/v1/reviews/${item.id}/resolve`, {
      token: ADMIN_KEY,
      body: { action: 'match', sessionId: sessionOfA },
    });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.equal(resolved.body.decision.reason, 'charged');
    assert.equal(resolved.body.decision.fee, 1000);
    assert.equal((await t.call('GET', '/v1/me/accounts', { token: a.token })).body.accounts[0].balance, 2000);
    assert.equal((await t.call('GET', '/v1/me/accounts', { token: b.token })).body.accounts[0].balance, 3000);
    const twice = await t.call('POST', `/v1/reviews/${item.id}/resolve`, {
      token: ADMIN_KEY,
      body: { action: 'dismiss' },
    });
    assert.equal(twice.status, 409);
  });

  it('holds an unlinked car until a driver pays its pending payment, then opens within the grace period', async () => {
    const payer = await signUp(t, 'eve@example.com');
    await topUpAndWait(t.driverCall(payer.token), payer.accountId, 2_000, 'r');
    const { entry, exit } = await setUpLot(t, 'Visitors P4');
    const at = t.clock.now();
    await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: entry, plate: 'XYZ9876', confidence: 0.99, at },
    });
    t.clock.advance(30 * MIN);
    const held = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: exit, plate: 'XYZ9876', confidence: 0.99, at: at + 30 * MIN },
    });
    assert.equal(held.body.action, 'hold');
    assert.equal(held.body.reason, 'payment_required');
    assert.equal(held.body.fee, 500);

    const pending = await t.call('GET', '/v1/pending-payments?plate=xyz-9876', { token: payer.token });
    assert.equal(pending.body.pendingPayments.length, 1);
    assert.equal(pending.body.pendingPayments[0].id, held.body.pendingPaymentId);
    const paid = await t.call('POST', `/v1/pending-payments/${held.body.pendingPaymentId}/pay`, {
      token: payer.token,
      body: { accountId: payer.accountId },
    });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.equal(paid.body.settlement.amount, 500);
    assert.equal(paid.body.settlement.method, 'paid-before-exit');

    t.clock.advance(5 * MIN);
    const opened = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: exit, plate: 'XYZ9876', confidence: 0.99, at: t.clock.now() },
    });
    assert.equal(opened.body.action, 'open');
    assert.equal(opened.body.reason, 'paid');
    assert.equal((await t.call('GET', '/v1/me/accounts', { token: payer.token })).body.accounts[0].balance, 1500);
    const again = await t.call('POST', `/v1/pending-payments/${held.body.pendingPaymentId}/pay`, {
      token: payer.token,
      body: { accountId: payer.accountId },
    });
    assert.equal(again.status, 409);
  });

  it('flags a second entry for a plate that is already parked (anti-passback)', async () => {
    const { entry } = await setUpLot(t, 'Passback P5');
    const at = t.clock.now();
    const first = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: entry, plate: 'PAS1234', confidence: 0.99, at },
    });
    assert.equal(first.body.action, 'open');
    const second = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: entry, plate: 'PAS1234', confidence: 0.99, at: at + MIN },
    });
    assert.equal(second.body.action, 'hold');
    assert.equal(second.body.reason, 'passback');
    assert.equal(second.body.sessionId, first.body.sessionId);
    const queue = await t.call('GET', '/v1/reviews?status=open', { token: ADMIN_KEY });
    assert.ok(
      queue.body.reviews.some(
        (r: { id: string; reason: string }) => r.id === second.body.reviewId && r.reason === 'passback',
      ),
    );
  });

  it('lets the same car out again just after it paid, without a second charge or a review', async () => {
    const driver = await signUp(t, 'again@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 10_000, 'again');
    await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: 'AGN1234', accountId: driver.accountId },
    });
    const { entry, exit } = await setUpLot(t, 'Again P6');
    const at = t.clock.now();
    const event = async (laneId: string, when: number) =>
      (
        await t.call('POST', '/v1/events', {
          token: ADMIN_KEY,
          body: { eventId: eventId(), laneId, plate: 'AGN1234', confidence: 0.99, at: when },
        })
      ).body;
    await event(entry, at);
    t.clock.advance(90 * MIN);
    const paid = await event(exit, at + 90 * MIN);
    assert.equal(paid.reason, 'charged');
    const balance = async () =>
      (await t.call('GET', '/v1/me/accounts', { token: driver.token })).body.accounts[0].balance;
    const after = await balance();
    const reviewsBefore = (await t.call('GET', '/v1/reviews?status=open', { token: ADMIN_KEY })).body.reviews.length;

    t.clock.advance(2 * MIN);
    const again = await event(exit, at + 92 * MIN);
    assert.deepEqual([again.action, again.reason, again.fee], ['open', 'already_paid', null]);
    assert.equal(await balance(), after, 'not charged twice');
    // long after, an exit with no parked car is a case for a person
    t.clock.advance(28 * MIN);
    const late = await event(exit, at + 120 * MIN);
    assert.deepEqual([late.action, late.reason], ['hold', 'review']);
    const reviewsAfter = (await t.call('GET', '/v1/reviews?status=open', { token: ADMIN_KEY })).body.reviews.length;
    assert.equal(reviewsAfter, reviewsBefore + 1, 'only the late exit went to review');
  });

  it('refuses a plate another driver holds and lets an operator decide the dispute', async () => {
    const holder = await signUp(t, 'fay@example.com');
    const claimant = await signUp(t, 'gus@example.com');
    const held = await t.call('POST', '/v1/me/links', {
      token: holder.token,
      body: { plate: 'DSP4321', accountId: holder.accountId },
    });
    assert.equal(held.status, 201);
    const refused = await t.call('POST', '/v1/me/links', {
      token: claimant.token,
      body: { plate: 'dsp 4321', accountId: claimant.accountId },
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'PLATE_LINKED_ELSEWHERE');
    const dispute = await t.call('POST', '/v1/me/disputes', {
      token: claimant.token,
      body: { plate: 'DSP4321', accountId: claimant.accountId, reason: 'I bought this car last week' },
    });
    assert.equal(dispute.status, 201, JSON.stringify(dispute.body));
    const decided = await t.call('POST', `/v1/disputes/${dispute.body.id}/resolve`, {
      token: ADMIN_KEY,
      body: { outcome: 'transfer' },
    });
    assert.equal(decided.body.status, 'transferred');
    assert.equal((await t.call('GET', '/v1/me/links', { token: holder.token })).body.links.length, 0);
    const now = (await t.call('GET', '/v1/me/links', { token: claimant.token })).body.links;
    assert.deepEqual(
      now.map((l: { plate: string }) => l.plate),
      ['DSP4321'],
    );
  });

  it('serves its OpenAPI document and a health check', async () => {
    const doc = await t.call('GET', '/docs/json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi.slice(0, 2), '3.');
    assert.ok(doc.body.paths['/v1/events']);
    assert.ok(doc.body.paths['/v1/me/links']);
    assert.deepEqual((await t.call('GET', '/health')).body, { status: 'ok' });
  });
});
