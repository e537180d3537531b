/**
 * Exits that race each other, through the cloud's HTTP API all at once (on
 * PostgreSQL each request is a transaction of its own on a pooled
 * connection, at READ COMMITTED with the store's row locks; on SQLite one
 * writer runs them one after another):
 * - 50 copies of one exit event, and 20 exit events of one car, charge the
 *   stay once;
 * - one driver's cars leaving at once never spend more than the wallet
 *   holds (no credit: a new driver has none);
 * - a tariff changed while exits run prices each exit wholly by the old or
 *   the new tariff, and every exit after the change by the new one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ParkedCars, Reply } from './cloud-harness.js';
import { ADMIN_KEY, TEST_BACKEND, TestCloud, parkCars, queryCloudDatabase, tariff } from './cloud-harness.js';

/** the harness's tariff (15 free minutes, then 500 per started hour) for a 40-minute stay */
const FEE = 500;
const STAY_MINUTES = 40;

interface Stored {
  settlements: Array<{ exit_event_id: string; session_id: string; amount: number }>;
  charges: Array<{ reference: string; amount: number }>;
}

async function stored(t: TestCloud, lotId: string): Promise<Stored> {
  const settlements = await queryCloudDatabase<Stored['settlements'][number]>(
    t.dbPath,
    'SELECT exit_event_id, session_id, amount FROM settlements WHERE lot_id = ? ORDER BY exit_event_id',
    [lotId],
  );
  const charges = await queryCloudDatabase<Stored['charges'][number]>(
    t.dbPath,
    `SELECT e.reference, e.amount FROM journal_entries e WHERE e.kind = 'charge' AND e.reference IN
       (SELECT 'exit:' || exit_event_id FROM settlements WHERE lot_id = ?) ORDER BY e.reference`,
    [lotId],
  );
  return { settlements, charges };
}

const exitBody = (cars: ParkedCars, i: number, eventId: string) => ({
  eventId,
  laneId: cars.exitLane,
  plate: cars.plates[i],
  confidence: 0.99,
  at: cars.exitAt,
});

describe(`exits at the same moment (${TEST_BACKEND})`, () => {
  let t: TestCloud;
  before(async () => {
    t = await TestCloud.start();
  });
  after(async () => {
    await t.stop();
  });

  it('charges once for 50 concurrent copies of one exit event, and once for 20 exit events of one car', async () => {
    const cars = await parkCars(t, {
      email: 'copies@example.com',
      topUp: 100_000,
      lotName: 'Copies P1',
      platePrefix: 'CPY',
      cars: 2,
      stayMinutes: STAY_MINUTES,
    });
    const copies = await Promise.all(Array.from({ length: 50 }, () => cars.exitEvent(0)));
    for (const r of copies) assert.equal(r.status, 200, JSON.stringify(r.body));
    const first = copies[0]!.body;
    assert.equal(first.reason, 'charged', JSON.stringify(first));
    for (const r of copies) assert.deepEqual(r.body, first, 'every copy gets the first decision');

    // one car read by the exit lane 20 times over (20 event ids): one charge, the rest let out as paid
    const reads = await Promise.all(
      Array.from({ length: 20 }, (_, k) =>
        t.call('POST', '/v1/events', { token: ADMIN_KEY, body: exitBody(cars, 1, `again-${k}`) }),
      ),
    );
    for (const r of reads) assert.equal(r.status, 200, JSON.stringify(r.body));
    const reasons = reads.map((r) => r.body.reason as string).sort();
    assert.equal(reasons.filter((x) => x === 'charged').length, 1, reasons.join(' '));
    assert.equal(reasons.filter((x) => x === 'already_paid').length, 19, reasons.join(' '));

    const s = await stored(t, cars.lotId);
    assert.equal(s.settlements.length, 2, JSON.stringify(s.settlements));
    assert.deepEqual(
      s.charges.map((c) => c.amount),
      [FEE, FEE],
    );
    assert.equal(await cars.balance(), 100_000 - 2 * FEE);
  });

  it("never lets one driver's cars leaving at once spend more than the wallet holds", async () => {
    const CARS = 8;
    const cars = await parkCars(t, {
      email: 'limit@example.com',
      topUp: 2 * FEE + FEE / 2, // two stays and a half: the third car must be held
      lotName: 'Limit P1',
      platePrefix: 'LIM',
      eventPrefix: 'lim-',
      cars: CARS,
      stayMinutes: STAY_MINUTES,
    });
    const replies: Reply[] = await Promise.all(Array.from({ length: CARS }, (_, i) => cars.exitEvent(i)));
    for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
    const reasons = replies.map((r) => r.body.reason as string);
    assert.equal(reasons.filter((x) => x === 'charged').length, 2, reasons.join(' '));
    assert.equal(reasons.filter((x) => x === 'payment_declined').length, CARS - 2, reasons.join(' '));
    assert.equal(await cars.balance(), FEE / 2, 'the wallet never goes below zero (a new driver has no credit)');
    assert.equal((await stored(t, cars.lotId)).charges.length, 2);
  });

  it('prices each exit wholly by the tariff before or after a change made meanwhile, and later exits by the new one', async () => {
    const CARS = 24;
    const NEW_FEE = 700;
    const cars = await parkCars(t, {
      email: 'tariff@example.com',
      topUp: 1_000_000,
      lotName: 'Tariff P1',
      platePrefix: 'TRF',
      eventPrefix: 'trf-',
      cars: CARS,
      stayMinutes: STAY_MINUTES,
    });
    const during = Array.from({ length: CARS / 2 }, (_, i) => cars.exitEvent(i));
    const change = await t.call('PUT', `/v1/lots/${cars.lotId}/tariff`, {
      token: ADMIN_KEY,
      body: { ...tariff, unitPrice: NEW_FEE },
    });
    assert.equal(change.status, 200, JSON.stringify(change.body));
    const afterChange = await Promise.all(Array.from({ length: CARS / 2 }, (_, i) => cars.exitEvent(CARS / 2 + i)));
    const duringReplies = await Promise.all(during);

    for (const r of duringReplies) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok([FEE, NEW_FEE].includes(r.body.fee), `fee ${r.body.fee}: one of the two tariffs`);
    }
    for (const r of afterChange) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.fee, NEW_FEE, 'an exit sent after the change answered is priced by the new tariff');
    }
    // what was decided is what was stored: the settlement, the charge and the session agree for each exit
    const fees = new Map([...duringReplies, ...afterChange].map((r) => [r.body.eventId as string, r.body.fee]));
    const s = await stored(t, cars.lotId);
    assert.equal(s.settlements.length, CARS);
    for (const row of s.settlements) assert.equal(row.amount, fees.get(row.exit_event_id), row.exit_event_id);
    for (const c of s.charges) assert.equal(c.amount, fees.get(c.reference.slice('exit:'.length)), c.reference);
    const sessionFees = await queryCloudDatabase<{ fee: number; exit_event_id: string }>(
      t.dbPath,
      'SELECT fee, exit_event_id FROM parking_sessions WHERE lot_id = ?',
      [cars.lotId],
    );
    for (const row of sessionFees) assert.equal(row.fee, fees.get(row.exit_event_id), row.exit_event_id);
    const total = [...fees.values()].reduce((a, b) => a + b, 0);
    assert.equal(await cars.balance(), 1_000_000 - total);
  });
});
