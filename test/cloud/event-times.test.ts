/**
 * Event times that cannot be right are refused at the door, over HTTP and
 * over the gate socket: a time in seconds, a zero, one older than a week or
 * ahead of the clock (a car parked before the lot was registered is not
 * refused). A stay stored with such a time by an earlier version never
 * turns later requests into 500s: its exit is held for review
 * (`stay-too-long`), the driver's page renders it without a fee, and an
 * operator waives it (a match is refused with a reason).
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { after, before, describe, it } from 'node:test';
import { GateKey } from '../../proto/v1/gate-key.js';
import { laneEventSigningBytes } from '../../proto/v1/codec.js';
import type { LaneEventBody } from '../../proto/v1/messages.js';
import { RawGate } from '../faults/raw-gate.js';
import { ADMIN_KEY, TestCloud, eventId, setUpLot, signUp } from './cloud-harness.js';

const DAY_MS = 86_400_000;

/** Rewrites a stored session's entry time, as a version that did not check times stored it. */
async function storeEntryTime(t: TestCloud, sessionId: string, entryAt: number): Promise<void> {
  if (t.postgresUrl) {
    const client = new pg.Client({ connectionString: t.postgresUrl });
    await client.connect();
    try {
      await client.query('UPDATE parking_sessions SET entry_at = $1 WHERE id = $2', [entryAt, sessionId]);
    } finally {
      await client.end();
    }
    return;
  }
  const db = new Database(t.dbPath, { timeout: 10_000 });
  try {
    db.prepare('UPDATE parking_sessions SET entry_at = ? WHERE id = ?').run(entryAt, sessionId);
  } finally {
    db.close();
  }
}

describe('event times at the door', () => {
  let t: TestCloud;
  let lot: { lotId: string; entry: string; exit: string };
  let lotCreatedAt: number;

  before(async () => {
    t = await TestCloud.start();
    lot = await setUpLot(t);
    lotCreatedAt = t.clock.now();
    t.clock.advance(2 * DAY_MS);
  });
  after(async () => {
    await t.stop();
  });

  const entry = (at: number, plate = 'TIM1234') =>
    t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.entry, plate, confidence: 0.99, at },
    });

  it('refuses a time in seconds, a zero, one older than a week or ahead, and stores nothing', async () => {
    const now = t.clock.now();
    const before = t.snapshot();
    const cases: Array<[string, number, string]> = [
      ['seconds instead of milliseconds', Math.floor(now / 1000), 'EVENT_TOO_OLD'],
      ['zero', 0, 'EVENT_TOO_OLD'],
      ['eight days old', now - 8 * DAY_MS, 'EVENT_TOO_OLD'],
      ['an hour ahead', now + 3_600_000, 'EVENT_IN_FUTURE'],
    ];
    for (const [name, at, code] of cases) {
      const r = await entry(at);
      assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, name);
      assert.match(r.body.error.message, /^at: .*milliseconds since the epoch/, name);
    }
    assert.equal(t.snapshot(), before, 'no refused event changed the database');
    // plausible times still open a session: an hour ago, a minute after the lot was set up, and a car
    // an operator enters as parked the day before the lot was registered
    for (const [plate, at] of [
      ['TIM1001', now - 3_600_000],
      ['TIM1002', lotCreatedAt + 60_000],
      ['TIM1003', lotCreatedAt - DAY_MS],
    ] as const) {
      const r = await entry(at, plate);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.reason, 'entry');
    }
  });

  it('refuses a time in seconds or a zero over the gate socket too, and applies nothing', async () => {
    const key = GateKey.generate();
    const gate = await t.call('POST', `/v1/lots/${lot.lotId}/gates`, {
      token: ADMIN_KEY,
      body: { name: 'gate-times', publicKey: key.publicKey },
    });
    assert.equal(gate.status, 201, JSON.stringify(gate.body));
    const g = await RawGate.connect(t.url);
    try {
      await g.handshake(gate.body.id, key);
      const send = async (counter: number, at: number) => {
        const body: LaneEventBody = {
          gateId: gate.body.id,
          counter,
          eventId: eventId(),
          laneId: lot.entry,
          kind: 'entry',
          plate: 'SOK1234',
          confidence: 0.99,
          evidenceDigest: 'ab'.repeat(32),
          triggeredAt: at,
          at,
        };
        g.send({ v: 1, type: 'laneEvent', id: g.id(), event: body, signature: key.sign(laneEventSigningBytes(body)) });
        return g.next();
      };
      const before = t.snapshot();
      for (const [counter, at] of [
        [1, Math.floor(t.clock.now() / 1000)],
        [2, 0],
      ]) {
        const refused = await send(counter!, at!);
        assert.equal(refused?.type, 'error', JSON.stringify(refused));
        if (refused?.type === 'error') assert.equal(refused.retryable, false);
      }
      assert.equal(t.snapshot(), before, 'nothing applied, the gate counter not raised');
      const fine = await send(3, t.clock.now());
      assert.equal(fine?.type, 'decision', JSON.stringify(fine));
      if (fine?.type === 'decision') assert.equal(fine.decision.reason, 'entry');
    } finally {
      g.close();
    }
  });
});

