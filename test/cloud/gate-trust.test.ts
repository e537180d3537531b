/**
 * What a gate's socket may and may not get, over a real WebSocket on
 * 127.0.0.1 with a real cloud: an event id used before gets its first
 * decision only when the content is the same (as over HTTP); a recorded
 * auth message replayed on another connection is refused; a revoked gate's
 * open connection is closed at once; an unauthenticated socket may not send
 * more than the handshake needs.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { GATE_REVOKED_CLOSE } from '../../cloud/gates/gate-hub.js';
import type { CloudToGate, LaneEventBody } from '../../proto/v1/messages.js';
import { MAX_CROP_BYTES, MAX_HANDSHAKE_BYTES, MAX_MESSAGE_BYTES } from '../../proto/v1/messages.js';
import { authSigningBytes, laneEventSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { RawGate } from '../faults/raw-gate.js';
import { ADMIN_KEY, TestCloud, setUpLot } from './cloud-harness.js';

interface TestGate {
  id: string;
  key: GateKey;
  counter: number;
}

describe('gate trust', () => {
  let t: TestCloud;
  let lotA: { lotId: string; entry: string; exit: string };
  let lotB: { lotId: string; entry: string; exit: string };

  before(async () => {
    t = await TestCloud.start();
    lotA = await setUpLot(t, 'Trust A');
    lotB = await setUpLot(t, 'Trust B');
  });
  after(async () => {
    await t.stop();
  });

  async function registerGate(lotId: string, name: string): Promise<TestGate> {
    const key = GateKey.generate();
    const r = await t.call('POST', `/v1/lots/${lotId}/gates`, {
      token: ADMIN_KEY,
      body: { name, publicKey: key.publicKey },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { id: r.body.id as string, key, counter: 0 };
  }

  const body = (g: TestGate, over: Partial<LaneEventBody> & Pick<LaneEventBody, 'eventId' | 'laneId'>) => ({
    gateId: g.id,
    counter: ++g.counter,
    kind: 'entry' as const,
    plate: 'TRU1111',
    confidence: 0.97,
    evidenceDigest: 'ef'.repeat(32),
    triggeredAt: t.clock.now(),
    at: t.clock.now(),
    ...over,
  });

  async function send(raw: RawGate, g: TestGate, e: LaneEventBody): Promise<CloudToGate | null> {
    raw.send({ v: 1, type: 'laneEvent', id: raw.id(), event: e, signature: g.key.sign(laneEventSigningBytes(e)) });
    return raw.next();
  }

  it('gives a reused event id its first decision only for the same content, and refuses other content telling nothing', async () => {
    const a = await registerGate(lotA.lotId, 'reuse-a');
    const b = await registerGate(lotB.lotId, 'reuse-b');
    const ga = await RawGate.connect(t.url);
    await ga.handshake(a.id, a.key);
    const gb = await RawGate.connect(t.url);
    await gb.handshake(b.id, b.key);

    const first = body(a, { eventId: 'reuse-1', laneId: lotA.entry });
    const decided = await send(ga, a, first);
    assert.ok(decided?.type === 'decision', JSON.stringify(decided));
    assert.deepEqual(
      [decided.decision.action, decided.decision.reason, decided.decision.duplicate],
      ['open', 'entry', false],
    );
    // the same event again (its answer was lost): the first decision, flagged
    const resent = await send(ga, a, first);
    assert.ok(resent?.type === 'decision', JSON.stringify(resent));
    assert.deepEqual(resent.decision, { ...decided.decision, duplicate: true });
    // the same content under a higher counter (sent again after a restart) is a resend too
    const later = await send(ga, a, { ...first, counter: ++a.counter });
    assert.ok(later?.type === 'decision' && later.decision.duplicate, JSON.stringify(later));

    await t.cloud.checkpointNow();
    const before = t.snapshot();
    const reused: Array<[string, RawGate, LaneEventBody]> = [
      ['another plate', ga, body(a, { eventId: 'reuse-1', laneId: lotA.entry, plate: 'TRU2222' })],
      ['another lane', ga, body(a, { eventId: 'reuse-1', laneId: lotA.exit, kind: 'exit' })],
      ['another confidence', ga, body(a, { eventId: 'reuse-1', laneId: lotA.entry, confidence: 0.5 })],
      ['a gate of another lot', gb, body(b, { eventId: 'reuse-1', laneId: lotB.entry })],
      ['an old counter', ga, { ...body(a, { eventId: 'reuse-1', laneId: lotA.entry, plate: 'TRU2222' }), counter: 1 }],
    ];
    for (const [what, raw, e] of reused) {
      const answer = await send(raw, raw === ga ? a : b, e);
      assert.ok(answer?.type === 'error', `${what}: ${JSON.stringify(answer)}`);
      assert.equal(answer.code, 'EVENT_ID_REUSED', what);
      assert.equal(answer.retryable, false, what);
      assert.ok(!('decision' in answer), what);
      assert.doesNotMatch(answer.message, /TRU1111|entry|open|ses_|stl_/, `${what}: the first event is not told`);
    }
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'nothing was stored for a reused id, and no counter moved');
    // over HTTP the same id with other content is the same refusal
    const http = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: 'reuse-1', laneId: lotA.entry, plate: 'TRU2222', confidence: 0.97, at: first.at },
    });
    assert.deepEqual([http.status, http.body.error.code], [409, 'EVENT_ID_REUSED']);
    // and both connections go on serving
    const next = await send(gb, b, body(b, { eventId: 'reuse-2', laneId: lotB.entry, plate: 'TRU3333' }));
    assert.ok(next?.type === 'decision' && next.decision.action === 'open', JSON.stringify(next));
    ga.close();
    gb.close();
  });

  it("refuses a recorded auth message replayed on another connection: it answers that connection's challenge only", async () => {
    const g = await registerGate(lotA.lotId, 'replayed');
    const first = await RawGate.connect(t.url);
    first.send({ v: 1, type: 'hello', id: first.id(), gateId: g.id, software: 'test' });
    const challenge = await first.next();
    assert.ok(challenge?.type === 'challenge', JSON.stringify(challenge));
    const recorded = {
      v: 1,
      type: 'auth',
      id: 'recorded',
      gateId: g.id,
      nonce: challenge.nonce,
      signature: g.key.sign(authSigningBytes(g.id, challenge.nonce)),
    };
    first.send(recorded);
    assert.equal((await first.next())?.type, 'welcome');
    first.close();
    await first.closed;

    const thief = await RawGate.connect(t.url);
    // without asking for a challenge
    thief.send(recorded);
    const bare = await thief.next();
    assert.ok(bare?.type === 'error' && bare.code === 'BAD_SIGNATURE', JSON.stringify(bare));
    // after asking for one: the recorded answer is to another nonce
    thief.send({ v: 1, type: 'hello', id: thief.id(), gateId: g.id, software: 'test' });
    assert.equal((await thief.next())?.type, 'challenge');
    thief.send(recorded);
    const stale = await thief.next();
    assert.ok(stale?.type === 'error' && stale.code === 'BAD_SIGNATURE', JSON.stringify(stale));
    // still not admitted: a lane event is refused
    const refused = await send(thief, g, body(g, { eventId: 'replayed-1', laneId: lotA.entry }));
    assert.ok(refused?.type === 'error' && refused.code === 'NOT_AUTHENTICATED', JSON.stringify(refused));
    assert.equal(thief.policies.length, 0, 'no policy for a connection that was not admitted');
    thief.close();
  });

  it('closes a connection that sends more than the handshake needs before it is admitted; the normal limit after', async () => {
    const g = await registerGate(lotA.lotId, 'frames');
    for (const size of [MAX_HANDSHAKE_BYTES + 1, 4 * 1024 * 1024]) {
      const early = await RawGate.connect(t.url);
      const hello = JSON.stringify({ v: 1, type: 'hello', id: 'h', gateId: g.id, software: 'test' });
      early.send(hello.replace('{', '{' + ' '.repeat(size - hello.length)));
      assert.equal(await early.closed, 1009, `a frame of ${size} bytes before admission`);
    }
    // the handshake itself fits
    const raw = await RawGate.connect(t.url);
    await raw.handshake(g.id, g.key);
    // admitted: a lane event with a plate crop (tens of KiB) is taken
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(MAX_CROP_BYTES - 4, 7)]);
    const e = body(g, { eventId: 'frames-1', laneId: lotA.entry, plate: 'TRU4444', crop: jpeg.toString('base64') });
    const sent = JSON.stringify({
      v: 1,
      type: 'laneEvent',
      id: 'big',
      event: e,
      signature: g.key.sign(laneEventSigningBytes(e)),
    });
    assert.ok(sent.length > 40_000);
    raw.send(sent);
    const decided = await raw.next();
    assert.ok(decided?.type === 'decision' && decided.decision.action === 'open', JSON.stringify(decided));
    // and a message over 64 KiB is refused with an answer, the connection kept
    raw.send(`{"v":1,"type":"ping","id":"p","pad":"${'x'.repeat(MAX_MESSAGE_BYTES)}"}`);
    const refused = await raw.next();
    assert.ok(refused?.type === 'error' && refused.code === 'TOO_LARGE', JSON.stringify(refused));
    await raw.ping();
    raw.close();
  });

  it("closes a revoked gate's open connection at once: no more statuses taken, no more policy sent", async () => {
    const g = await registerGate(lotA.lotId, 'to-revoke');
    const raw = await RawGate.connect(t.url);
    await raw.handshake(g.id, g.key);
    await raw.policyAfter(0); // the policy of its admission
    const activity = t.cloud.gates.activity;
    const reported = once(activity, 'status');
    raw.send({ v: 1, type: 'gateStatus', id: raw.id(), at: t.clock.now(), outboxDepth: 0, lanes: [] });
    await reported;
    assert.notEqual(activity.statusOf(g.id), null, 'the dashboard follows the gate');

    const revoked = await t.call('POST', `/v1/gates/${g.id}/revoke`, { token: ADMIN_KEY });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await t.cloud.gates.pushPolicyToAll();
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      raw.closed,
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still open after 10 s'), 10_000))),
    ]).finally(() => clearTimeout(timer));
    assert.equal(code, GATE_REVOKED_CLOSE, "the revoked gate's connection was closed");
    assert.equal(raw.policies.length, 1, 'no policy after the revocation');
    assert.equal(activity.statusOf(g.id), null, 'the dashboard no longer shows the revoked gate');
    // and it cannot come back
    const again = await RawGate.connect(t.url);
    again.send({ v: 1, type: 'hello', id: again.id(), gateId: g.id, software: 'test' });
    const challenge = await again.next();
    assert.ok(challenge?.type === 'challenge', JSON.stringify(challenge));
    const signature = g.key.sign(authSigningBytes(g.id, challenge.nonce));
    again.send({ v: 1, type: 'auth', id: again.id(), gateId: g.id, nonce: challenge.nonce, signature });
    const answer = await again.next();
    assert.ok(answer?.type === 'error' && answer.code === 'REVOKED_GATE', JSON.stringify(answer));
    again.close();
  });
});
