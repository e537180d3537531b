/**
 * The gate hub over a real WebSocket on 127.0.0.1: only a registered gate
 * that signs the challenge with its key is admitted; events must be signed,
 * fresh, in order and for the gate's own lanes. Wrong keys, forged
 * signatures, replays, unknown and revoked gates are refused, counted in
 * /metrics, and change nothing in the database. A gate status is taken only
 * from an admitted gate, without lanes of another lot.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { CloudToGate, GateStatus, LaneEventBody } from '../../proto/v1/messages.js';
import type { GateStatusSeen } from '../../cloud/gates/gate-activity.js';
import { authSigningBytes, laneEventSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { GATE_REVOKED_CLOSE } from '../../cloud/gates/gate-hub.js';
import { PgStore } from '../../cloud/storage/postgres/pg-store.js';
import { ADMIN_KEY, TestCloud, setUpLot, signUp } from './cloud-harness.js';
import { topUpAndWait } from './top-up.js';

class RawGate {
  private readonly inbox: CloudToGate[] = [];
  private readonly waiting: Array<(m: CloudToGate) => void> = [];
  private n = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as CloudToGate;
      const w = this.waiting.shift();
      if (w) w(m);
      else this.inbox.push(m);
    });
  }
  static async connect(url: string): Promise<RawGate> {
    const ws = new WebSocket(url.replace('http', 'ws') + '/v1/gates/ws');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new RawGate(ws);
  }
  next(): Promise<CloudToGate> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
  id(): string {
    return `t${++this.n}`;
  }
  /** hello -> challenge -> auth (signed by `key` as `gateId`); returns the answer to auth */
  async handshake(gateId: string, key: GateKey): Promise<CloudToGate> {
    this.send({ v: 1, type: 'hello', id: this.id(), gateId, software: 'test' });
    const challenge = await this.next();
    assert.equal(challenge.type, 'challenge');
    if (challenge.type !== 'challenge') throw new Error('no challenge');
    const signature = key.sign(authSigningBytes(gateId, challenge.nonce));
    this.send({ v: 1, type: 'auth', id: this.id(), gateId, nonce: challenge.nonce, signature });
    const answer = await this.next();
    if (answer.type === 'welcome') assert.equal((await this.next()).type, 'policy');
    return answer;
  }
  async event(body: LaneEventBody, key: GateKey, tamper?: (b: LaneEventBody) => LaneEventBody): Promise<CloudToGate> {
    const signature = key.sign(laneEventSigningBytes(body));
    this.send({ v: 1, type: 'laneEvent', id: this.id(), event: tamper ? tamper(body) : body, signature });
    return this.next();
  }
  close(): void {
    this.ws.close();
  }
}

