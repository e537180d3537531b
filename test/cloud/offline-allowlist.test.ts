/**
 * The offline allowlist a gate gets, over a real WebSocket from a real
 * cloud: only the plates its own lot needs (linked, in good standing, parked
 * there now or lately), a car that enters is added before its decision, the
 * salt is per lot and replaced at each rotation, and a plate whose last stay
 * is long past drops off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { allowlistEntry } from '../../proto/v1/allowlist-entry.js';
import { laneEventSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { LaneEventBody, Policy } from '../../proto/v1/messages.js';
import { RawGate } from '../faults/raw-gate.js';
import { ADMIN_KEY, TestCloud, setUpLot, signUp } from './cloud-harness.js';
import { topUpAndWait } from './top-up.js';

const DAY = 24 * 3_600_000;

/** the plates of `plates` that the policy allows (each hashed as a gate would) */
async function allowed(policy: Policy, plates: string[]): Promise<string[]> {
  const salt = Buffer.from(policy.salt, 'base64');
  const out: string[] = [];
  for (const p of plates) if (policy.allow.includes(await allowlistEntry(p, salt, policy.kdf))) out.push(p);
  return out;
}

describe('offline allowlist', () => {
  let t: TestCloud;
  let lotA: { lotId: string; entry: string; exit: string };
  let lotB: { lotId: string; entry: string; exit: string };
  const keyA = GateKey.generate();
  const keyB = GateKey.generate();
  let gateA: string;
  let gateB: string;
  let gA: RawGate;
  let gB: RawGate;
  let counterA = 0;
  const plates = {
    parksAtA: 'OAL1001',
    parksAtB: 'OAL2002',
    parksNowhere: 'OAL3003',
    brokeAtA: 'OAL4004',
    unlinkedAtA: 'OAL5005',
    arrivesAtA: 'OAL6006',
  };
  const all = Object.values(plates);

  async function link(email: string, plate: string, topUp: number): Promise<void> {
    const d = await signUp(t, email);
    if (topUp > 0) await topUpAndWait(t.driverCall(d.token), d.accountId, topUp, 'r');
    const l = await t.call('POST', '/v1/me/links', { token: d.token, body: { plate, accountId: d.accountId } });
    assert.equal(l.status, 201, JSON.stringify(l.body));
  }

  async function event(laneId: string, plate: string, id: string): Promise<void> {
    const r = await t.call('POST', '/v1/events', {
      token: ADMIN_KEY,
      body: { eventId: id, laneId, plate, confidence: 0.99, at: t.clock.now() },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }

  async function registerGate(lotId: string, key: GateKey): Promise<string> {
    const r = await t.call('POST', `/v1/lots/${lotId}/gates`, {
      token: ADMIN_KEY,
      body: { name: 'g', publicKey: key.publicKey },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  }

  before(async () => {
    t = await TestCloud.start();
    lotA = await setUpLot(t, 'Allow A');
    lotB = await setUpLot(t, 'Allow B');
    await link('a@example.com', plates.parksAtA, 10_000); // enough for the day it stays (2 x 3,000)
    await link('b@example.com', plates.parksAtB, 5_000);
    await link('n@example.com', plates.parksNowhere, 5_000);
    await link('z@example.com', plates.brokeAtA, 0);
    await link('v@example.com', plates.arrivesAtA, 5_000);
    await event(lotA.entry, plates.parksAtA, 'a-in');
    await event(lotB.entry, plates.parksAtB, 'b-in');
    await event(lotA.entry, plates.brokeAtA, 'z-in');
    await event(lotA.entry, plates.unlinkedAtA, 'u-in');
    gateA = await registerGate(lotA.lotId, keyA);
    gateB = await registerGate(lotB.lotId, keyB);
    gA = await RawGate.connect(t.url);
    await gA.handshake(gateA, keyA);
    gB = await RawGate.connect(t.url);
    await gB.handshake(gateB, keyB);
  });
  after(async () => {
    gA?.close();
    gB?.close();
    await t.stop();
  });

  it("sends a gate only its own lot's linked plates in good standing, under the lot's own salt", async () => {
    const [a, b] = await Promise.all([gA.policyAfter(0), gB.policyAfter(0)]);
    assert.equal(a.lotId, lotA.lotId);
    assert.equal(b.lotId, lotB.lotId);
    assert.deepEqual(await allowed(a, all), [plates.parksAtA]);
    assert.deepEqual(await allowed(b, all), [plates.parksAtB]);
    assert.equal(a.allow.length, 1, 'nothing else on the list');
    assert.notEqual(a.salt, b.salt, 'a salt per lot');
    assert.equal(a.kdf.name, 'scrypt');
  });

  it("adds a linked car that enters to its lot's list before the decision, and to no other lot's", async () => {
    const seen = gA.policies.length;
    const e: LaneEventBody = {
      gateId: gateA,
      counter: ++counterA,
      eventId: 'v-in',
      laneId: lotA.entry,
      kind: 'entry',
      plate: plates.arrivesAtA,
      confidence: 0.98,
      evidenceDigest: 'ab'.repeat(32),
      triggeredAt: t.clock.now(),
      at: t.clock.now(),
    };
    gA.send({ v: 1, type: 'laneEvent', id: gA.id(), event: e, signature: keyA.sign(laneEventSigningBytes(e)) });
    const decided = await gA.next();
    assert.ok(decided?.type === 'decision' && decided.decision.action === 'open', JSON.stringify(decided));
    assert.equal(gA.policies.length, seen + 1, 'the new list came before the decision');
    assert.deepEqual(await allowed(gA.policies.at(-1)!, all), [plates.parksAtA, plates.arrivesAtA]);
    for (const p of gB.policies) assert.deepEqual(await allowed(p, all), [plates.parksAtB]);
    // the refresh reads the same from the database
    await t.cloud.gates.pushPolicyToAll();
    const refreshed = await gA.policyAfter(seen + 1);
    assert.deepEqual(await allowed(refreshed, all), [plates.parksAtA, plates.arrivesAtA]);
  });

  it('replaces the salt at each rotation and drops a plate whose last stay is long past', async () => {
    const before = gA.policies.at(-1)!;
    t.clock.advance(DAY);
    let seen = gA.policies.length;
    await t.cloud.gates.pushPolicyToAll();
    const rotated = await gA.policyAfter(seen);
    assert.notEqual(rotated.salt, before.salt, 'a new salt');
    assert.equal(
      rotated.allow.filter((h) => before.allow.includes(h)).length,
      0,
      'no entry is the same under the new salt',
    );
    assert.deepEqual(await allowed(rotated, all), [plates.parksAtA, plates.arrivesAtA]);

    // one car leaves; 91 days on, it is no longer a regular here (the other is still parked)
    await event(lotA.exit, plates.parksAtA, 'a-out');
    t.clock.advance(91 * DAY);
    seen = gA.policies.length;
    await t.cloud.gates.pushPolicyToAll();
    assert.deepEqual(await allowed(await gA.policyAfter(seen), all), [plates.arrivesAtA]);
  });
});
