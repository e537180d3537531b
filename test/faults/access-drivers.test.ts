/** Access between drivers: a driver cannot see or change another driver's accounts, links, sessions, receipts or pending payments, and every refusal changes nothing. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { topUpAndWait } from '../cloud/top-up.js';
import { ADMIN_KEY, TestCloud, eventId, setUpLot, signUp } from '../cloud/cloud-harness.js';
import { Attempt, operatorRoutes, unknownId, withoutIds } from './access-fixtures.js';

describe("a driver cannot see or change another driver's things", () => {
  let t: TestCloud;
  let ana: { token: string; accountId: string; driverId: string };
  let bo: { token: string; accountId: string; driverId: string };
  let boUsd: string;
  let boLink: string;
  let anaLink: string;
  let boSettlement: string;
  let boSession: string;
  let pendingId: string;
  let lot: { lotId: string; entry: string; exit: string };

  before(async () => {
    t = await TestCloud.start();
    ana = await signUp(t, 'ana@example.com');
    bo = await signUp(t, 'bo@example.com');
    lot = await setUpLot(t);
    boUsd = (await t.call('POST', '/v1/me/accounts', { token: bo.token, body: { currency: 'USD', label: 'usd' } })).body
      .id;
    anaLink = (
      await t.call('POST', '/v1/me/links', { token: ana.token, body: { plate: 'ANA1234', accountId: ana.accountId } })
    ).body.id;
    boLink = (
      await t.call('POST', '/v1/me/links', { token: bo.token, body: { plate: 'BOB5678', accountId: bo.accountId } })
    ).body.id;
    await topUpAndWait(t.driverCall(bo.token), bo.accountId, 10_000, 'bo-1');
    // Bo parks and pays (a session and a settlement of his); an unlinked car leaves a pending payment
    const event = (laneId: string, plate: string) =>
      t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId: eventId(), laneId, plate, confidence: 0.99, at: t.clock.now() },
      });
    boSession = (await event(lot.entry, 'BOB5678')).body.sessionId;
    await event(lot.entry, 'UNL9999');
    t.clock.advance(2 * 3_600_000);
    const exit = await event(lot.exit, 'BOB5678');
    assert.equal(exit.body.reason, 'charged', JSON.stringify(exit.body));
    boSettlement = exit.body.settlementId;
    const unpaid = await event(lot.exit, 'UNL9999');
    assert.equal(unpaid.body.reason, 'payment_required', JSON.stringify(unpaid.body));
    pendingId = unpaid.body.pendingPaymentId;
    await t.cloud.checkpointNow();
  });
  after(async () => {
    await t.stop();
  });

  it("refuses every driver route given Bo's ids, exactly as for ids that do not exist, and changes nothing", async () => {
    const attempts = (ids: {
      account: string;
      usd: string;
      link: string;
      settlement: string;
      holderAccount: string;
    }): Attempt[] => [
      {
        name: 'top up his wallet',
        method: 'POST',
        path: `/v1/me/accounts/${ids.account}/top-ups`,
        body: { amount: 1, reference: 'x' },
      },
      {
        name: 'top up his USD wallet',
        method: 'POST',
        path: `/v1/me/accounts/${ids.usd}/top-ups`,
        body: { amount: 1, reference: 'x' },
      },
      {
        name: 'link a plate to his wallet',
        method: 'POST',
        path: '/v1/me/links',
        body: { plate: 'NEW1234', accountId: ids.account },
      },
      { name: 'unlink his link', method: 'DELETE', path: `/v1/me/links/${ids.link}` },
      { name: 'unlink his wallet (an id of another kind)', method: 'DELETE', path: `/v1/me/links/${ids.account}` },
      {
        name: 'dispute his plate with his own wallet',
        method: 'POST',
        path: '/v1/me/disputes',
        body: { plate: 'BOB5678', accountId: ids.holderAccount, reason: 'x' },
      },
      { name: 'read his receipt', method: 'GET', path: `/v1/me/receipts/${ids.settlement}` },
      {
        name: 'pay a pending payment from his wallet',
        method: 'POST',
        path: `/v1/pending-payments/${pendingId}/pay`,
        body: { accountId: ids.account },
      },
    ];
    const his = attempts({
      account: bo.accountId,
      usd: boUsd,
      link: boLink,
      settlement: boSettlement,
      holderAccount: bo.accountId,
    });
    const none = attempts({
      account: unknownId('acc'),
      usd: unknownId('acc'),
      link: unknownId('lnk'),
      settlement: unknownId('stl'),
      holderAccount: unknownId('acc'),
    });
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    for (const [i, a] of his.entries()) {
      const r = await t.call(a.method, a.path, { token: ana.token, body: a.body });
      assert.equal(r.status, 404, `${a.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'NOT_FOUND', a.name);
      // the answer tells nothing about whether the id exists
      const missing = await t.call(none[i]!.method, none[i]!.path, { token: ana.token, body: none[i]!.body });
      assert.equal(missing.status, 404, `${a.name} (missing id)`);
      assert.equal(withoutIds(r.body.error.message), withoutIds(missing.body.error.message), a.name);
    }
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, "no attempt on Bo's things changed the database");
  });

  it("lists none of Bo's accounts, links, sessions or receipts to Ana, whatever the query says", async () => {
    const boIds = [bo.driverId, bo.accountId, boUsd, boLink, boSession, boSettlement, 'BOB5678'];
    for (const path of [
      '/v1/me',
      '/v1/me/accounts',
      '/v1/me/links',
      '/v1/me/sessions',
      '/v1/me/receipts',
      `/v1/me/links?driverId=${bo.driverId}`,
      `/v1/me/accounts?driverId=${bo.driverId}&id=${bo.accountId}`,
      `/v1/me/receipts?settlementId=${boSettlement}`,
    ]) {
      const r = await t.call('GET', path, { token: ana.token });
      assert.ok(r.status === 200 || r.status === 400, `${path}: ${r.status}`);
      const text = JSON.stringify(r.body);
      for (const id of boIds) assert.ok(!text.includes(id), `${path} shows ${id}`);
    }
    // and Bo sees his own
    const receipts = await t.call('GET', '/v1/me/receipts', { token: bo.token });
    assert.deepEqual(
      receipts.body.receipts.map((r: { settlement: { id: string } }) => r.settlement.id),
      [boSettlement],
    );
    const sessions = await t.call('GET', '/v1/me/sessions', { token: bo.token });
    assert.ok(sessions.body.sessions.some((s: { id: string }) => s.id === boSession));
  });

  it('cannot put another driver id into a body it sends', async () => {
    const before = t.snapshot();
    for (const [path, body] of [
      ['/v1/me/accounts', { currency: 'EUR', label: 'x', driverId: bo.driverId }],
      ['/v1/me/links', { plate: 'NEW1234', accountId: ana.accountId, driverId: bo.driverId }],
      [`/v1/me/accounts/${ana.accountId}/top-ups`, { amount: 1, reference: 'x', accountId: bo.accountId }],
    ] as const) {
      const r = await t.call('POST', path, { token: ana.token, body });
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'BAD_REQUEST');
    }
    assert.equal(t.snapshot(), before);
  });

  it("keeps Ana's link when Bo tries to take it, and only an operator can move it", async () => {
    const r = await t.call('POST', '/v1/me/links', {
      token: bo.token,
      body: { plate: 'ana1234', accountId: bo.accountId },
    });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'PLATE_LINKED_ELSEWHERE');
    const links = await t.call('GET', '/v1/me/links', { token: ana.token });
    assert.deepEqual(
      links.body.links.map((l: { id: string }) => l.id),
      [anaLink],
    );
  });

  it('refuses every operator and ledger route to a driver token (403), and they change nothing', async () => {
    const before = t.snapshot();
    for (const a of operatorRoutes({ lotId: lot.lotId, laneId: lot.entry, settlementId: boSettlement })) {
      const r = await t.call(a.method, a.path, { token: ana.token, body: a.body });
      assert.equal(r.status, 403, `${a.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'FORBIDDEN', a.name);
    }
    assert.equal(t.snapshot(), before);
  });
});