describe('gate hub', () => {
  let t: TestCloud;
  const key = GateKey.generate();
  let gateId: string;
  let lanes: { lotId: string; entry: string; exit: string };
  let otherLotLane: string;
  let counter = 0;
  const event = (plate: string, over: Partial<LaneEventBody> = {}): LaneEventBody => ({
    gateId,
    counter: ++counter,
    eventId: `ev-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    laneId: lanes.entry,
    kind: 'entry',
    plate,
    confidence: 0.98,
    evidenceDigest: 'ab'.repeat(32),
    triggeredAt: t.clock.now(),
    at: t.clock.now(),
    ...over,
  });

  before(async () => {
    t = await TestCloud.start();
    lanes = await setUpLot(t);
    otherLotLane = (await setUpLot(t, 'Other lot')).entry;
    const gate = await t.call('POST', `/v1/lots/${lanes.lotId}/gates`, {
      token: ADMIN_KEY,
      body: { name: 'gate-1', publicKey: key.publicKey },
    });
    assert.equal(gate.status, 201, JSON.stringify(gate.body));
    gateId = gate.body.id;
  });
  after(async () => {
    await t.stop();
  });

  it('admits a gate that signs the challenge, and applies its signed events once', async () => {
    const g = await RawGate.connect(t.url);
    const welcome = await g.handshake(gateId, key);
    assert.equal(welcome.type, 'welcome');
    const e = event('GHB1234');
    const d = await g.event(e, key);
    assert.equal(d.type, 'decision');
    if (d.type === 'decision')
      assert.deepEqual([d.decision.action, d.decision.reason, d.decision.duplicate], ['open', 'entry', false]);
    // the same event again (a resend after a lost answer): the first decision, nothing applied twice
    const again = await g.event(e, key);
    assert.equal(again.type, 'decision');
    if (again.type === 'decision') assert.equal(again.decision.duplicate, true);
    g.close();
  });

  it('refuses wrong keys, forged signatures, replays, stale events and foreign lanes, and stores nothing for them', async () => {
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const refusals: string[] = [];
    const code = (m: CloudToGate) => (m.type === 'error' ? m.code : `answered ${m.type}`);

    const stranger = await RawGate.connect(t.url);
    refusals.push(code(await stranger.handshake(gateId, GateKey.generate())));
    refusals.push(code(await stranger.event(event('GHB0001'), key)));
    stranger.close();

    const unknown = await RawGate.connect(t.url);
    refusals.push(code(await unknown.handshake(`gat_${'0'.repeat(32)}`, key)));
    unknown.close();

    const g = await RawGate.connect(t.url);
    assert.equal((await g.handshake(gateId, key)).type, 'welcome');
    refusals.push(code(await g.event(event('GHB0002'), key, (b) => ({ ...b, plate: 'GHB0003' }))));
    refusals.push(code(await g.event(event('GHB0004', { counter: 1 }), key)));
    refusals.push(code(await g.event(event('GHB0005', { at: t.clock.now() - 8 * 86_400_000 }), key)));
    refusals.push(code(await g.event(event('GHB0006', { laneId: otherLotLane }), key)));
    refusals.push(code(await g.event(event('GHB0007', { kind: 'exit' }), key)));
    g.send({ v: 2, type: 'ping', id: 'x1' });
    refusals.push(code(await g.next()));
    g.send('{"v":1,"type":"ping","id":"x2","pad":"' + 'x'.repeat(70_000) + '"}');
    refusals.push(code(await g.next()));
    g.send('not json');
    refusals.push(code(await g.next()));
    g.close();

    assert.deepEqual(refusals, [
      'BAD_SIGNATURE',
      'NOT_AUTHENTICATED',
      'UNKNOWN_GATE',
      'BAD_SIGNATURE',
      'REPLAY',
      'STALE',
      'WRONG_LANE',
      'WRONG_LANE',
      'UNSUPPORTED_VERSION',
      'TOO_LARGE',
      'BAD_MESSAGE',
    ]);
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'no refused gate message changed the database');
    const metrics = await t.call('GET', '/metrics', { token: ADMIN_KEY });
    assert.match(metrics.body, /platepay_gate_refusals_total\{code="REPLAY"\} 1/);
    assert.match(metrics.body, /platepay_gate_refusals_total\{code="BAD_SIGNATURE"\} 2/);
  });

  it('takes a gate status only from an admitted gate, leaving out lanes of another lot', async () => {
    const status = (g: RawGate, laneIds: string[]): GateStatus => ({
      v: 1,
      type: 'gateStatus',
      id: g.id(),
      at: t.clock.now(),
      outboxDepth: 2,
      lanes: laneIds.map((laneId) => ({ laneId, state: 'idle', barrier: 'closed' })),
    });
    const activity = t.cloud.gates.activity;

    const stranger = await RawGate.connect(t.url);
    stranger.send(status(stranger, [lanes.entry]));
    const refused = await stranger.next();
    assert.equal(refused.type === 'error' && refused.code, 'NOT_AUTHENTICATED');
    stranger.close();
    assert.equal(activity.statusOf(gateId), null);

    const g = await RawGate.connect(t.url);
    assert.equal((await g.handshake(gateId, key)).type, 'welcome');
    const reported = once(activity, 'status');
    g.send(status(g, [lanes.entry, otherLotLane, lanes.exit]));
    const [seen] = (await reported) as [GateStatusSeen];
    assert.equal(seen.gateId, gateId);
    assert.equal(seen.outboxDepth, 2);
    assert.deepEqual(
      seen.lanes.map((l) => l.laneId),
      [lanes.entry, lanes.exit],
    );
    assert.equal(activity.laneStatus(otherLotLane), null, 'a lane of another lot is ignored');
    assert.equal(activity.laneStatus(lanes.entry)?.barrier, 'closed');
    // one way: nothing answers it, so the next message is the answer to a ping
    const ping = g.id();
    g.send({ v: 1, type: 'ping', id: ping });
    const pong = await g.next();
    assert.ok(pong.type === 'pong' && pong.re === ping, JSON.stringify(pong));
    // dropped once the gate is gone
    const gone = once(activity, 'disconnected');
    g.close();
    await gone;
    assert.equal(activity.statusOf(gateId), null);
    assert.equal(activity.laneStatus(lanes.entry), null);
  });

  it("charges a linked car's exit in one transaction of 7 statements on PostgreSQL (BEGIN and COMMIT included)", async () => {
    const driver = await signUp(t, 'gate-exit@example.com');
    await topUpAndWait(t.driverCall(driver.token), driver.accountId, 10_000, 'gate-exit');
    const plate = 'GHX5678';
    const link = await t.call('POST', '/v1/me/links', {
      token: driver.token,
      body: { plate, accountId: driver.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const g = await RawGate.connect(t.url);
    assert.equal((await g.handshake(gateId, key)).type, 'welcome');
    // the link pushes a new allow-list to the gate (a policy) at some point: not the answer looked for
    const decided = async (body: LaneEventBody) => {
      let m = await g.event(body, key);
      while (m.type === 'policy') m = await g.next();
      return m;
    };
    const entry = await decided(event(plate));
    assert.equal(entry.type === 'decision' && entry.decision.reason, 'entry');
    t.clock.advance(90 * 60_000);
    const store = t.cloud.store;
    const before = store instanceof PgStore ? store.commitStats() : null;
    const exit = await decided(event(plate, { laneId: lanes.exit, kind: 'exit' }));
    assert.equal(exit.type, 'decision');
    if (exit.type === 'decision') {
      assert.deepEqual([exit.decision.action, exit.decision.reason], ['open', 'charged']);
      assert.ok((exit.decision.fee ?? 0) > 0);
    }
    if (store instanceof PgStore) {
      const after = store.commitStats();
      assert.equal(after.commits - before!.commits, 1, 'one transaction');
      // the gate with what the decision starts from (event id, lane, lot, candidate sessions); the session's
      // lock with the plate's payer; the charge's reference with the driver's hold; the balance with the
      // revenue account; the writes
      assert.equal(after.roundTrips - before!.roundTrips, 7);
    }
    g.close();
  });

  it('refuses a revoked gate, and closes a connection it opened before', async () => {
    const g = await RawGate.connect(t.url);
    assert.equal((await g.handshake(gateId, key)).type, 'welcome');
    const closed = once(g.ws, 'close');
    await t.call('POST', `/v1/gates/${gateId}/revoke`, { token: ADMIN_KEY });
    const [code] = (await closed) as [number];
    assert.equal(code, GATE_REVOKED_CLOSE);
    const again = await RawGate.connect(t.url);
    const answer = await again.handshake(gateId, key);
    assert.equal(answer.type === 'error' && answer.code, 'REVOKED_GATE');
    again.close();
  });
});
