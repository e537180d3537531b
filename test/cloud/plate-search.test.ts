// "Find a car" over real HTTP (GET /v1/search/stays): exact and look-alike plates across lots, open and past
// stays, newest first in keyset pages, with the decision and the receipt (settlement and ledger index); roles;
// validation with the field named. On the test backend (SQLite, or PostgreSQL with PLATEPAY_TEST_DATABASE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { foldLookAlikes } from '../../proto/look-alikes.js';
import { FOLDED_PLATE_SQL } from '../../cloud/storage/migrations.js';
import { ADMIN_KEY, TestCloud, parkCars, setUpLot, signUp } from './cloud-harness.js';

const search = (t: TestCloud, query: string, token = ADMIN_KEY) =>
  t.call('GET', `/v1/search/stays?${query}`, { token });

test('the SQL folding of plates (the indexed expression) is foldLookAlikes for every plate character', () => {
  const db = new Database(':memory:');
  try {
    db.exec('CREATE TABLE t (plate TEXT)');
    const characters = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789粤京'];
    for (const c of characters) db.prepare('INSERT INTO t VALUES (?)').run(c);
    const rows = db.prepare(`SELECT plate, ${FOLDED_PLATE_SQL} AS folded FROM t`).all() as Array<{
      plate: string;
      folded: string;
    }>;
    for (const r of rows) assert.equal(r.folded, foldLookAlikes(r.plate), `folding ${r.plate}`);
  } finally {
    db.close();
  }
});

test('find a car: exact and look-alike, open and past stays, newest first, with decision and receipt', async () => {
  const t = await TestCloud.start();
  try {
    // 粤B11000 enters and leaves (charged, settled), 粤B11001 is still parked; in another lot 粤B12000 and
    // its look-alike 粤B1Z000 (2/Z) enter
    const parked = await parkCars(t, {
      email: 'find@example.com',
      topUp: 100_000,
      lotName: 'Airport P1',
      platePrefix: '粤B1',
      cars: 2,
      stayMinutes: 90,
    });
    assert.equal((await parked.exitEvent(0)).body.reason, 'charged');
    const other = await setUpLot(t, 'Scenic area P2');
    const enter = (eventId: string, plate: string, laneId = other.entry) =>
      t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: { eventId, laneId, plate, confidence: 0.97, at: t.clock.now() },
      });
    t.clock.advance(60_000);
    assert.equal((await enter('p2-in-1', '粤B12000')).status, 200);
    t.clock.advance(60_000);
    assert.equal((await enter('p2-in-2', '粤B1Z000')).status, 200);
    await t.cloud.checkpointNow();

    // the settled stay: its exit decision and receipt
    const exact = await search(t, `plate=${encodeURIComponent('粤b1-1000')}&match=exact`);
    assert.equal(exact.status, 200, JSON.stringify(exact.body));
    assert.equal(exact.body.plate, '粤B11000');
    assert.equal(exact.body.hits.length, 1);
    const hit = exact.body.hits[0];
    assert.equal(hit.lot.name, 'Airport P1');
    assert.equal(hit.lot.utcOffsetMinutes, 480);
    assert.equal(hit.status, 'closed');
    assert.equal(hit.entry.decision.reason, 'entry');
    assert.equal(hit.exit.decision.action, 'open');
    assert.equal(hit.exit.decision.reason, 'charged');
    assert.equal(hit.exit.decision.fee, 1000);
    assert.equal(hit.settlement.amount, 1000);
    assert.equal(hit.settlement.method, 'wallet');
    assert.equal(typeof hit.settlement.ledgerIndex, 'number');
    const receipt = await t.call('GET', `/v1/ledger/receipts/${hit.settlement.id}`, { token: ADMIN_KEY });
    assert.equal(receipt.status, 200);
    assert.equal(receipt.body.index, hit.settlement.ledgerIndex);

    // the parked car: open, no exit, no settlement
    const open = (await search(t, `plate=${encodeURIComponent('粤B11001')}`)).body.hits;
    assert.equal(open.length, 1);
    assert.equal(open[0].status, 'open');
    assert.equal(open[0].exit, null);
    assert.equal(open[0].settlement, null);

    // look-alike: both 粤B12000 and 粤B1Z000, newest first; exact finds one
    const alike = await search(t, `plate=${encodeURIComponent('粤B12000')}`);
    assert.deepEqual(
      alike.body.hits.map((h: { plate: string; exact: boolean }) => [h.plate, h.exact]),
      [
        ['粤B1Z000', false],
        ['粤B12000', true],
      ],
    );
    assert.equal((await search(t, `plate=${encodeURIComponent('粤B12000')}&match=exact`)).body.hits.length, 1);
    // one lot only: the settled car is in P1, not in P2
    const inP2 = await search(t, `plate=${encodeURIComponent('粤B11000')}&lotId=${other.lotId}`);
    assert.equal(inP2.status, 200);
    assert.deepEqual(inP2.body.hits, []);
    assert.equal((await search(t, `plate=${encodeURIComponent('粤B12000')}&lotId=${other.lotId}`)).body.hits.length, 2);

    // pages: limit 1, then `next`
    const first = await search(t, `plate=${encodeURIComponent('粤B12000')}&limit=1`);
    assert.equal(first.body.hits.length, 1);
    assert.equal(first.body.hits[0].plate, '粤B1Z000');
    assert.ok(first.body.next);
    const second = await search(t, `plate=${encodeURIComponent('粤B12000')}&limit=1&before=${first.body.next}`);
    assert.deepEqual(
      second.body.hits.map((h: { plate: string }) => h.plate),
      ['粤B12000'],
    );
    assert.equal(second.body.next, null);

    // an auditor reads; a driver does not
    const auditor = await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'audit' } });
    assert.equal((await search(t, 'plate=ABC123', auditor.body.secret)).status, 200);
    const driver = await signUp(t, 'not-an-operator@example.com');
    assert.equal((await search(t, 'plate=ABC123', driver.token)).status, 403);
    assert.equal((await t.call('GET', '/v1/search/stays?plate=ABC123')).status, 401);
  } finally {
    await t.stop();
  }
});

