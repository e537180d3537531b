/**
 * Trigger -> barrier-open times from the gates to the latency chart: a gate
 * admitted over a real WebSocket reports each lane's last opened car in its
 * status (`lastOpened`); the cloud keeps the first report of each event
 * stored for that lane (never one of another lane, one it never had, or one
 * triggered after its read) and GET /v1/lots/:lotId/stats/latency gives
 * each lane's nearest-rank p50 and p99, on the test backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { CloudToGate, GateStatus } from '../../proto/v1/messages.js';
import { authSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { ADMIN_KEY, T0, TEST_BACKEND, TestCloud, queryCloudDatabase, setUpLot } from './cloud-harness.js';

type Lanes = GateStatus['lanes'];

/** A gate over a raw WebSocket: admitted with its key, then sends statuses. */
async function admittedGate(url: string, gateId: string, key: GateKey) {
  const ws = new WebSocket(url.replace('http', 'ws') + '/v1/gates/ws');
  const inbox: CloudToGate[] = [];
  const waiting: Array<(m: CloudToGate) => void> = [];
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as CloudToGate;
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = () =>
    inbox.length ? Promise.resolve(inbox.shift()!) : new Promise<CloudToGate>((r) => waiting.push(r));
  let n = 0;
  const send = (m: object) => ws.send(JSON.stringify({ v: 1, id: `m${++n}`, ...m }));
  send({ type: 'hello', gateId, software: 'test' });
  const challenge = await next();
  if (challenge.type !== 'challenge') throw new Error(`no challenge: ${JSON.stringify(challenge)}`);
  send({
    type: 'auth',
    gateId,
    nonce: challenge.nonce,
    signature: key.sign(authSigningBytes(gateId, challenge.nonce)),
  });
  assert.equal((await next()).type, 'welcome');
  assert.equal((await next()).type, 'policy');
  return {
    status: (lanes: Lanes) => send({ type: 'gateStatus', at: T0, outboxDepth: 0, lanes }),
    next,
    close: () => ws.close(),
  };
}

