/**
 * A review item can only close a stay it could belong to. Resolving it onto
 * a session is refused over HTTP with 409, charging nothing and storing
 * nothing, when the item holds an entry (a passback: the car is inside, so
 * matching it would charge a stay that has not ended) or when the held exit
 * is before the session's entry (beyond the clock skew a gate may have): it
 * is then another car's stay. Dismissing stays possible.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, TestCloud, eventId, queryCloudDatabase, setUpLot, signUp } from './cloud-harness.js';
import { topUpAndWait } from './top-up.js';

const MIN = 60_000;

describe('resolving a review onto a session it cannot belong to', () => {
  let t: TestCloud;
  let lanes: { entry: string; exit: string };
  let driver: Awaited<ReturnType<typeof signUp>>;
  before(async () => {
    t = await TestCloud.start();
    driver = await signUp(t, 'wrong-session@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 5_000, 'w');
    for (const plate of ['PBK1234', 'YYY5432']) {
      const link = await t.call('POST', '/v1/me/links', {
        token: driver.token,
        body: { plate, accountId: driver.accountId },
      });
      assert.equal(link.status, 201, JSON.stringify(link.body));
    }
    lanes = await setUpLot(t, 'Wrong session P1');
  });
  after(async () => {
    await t.stop();
  });

  const event = async (laneId: string, plate: string, at = t.clock.now()) => {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId, plate, confidence: 0.99, at },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const balance = async () =>
    (await t.call('GET', '/v1/me/accounts', { token: driver.token })).body.accounts[0].balance as number;
  const count = async (table: string) => {
    await t.cloud.checkpointNow();
    return (await queryCloudDatabase<{ n: number }>(t.dbPath, `SELECT COUNT(*) AS n FROM ${table}`))[0]!.n;
  };

  async function refused(reviewId: string, sessionId: string, code: string): Promise<void> {
    const settlements = await count('settlements');
    const records = await count('ledger_records');
    const money = await balance();
    for (const action of ['match', 'waive'] as const) {
      const r = await t.call('POST', `/v1/reviews/${reviewId}/resolve`, {
        token: ADMIN_KEY,
        body: { action, sessionId },
      });
      assert.equal(r.status, 409, `${action}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, `${action}: ${JSON.stringify(r.body)}`);
    }
    assert.equal(await balance(), money, 'nothing charged');
    assert.equal(await count('settlements'), settlements, 'no settlement');
    assert.equal(await count('ledger_records'), records, 'no ledger record');
    const session = await queryCloudDatabase<{ status: string }>(
      t.dbPath,
      `SELECT status FROM parking_sessions WHERE id = '${sessionId}'`,
    );
    assert.notEqual(session[0]!.status, 'closed', 'the session stays open');
    const dismissed = await t.call('POST', `/v1/reviews/${reviewId}/resolve`, {
      token: ADMIN_KEY,
      body: { action: 'dismiss' },
    });
    assert.equal(dismissed.status, 200, JSON.stringify(dismissed.body));
  }

  it('a held entry (passback) is refused with NOT_AN_EXIT', async () => {
    const first = await event(lanes.entry, 'PBK1234');
    assert.equal(first.reason, 'entry');
    t.clock.advance(MIN);
    const again = await event(lanes.entry, 'PBK1234');
    assert.deepEqual([again.action, again.reason], ['hold', 'passback'], JSON.stringify(again));
    await refused(again.reviewId, first.sessionId, 'NOT_AN_EXIT');
  });

  it('an exit an hour before the session entered is refused with EXIT_BEFORE_ENTRY', async () => {
    t.clock.advance(MIN);
    const early = await event(lanes.exit, 'ZZZ9876', t.clock.now() - 60 * MIN);
    assert.equal(early.action, 'hold', JSON.stringify(early));
    assert.ok(early.reviewId, JSON.stringify(early));
    const entered = await event(lanes.entry, 'YYY5432');
    assert.equal(entered.reason, 'entry');
    await refused(early.reviewId, entered.sessionId, 'EXIT_BEFORE_ENTRY');
  });
});