test('find a car refuses bad input with the field named, and an unknown lot with 404', async () => {
  const t = await TestCloud.start();
  try {
    const cases: Array<[string, number, string, RegExp]> = [
      ['', 400, 'INVALID_PLATE', /^plate: required/],
      ['plate=', 400, 'INVALID_PLATE', /^plate: required/],
      [`plate=${encodeURIComponent('AB<script>')}`, 400, 'INVALID_PLATE', /^plate: only letters/],
      [`plate=${encodeURIComponent('АВС123')}`, 400, 'INVALID_PLATE', /^plate: only letters/], // Cyrillic
      ['plate=A', 400, 'INVALID_PLATE', /^plate: expected 2 to 12 characters, got 1/],
      ['plate=ABCDEFGHIJKLM', 400, 'INVALID_PLATE', /got 13/],
      ['plate=ABC123&limit=0', 400, 'BAD_REQUEST', /^limit:/],
      ['plate=ABC123&limit=101', 400, 'BAD_REQUEST', /^limit:/],
      ['plate=ABC123&limit=ten', 400, 'BAD_REQUEST', /^limit:/],
      ['plate=ABC123&before=yesterday', 400, 'BAD_REQUEST', /^before:/],
      ['plate=ABC123&lotId=P1', 400, 'BAD_REQUEST', /^lotId:/],
      ['plate=ABC123&match=fuzzy', 400, 'BAD_REQUEST', /match/],
      ['plate=ABC123&sort=plate', 400, 'BAD_REQUEST', /^sort: not a search parameter/],
      [`plate=ABC123&lotId=lot_${'0'.repeat(32)}`, 404, 'NOT_FOUND', /lot/],
    ];
    for (const [query, status, code, message] of cases) {
      const r = await search(t, query);
      assert.equal(r.status, status, `${query}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, query);
      assert.match(r.body.error.message, message, query);
    }
  } finally {
    await t.stop();
  }
});