describe(`barrier timings from gate statuses to the latency chart (${TEST_BACKEND})`, { timeout: 120_000 }, () => {
  let t: TestCloud;
  let lot: { lotId: string; entry: string; exit: string };
  let gate: Awaited<ReturnType<typeof admittedGate>>;
  const latency = async () =>
    (
      await t.call('GET', `/v1/lots/${lot.lotId}/stats/latency?from=2026-03-02&to=2026-03-02`, {
        token: ADMIN_KEY,
      })
    ).body;
  /** polls the chart until its lanes have `counts` timings (a status has no answer to wait on) */
  const latencyWith = async (counts: number[]) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const body = await latency();
      const got = body.lanes.map((l: { count: number }) => l.count);
      if (JSON.stringify(got) === JSON.stringify(counts)) return body;
      if (Date.now() > deadline) throw new Error(`lanes with ${JSON.stringify(got)} timings, not ${counts}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const idle = (laneId: string, lastOpened?: Lanes[number]['lastOpened']): Lanes[number] => ({
    laneId,
    state: 'idle',
    barrier: 'closed',
    ...(lastOpened ? { lastOpened } : {}),
  });

  before(async () => {
    t = await TestCloud.start();
    lot = await setUpLot(t);
    const key = GateKey.generate();
    const registered = await t.call('POST', `/v1/lots/${lot.lotId}/gates`, {
      token: ADMIN_KEY,
      body: { name: 'gate-1', publicKey: key.publicKey },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    gate = await admittedGate(t.url, registered.body.id, key);
  });
  after(async () => {
    gate?.close();
    await t?.stop();
  });

  /** a lane event stored for `laneId`, read 50 ms after the car triggered the lane at `triggeredAt` */
  const laneEvent = async (laneId: string, id: string, triggeredAt: number) => {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: {
        eventId: id,
        laneId,
        plate: `TMR${id.replace(/\D/g, '').padStart(4, '0')}`,
        confidence: 0.99,
        at: triggeredAt + 50,
      },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };

  it('gives each lane p50 and p99 by nearest rank; the first report of an event stays', async () => {
    // a status without timings (as gates before `lastOpened` send) is taken and stores nothing
    gate.status([idle(lot.entry), idle(lot.exit)]);
    // entry lane: 1..100 ms in a shuffled order; exit lane: 300, 700, 500
    const entryTimes = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    const exitTimes = [300, 700, 500];
    for (let i = 0; i < entryTimes.length; i++) await laneEvent(lot.entry, `in-${i}`, T0 + i * 1000);
    for (let i = 0; i < exitTimes.length; i++) await laneEvent(lot.exit, `out-${i}`, T0 + i * 1000);
    await laneEvent(lot.entry, 'in-yesterday', T0 - 86_400_000);
    for (const [i, ms] of entryTimes.entries()) {
      const exit = exitTimes[i];
      gate.status([
        idle(lot.entry, { eventId: `in-${i}`, triggeredAt: T0 + i * 1000, triggerToBarrierMs: ms }),
        idle(
          lot.exit,
          exit === undefined
            ? undefined
            : { eventId: `out-${i}`, triggeredAt: T0 + i * 1000, triggerToBarrierMs: exit },
        ),
      ]);
      // the same status again, as a gate repeats it every few seconds
      if (i % 10 === 0)
        gate.status([idle(lot.entry, { eventId: `in-${i}`, triggeredAt: T0 + i * 1000, triggerToBarrierMs: ms })]);
    }
    // a second report of an event with another time does not replace the first
    gate.status([idle(lot.entry, { eventId: 'in-0', triggeredAt: T0, triggerToBarrierMs: 99_999 })]);
    // a car the day before the range is not in it
    gate.status([idle(lot.entry, { eventId: 'in-yesterday', triggeredAt: T0 - 86_400_000, triggerToBarrierMs: 1 })]);
    const body = await latencyWith([100, 3]);
    assert.deepEqual(
      body.lanes.map((l: Record<string, unknown>) => [l.laneId, l.laneName, l.count, l.p50Ms, l.p99Ms, l.maxMs]),
      [
        [lot.entry, 'in', 100, 50, 99, 100],
        [lot.exit, 'out', 3, 500, 700, 700],
      ],
    );
  });

  it('stores no timing for an event of another lane, one never stored, or one triggered after its read', async () => {
    await laneEvent(lot.exit, 'out-3', T0 + 10_000);
    await laneEvent(lot.exit, 'out-4', T0 + 20_000);
    gate.status([
      // an entry-lane event claimed by the exit lane
      idle(lot.exit, { eventId: 'in-5', triggeredAt: T0 + 5000, triggerToBarrierMs: 1 }),
      // an event id the cloud never had
      idle(lot.entry, { eventId: 'in-never', triggeredAt: T0, triggerToBarrierMs: 1 }),
    ]);
    // triggered after its own read (out-4 was read at T0 + 20,050)
    gate.status([idle(lot.exit, { eventId: 'out-4', triggeredAt: T0 + 30_000, triggerToBarrierMs: 1 })]);
    // then a good one: once it is in, the statuses before it were handled
    gate.status([idle(lot.exit, { eventId: 'out-3', triggeredAt: T0 + 10_000, triggerToBarrierMs: 400 })]);
    await latencyWith([100, 4]);
    const stored = await queryCloudDatabase<{ event_id: string; lane_id: string }>(
      t.dbPath,
      `SELECT event_id, lane_id FROM barrier_timings WHERE event_id IN ('in-5', 'in-never', 'out-4', 'out-3') ORDER BY event_id`,
    );
    assert.deepEqual(
      stored.map((r) => [r.event_id, r.lane_id]),
      [
        ['in-5', lot.entry],
        ['out-3', lot.exit],
      ],
      'in-5 keeps the timing its own lane reported; the others store nothing',
    );
  });

  it(
    "agrees with PostgreSQL's own percentile_disc",
    { skip: TEST_BACKEND === 'postgres' ? false : 'PostgreSQL only (the suite runs on SQLite)' },
    async () => {
      const rows = await queryCloudDatabase<{ lane_id: string; p50: number; p99: number }>(
        t.dbPath,
        `SELECT lane_id,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY trigger_to_barrier_ms) AS p50,
           percentile_disc(0.99) WITHIN GROUP (ORDER BY trigger_to_barrier_ms) AS p99
         FROM barrier_timings WHERE lot_id = ? AND triggered_at >= ? GROUP BY lane_id`,
        [lot.lotId, T0 - 8 * 3_600_000],
      );
      const byLane = new Map(rows.map((r) => [r.lane_id, [Number(r.p50), Number(r.p99)]]));
      for (const l of (await latency()).lanes) assert.deepEqual([l.p50Ms, l.p99Ms], byLane.get(l.laneId), l.laneName);
    },
  );

  it('refuses a timing past the limit, naming the field', async () => {
    gate.status([idle(lot.entry, { eventId: 'in-stuck', triggeredAt: T0, triggerToBarrierMs: 600_001 })]);
    const refused = await gate.next();
    assert.equal(refused.type, 'error');
    if (refused.type === 'error') {
      assert.equal(refused.code, 'BAD_MESSAGE');
      assert.match(refused.message, /triggerToBarrierMs/);
    }
    assert.equal((await latency()).lanes[0].count, 100);
  });
});