describe('a stay stored with an impossible entry time', () => {
  let t: TestCloud;
  let lot: { lotId: string; entry: string; exit: string };
  let driver: { token: string; accountId: string };

  before(async () => {
    t = await TestCloud.start();
    lot = await setUpLot(t);
    driver = await signUp(t, 'old-row@example.com');
  });
  after(async () => {
    await t.stop();
  });

  /** links `plate`, lets it in now; returns the session id */
  async function parkedCar(plate: string): Promise<string> {
    const link = await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate, accountId: driver.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.entry, plate, confidence: 0.99, at: t.clock.now() },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.sessionId as string;
  }

  const exit = (plate: string) =>
    t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: eventId(), laneId: lot.exit, plate, confidence: 0.99, at: t.clock.now() },
    });

  it('holds the exit for review, renders the driver page, refuses a match and takes a waiver', async () => {
    t.clock.advance(3_600_000);
    const sessionId = await parkedCar('OLD1234');
    // an earlier version stored the entry time in seconds
    await storeEntryTime(t, sessionId, Math.floor(t.clock.now() / 1000));
    t.clock.advance(3_600_000);

    // the driver's page renders (the stay, recorded as entered before the plate was linked, is not theirs to see)
    const page = await t.call('GET', '/web/api/me/parking', { token: driver.token });
    assert.equal(page.status, 200, JSON.stringify(page.body));

    const out = await exit('OLD1234');
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.deepEqual([out.body.action, out.body.reason, out.body.sessionId], ['hold', 'review', sessionId]);
    const reviews = await t.call('GET', '/v1/reviews?status=open', { token: ADMIN_KEY });
    const review = reviews.body.reviews.find((r: { id: string }) => r.id === out.body.reviewId);
    assert.equal(review.reason, 'stay-too-long');
    assert.deepEqual(review.candidateSessionIds, [sessionId]);
    // the same car read again at the barrier: held again, no failure
    const again = await exit('OLD1234');
    assert.deepEqual([again.status, again.body.reason], [200, 'review']);

    const match = await t.call('POST', `/v1/reviews/${review.id}/resolve`, {
      token: ADMIN_KEY,
      body: { action: 'match', sessionId },
    });
    assert.equal(match.status, 409, JSON.stringify(match.body));
    assert.equal(match.body.error.code, 'STAY_TOO_LONG');
    const waive = await t.call('POST', `/v1/reviews/${review.id}/resolve`, {
      token: ADMIN_KEY,
      body: { action: 'waive', sessionId },
    });
    assert.equal(waive.status, 200, JSON.stringify(waive.body));
    assert.deepEqual([waive.body.decision.action, waive.body.decision.reason], ['open', 'waived']);
    const after = await t.call('GET', '/web/api/me/parking', { token: driver.token });
    assert.equal(after.status, 200);
    assert.equal(after.body.sessions.length, 0);
  });

  it('shows a car left longer than a tariff prices (over 400 days) without a fee, and holds it for review', async () => {
    const sessionId = await parkedCar('LNG1234');
    t.clock.advance(401 * DAY_MS);
    const signIn = await t.call('POST', '/v1/auth/token', {
      body: { email: 'old-row@example.com', password: 'correct horse battery' },
    });
    const page = await t.call('GET', '/web/api/me/parking', { token: signIn.body.token });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    const stay = page.body.sessions.find((s: { id: string }) => s.id === sessionId);
    assert.equal(stay.fee, null);
    assert.match(stay.note, /entry time of this stay cannot be right/);
    const out = await exit('LNG1234');
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.deepEqual([out.body.action, out.body.reason], ['hold', 'review']);
    assert.equal((await t.call('GET', '/health')).status, 200);
  });
});
