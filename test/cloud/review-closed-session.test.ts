/**
 * A review item resolved onto a parking session that has closed in the
 * meantime (the car was read again and charged while its first, doubtful
 * read waited for a person) is refused over HTTP with 409 SESSION_CLOSED:
 * no second charge, no second settlement, no ledger record, and the review
 * stays open for the operator to dismiss.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, eventId, queryCloudDatabase, setUpLot, signUp } from './cloud-harness.js';
import { topUpAndWait } from './top-up.js';

const MIN = 60_000;
const PLATE = 'RVW1234';

describe('resolving a review onto a closed session', () => {
  let t: TestCloud;
  before(async () => {
    t = await TestCloud.start();
  });
  after(async () => {
    await t.stop();
  });

  it('is refused with 409 SESSION_CLOSED, charging nothing and storing nothing', async () => {
    const driver = await signUp(t, 'rvw@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 3_000, 'r');
    const link = await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate: PLATE, accountId: driver.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const { entry, exit } = await setUpLot(t, 'Review P1');
    const event = async (laneId: string, confidence: number) => {
      const r = await t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId, plate: PLATE, confidence, at: t.clock.now() },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body;
    };
    const entered = await event(entry, 0.99);
    assert.equal(entered.reason, 'entry');
    t.clock.advance(90 * MIN);
    // a doubtful read at the exit goes to a person...
    const doubtful = await event(exit, 0.3);
    assert.deepEqual([doubtful.action, doubtful.reason], ['hold', 'review']);
    // ...and a moment later the same car is read clearly and charged: its session closes
    t.clock.advance(MIN);
    const charged = await event(exit, 0.99);
    assert.deepEqual([charged.action, charged.reason, charged.fee], ['open', 'charged', 1000]);
    assert.equal(charged.sessionId, entered.sessionId);
    const balance = async () =>
      (await t.call('GET', '/v1/me/accounts', { token: driver.token })).body.accounts[0].balance as number;
    assert.equal(await balance(), 2_000);

    const count = async (table: string) =>
      (await queryCloudDatabase<{ n: number }>(t.dbPath, `SELECT COUNT(*) AS n FROM ${table}`))[0]!.n;
    await t.cloud.checkpointNow();
    const settlements = await count('settlements');
    const ledgerRecords = await count('ledger_records');
    assert.equal(settlements, 1);
    assert.equal(ledgerRecords, 1);
    const before = t.snapshot();

    for (const action of ['match', 'waive'] as const) {
      const r = await t.call('POST', `/v1/reviews/${doubtful.reviewId}/resolve`, {
        token: ADMIN_KEY,
        body: { action, sessionId: entered.sessionId },
      });
      assert.equal(r.status, 409, `${action}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'SESSION_CLOSED', `${action}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.message, new RegExp(`session ${entered.sessionId} is already closed`));
    }

    assert.equal(await balance(), 2_000, 'not charged a second time');
    await t.cloud.checkpointNow();
    assert.equal(await count('settlements'), settlements, 'no second settlement');
    assert.equal(await count('ledger_records'), ledgerRecords, 'no second ledger record');
    assert.equal(t.snapshot(), before, 'the refused resolutions changed nothing');
    const open = (await t.call('GET', '/v1/reviews?status=open', { token: ADMIN_KEY })).body.reviews;
    assert.ok(
      open.some((r: { id: string }) => r.id === doubtful.reviewId),
      'the review is still open',
    );
    const dismissed = await t.call('POST', `/v1/reviews/${doubtful.reviewId}/resolve`, {
      token: ADMIN_KEY,
      body: { action: 'dismiss' },
    });
    assert.equal(dismissed.status, 200, JSON.stringify(dismissed.body));
    assert.equal(await balance(), 2_000);
  });
});
