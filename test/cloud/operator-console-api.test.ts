/**
 * The operator API the console's Manage tab uses, over real HTTP on the
 * test backend: which key is calling (GET /v1/keys/me), a fee preview by
 * the same feeFor the settlement uses, errors that name the field a form
 * shows them at, the unpaid stays of a lot, and refunds of a settlement
 * with their money invariants (never more than charged, once per request
 * id, the books balance). An auditor reads all of it and changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { feeFor } from '../../cloud/tariffs/tariff.js';
import type { Reply } from './cloud-harness.js';
import { ADMIN_KEY, TestCloud, eventId, parkCars, setUpLot, tariff } from './cloud-harness.js';

describe('operator console API', () => {
  let t: TestCloud;
  let operator: string;
  let auditor: string;
  before(async () => {
    t = await TestCloud.start();
    const key = async (role: string) =>
      (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role, label: `${role} desk` } })).body
        .secret as string;
    operator = await key('operator');
    auditor = await key('auditor');
  });
  after(async () => {
    await t.stop();
  });

  const refusedAt = (r: Reply, status: number, code: string, field: string) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error.code, code, JSON.stringify(r.body));
    assert.equal(r.body.error.field, field, JSON.stringify(r.body));
  };

  it('tells each key its role and label', async () => {
    for (const [secret, role] of [
      [ADMIN_KEY, 'admin'],
      [operator, 'operator'],
      [auditor, 'auditor'],
    ]) {
      const me = await t.call('GET', '/v1/keys/me', { token: secret });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.equal(me.body.role, role);
      assert.match(me.body.id, /^key_/);
      assert.equal(typeof me.body.label, 'string');
    }
    assert.equal((await t.call('GET', '/v1/keys/me')).status, 401);
  });

  it('previews a fee with feeFor, and names the field of a bad tariff or stay; nothing is stored', async () => {
    const entryAt = Date.UTC(2026, 5, 1, 1, 0);
    const exitAt = entryAt + 150 * 60_000;
    const night = { ...tariff, bands: [{ from: '08:00', to: '12:00', unitPrice: 900 }] };
    for (const secret of [operator, auditor]) {
      const r = await t.call('POST', '/v1/tariffs/preview', {
        token: secret,
        body: { tariff: night, entryAt, exitAt },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, { fee: feeFor(night, entryAt, exitAt), currency: 'CNY' });
      assert.equal(r.body.fee, 2700); // three units starting 09:00, 10:00, 11:00 lot time (UTC+8), in the band
    }
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const bad = { ...night, bands: [{ from: '25:00', to: '12:00', unitPrice: 900 }] };
    const badTariff = await t.call('POST', '/v1/tariffs/preview', {
      token: operator,
      body: { tariff: bad, entryAt, exitAt },
    });
    refusedAt(badTariff, 400, 'INVALID_TARIFF', 'tariff.bands[0].from');
    const backwards = await t.call('POST', '/v1/tariffs/preview', {
      token: operator,
      body: { tariff: night, entryAt: exitAt, exitAt: entryAt },
    });
    refusedAt(backwards, 400, 'INVALID_STAY', 'exitAt');
    const notANumber = await t.call('POST', '/v1/tariffs/preview', {
      token: operator,
      body: { tariff: night, entryAt: 'noon', exitAt },
    });
    refusedAt(notANumber, 400, 'BAD_REQUEST', 'entryAt');
    assert.equal(t.snapshot(), before);
  });

  it('names the field of every refused form: a schema error, a blank name, a bad tariff, a bad key', async () => {
    const { lotId } = await setUpLot(t, 'Fields P1');
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const noDirection = await t.call('POST', `/v1/lots/${lotId}/lanes`, { token: operator, body: { name: 'West' } });
    refusedAt(noDirection, 400, 'BAD_REQUEST', 'direction');
    const blank = await t.call('POST', `/v1/lots/${lotId}/lanes`, {
      token: operator,
      body: { name: '   ', direction: 'entry' },
    });
    refusedAt(blank, 400, 'INVALID_NAME', 'name');
    const badCap = await t.call('PUT', `/v1/lots/${lotId}/tariff`, {
      token: operator,
      body: { ...tariff, dailyCap: -1 },
    });
    refusedAt(badCap, 400, 'INVALID_TARIFF', 'tariff.dailyCap');
    const badKey = await t.call('POST', `/v1/lots/${lotId}/gates`, {
      token: operator,
      body: { name: 'g', publicKey: '!'.repeat(44) },
    });
    refusedAt(badKey, 400, 'INVALID_PUBLIC_KEY', 'publicKey');
    const shortKey = await t.call('POST', `/v1/lots/${lotId}/gates`, {
      token: operator,
      body: { name: 'g', publicKey: 'abc' },
    });
    refusedAt(shortKey, 400, 'BAD_REQUEST', 'publicKey');
    assert.equal(t.snapshot(), before);
  });

  it('lists the unpaid stays of a lot to every role', async () => {
    const { lotId, entry, exit } = await setUpLot(t, 'Pending P1');
    const at = t.clock.now();
    await t.call('POST', '/v1/events', {
      token: operator,
      body: { eventId: eventId(), laneId: entry, plate: '沪A12345', confidence: 0.99, at },
    });
    t.clock.advance(90 * 60_000);
    const held = await t.call('POST', '/v1/events', {
      token: operator,
      body: { eventId: eventId(), laneId: exit, plate: '沪A12345', confidence: 0.99, at: at + 90 * 60_000 },
    });
    assert.equal(held.body.reason, 'payment_required', JSON.stringify(held.body));
    for (const secret of [operator, auditor]) {
      const r = await t.call('GET', `/v1/lots/${lotId}/pending-payments`, { token: secret });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(
        r.body.pendingPayments.map((p: { id: string; plate: string; amount: number }) => [p.id, p.plate, p.amount]),
        [[held.body.pendingPaymentId, '沪A12345', 1000]],
      );
    }
    const other = await setUpLot(t, 'Pending P2');
    assert.deepEqual((await t.call('GET', `/v1/lots/${other.lotId}/pending-payments`, { token: operator })).body, {
      pendingPayments: [],
    });
  });

  it('refunds a wallet charge in parts up to what it charged, once per request id; the books balance', async () => {
    const cars = await parkCars(t, {
      email: 'refund@example.com',
      topUp: 10_000,
      lotName: 'Refund P1',
      platePrefix: '粤BA',
      cars: 1,
      stayMinutes: 150,
    });
    assert.equal((await cars.exitEvent(0)).body.action, 'open');
    const receipts = await t.call('GET', '/v1/me/receipts', { token: cars.driver.token });
    const settlement = receipts.body.receipts[0].settlement;
    assert.equal(settlement.amount, 1500);
    const afterCharge = await cars.balance();
    const path = `/v1/settlements/${settlement.id}/refunds`;
    const refund = (secret: string, requestId: string, amount: number, reason = 'barrier stuck') =>
      t.call('POST', path, { token: secret, body: { requestId, amount, reason } });

    const first = await refund(operator, 'desk-1', 500);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.reason, 'barrier stuck');
    assert.equal(await cars.balance(), afterCharge + 500);
    // the same request again: the first refund, no money moves
    const replay = await refund(operator, 'desk-1', 500);
    assert.equal(replay.status, 200);
    assert.equal(replay.body.id, first.body.id);
    assert.equal(await cars.balance(), afterCharge + 500);
    refusedAt(await refund(operator, 'desk-1', 400), 409, 'REQUEST_ID_REUSED', 'requestId');
    refusedAt(await refund(operator, 'desk-2', 1001), 409, 'REFUND_EXCEEDS_CHARGE', 'amount');
    refusedAt(await refund(operator, 'desk-2', 10, '  '), 400, 'INVALID_REASON', 'reason');
    refusedAt(await refund(operator, 'desk-2', 0), 400, 'BAD_REQUEST', 'amount');
    assert.equal((await refund(auditor, 'audit-1', 10)).status, 403);

    // eight at once, each for all that is left: exactly one goes through (on PostgreSQL, at READ
    // COMMITTED, only the settlement's row lock keeps them from all passing the check)
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) => refund(i % 2 ? ADMIN_KEY : operator, `race-${i}`, 1000)),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409]);
    assert.equal(await cars.balance(), afterCharge + 1500);
    refusedAt(await refund(operator, 'desk-3', 1), 409, 'REFUND_EXCEEDS_CHARGE', 'amount');

    const state = await t.call('GET', path, { token: auditor });
    assert.equal(state.status, 200);
    assert.deepEqual(
      [state.body.charged, state.body.refunded, state.body.refundable, state.body.refunds.length],
      [1500, 1500, 0, 2],
    );
    assert.ok(state.body.refunds.every((r: { reason: string }) => r.reason === 'barrier stuck'));
    assert.equal(await t.cloud.store.transaction((repos) => repos.accounts.totalOfAllPostings()), 0);
  });

  it('refuses a refund of a stay that charged nothing', async () => {
    const { entry, exit } = await setUpLot(t, 'Free P1');
    const at = t.clock.now();
    await t.call('POST', '/v1/events', {
      token: operator,
      body: { eventId: eventId(), laneId: entry, plate: '京A77777', confidence: 0.99, at },
    });
    const review = await t.call('POST', '/v1/events', {
      token: operator,
      body: { eventId: eventId(), laneId: exit, plate: '京A77777', confidence: 0.5, at: at + 60_000 },
    });
    assert.equal(review.body.reason, 'review', JSON.stringify(review.body));
    const item = (await t.call('GET', '/v1/reviews?status=open', { token: operator })).body.reviews.find(
      (r: { plate: string }) => r.plate === '京A77777',
    );
    const waived = await t.call('POST', `/v1/reviews/${item.id}/resolve`, {
      token: operator,
      body: { action: 'waive', sessionId: item.candidateSessionIds[0] },
    });
    assert.equal(waived.status, 200, JSON.stringify(waived.body));
    const settlementId = waived.body.decision.settlementId;
    const r = await t.call('POST', `/v1/settlements/${settlementId}/refunds`, {
      token: operator,
      body: { requestId: 'free-1', amount: 1, reason: 'test' },
    });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'NOTHING_CHARGED');
  });

  it('refuses every change to an auditor', async () => {
    const { lotId } = await setUpLot(t, 'Audit P1');
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/v1/lots', { name: 'x', tariff }],
      ['PUT', `/v1/lots/${lotId}/tariff`, tariff],
      ['POST', `/v1/lots/${lotId}/lanes`, { name: 'x', direction: 'entry' }],
      ['POST', `/v1/lots/${lotId}/gates`, { name: 'x', publicKey: Buffer.alloc(32, 7).toString('base64') }],
      ['POST', '/v1/keys', { role: 'admin', label: 'x' }],
    ];
    for (const [method, path, body] of writes) {
      const r = await t.call(method, path, { token: auditor, body });
      assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
    }
    assert.equal(t.snapshot(), before);
  });
});
