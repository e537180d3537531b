/**
 * Hostile protocol messages, with property-based fuzzing (fast-check):
 * malformed, truncated, oversized, wrongly versioned and wrong-typed
 * messages (arbitrary JSON and mutations of valid messages) are refused by
 * the codec with a ProtoError naming the problem; over a real WebSocket the
 * hub answers each with an error (or closes a connection that sends a frame
 * over the limit), stores nothing, and goes on serving another gate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ProtoError,
  decodeCloudToGate,
  decodeGateToCloud,
  encodeMessage,
  laneEventSigningBytes,
} from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { LaneEventBody } from '../../proto/v1/messages.js';
import { MAX_HANDSHAKE_BYTES, MAX_MESSAGE_BYTES } from '../../proto/v1/messages.js';
import { ADMIN_KEY, TestCloud, setUpLot } from '../cloud/cloud-harness.js';
import { RawGate } from './raw-gate.js';
import { Hostile, SIG, eventBody, hostileMessage, refusal, validMessages } from './hostile-fixtures.js';

describe('hostile protocol messages: the codec refuses each, naming the problem', () => {
  it('accepts the valid messages the mutations start from', () => {
    for (const m of Object.values(validMessages)) assert.equal(decodeGateToCloud(JSON.stringify(m)).type, m.type);
  });

  it('refuses mutations of valid messages with the right code and a message naming the field (property)', () => {
    fc.assert(
      fc.property(hostileMessage, (h) => {
        const err = refusal(h.data);
        assert.equal(err.code, h.code, `${h.what}: ${err.message}`);
        assert.match(err.message, h.says, h.what);
        assert.ok(err.message.length <= 600, `${h.what}: a message of ${err.message.length} characters`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses arbitrary JSON values, and never throws anything but a ProtoError (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, asBuffer) => {
        const text = JSON.stringify(value) ?? 'null';
        for (const decode of [decodeGateToCloud, decodeCloudToGate]) {
          try {
            decode(asBuffer ? Buffer.from(text) : text);
            assert.fail(`accepted ${text.slice(0, 80)}`);
          } catch (err) {
            assert.ok(err instanceof ProtoError, String(err));
            assert.ok(['BAD_MESSAGE', 'UNSUPPORTED_VERSION'].includes(err.code), err.code);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes 64 KiB exactly and refuses one byte more', () => {
    const ping = JSON.stringify(validMessages.ping);
    const exact = ping.replace('{', '{' + ' '.repeat(MAX_MESSAGE_BYTES - ping.length));
    assert.equal(Buffer.byteLength(exact), MAX_MESSAGE_BYTES);
    assert.equal(decodeGateToCloud(exact).type, 'ping');
    assert.equal(refusal(' ' + exact).code, 'TOO_LARGE');
    // the limit is in bytes, not characters: 3-byte characters count three times
    const wide = JSON.stringify({ ...validMessages.hello, software: '界'.repeat(22_000) });
    assert.ok(wide.length < MAX_MESSAGE_BYTES && Buffer.byteLength(wide) > MAX_MESSAGE_BYTES);
    assert.equal(refusal(wide).code, 'TOO_LARGE');
  });

  it('refuses prototype keys and deep nesting without polluting anything or overflowing the stack', () => {
    const cases: Array<[string, string]> = [
      ['__proto__ at the top', '{"v":1,"type":"ping","id":"p","__proto__":{"polluted":true}}'],
      ['constructor.prototype', '{"v":1,"type":"ping","id":"p","constructor":{"prototype":{"polluted":true}}}'],
      ['type "__proto__"', '{"v":1,"type":"__proto__","id":"p"}'],
      ['type "constructor"', '{"v":1,"type":"constructor","id":"p"}'],
      [
        '__proto__ in the event',
        JSON.stringify(validMessages.laneEvent).replace('"gateId"', '"__proto__":{},"gateId"'),
      ],
      ['20000 nested arrays', `{"v":1,"type":"ping","id":"p","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
      [
        'an event of 5000 nested objects',
        `{"v":1,"type":"laneEvent","id":"e","event":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"signature":"${SIG}"}`,
      ],
    ];
    for (const [what, text] of cases) {
      const err = refusal(text);
      assert.equal(err.code, 'BAD_MESSAGE', `${what}: ${err.message}`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  });

  it('refuses cloud messages that break their schema on the gate side too', () => {
    const decision = {
      v: 1,
      type: 'decision',
      id: 'c1',
      re: 'e1',
      decision: {
        eventId: 'ev-7',
        action: 'open',
        reason: 'charged',
        fee: 500,
        currency: 'CNY',
        settlementId: null,
        reviewId: null,
        duplicate: false,
      },
    };
    assert.equal(decodeCloudToGate(JSON.stringify(decision)).type, 'decision');
    const policy = {
      v: 1,
      type: 'policy',
      id: 'c2',
      issuedAt: 1,
      lotId: 'lot_1',
      salt: 'A'.repeat(22) + '==',
      kdf: { name: 'scrypt', cost: 2048, blockSize: 8, parallelization: 1 },
      allow: ['ab'.repeat(32)],
    };
    assert.equal(decodeCloudToGate(JSON.stringify(policy)).type, 'policy');
    const bad: Array<[string, unknown, RegExp]> = [
      ['a negative fee', { ...decision, decision: { ...decision.decision, fee: -1 } }, /fee/],
      ['action "launch"', { ...decision, decision: { ...decision.decision, action: 'launch' } }, /action/],
      ['a lowercase currency', { ...decision, decision: { ...decision.decision, currency: 'cny' } }, /currency/],
      ['no decision', { ...decision, decision: undefined }, /decision/],
      ['a policy with a short hash', { ...policy, allow: ['ab'] }, /allow/],
      ['a policy with a scrypt cost that is no power of two', { ...policy, kdf: { ...policy.kdf, cost: 3000 } }, /kdf/],
      ['a policy with a 1 GiB scrypt', { ...policy, kdf: { ...policy.kdf, cost: 1 << 20, blockSize: 8 } }, /kdf/],
      ['a policy hashed with SHA-256', { ...policy, kdf: { ...policy.kdf, name: 'sha256' } }, /kdf/],
      ['a policy for no lot', { ...policy, lotId: '' }, /lotId/],
      ['a gate message', validMessages.hello, /unknown message type/],
    ];
    for (const [what, message, says] of bad) {
      assert.throws(
        () => decodeCloudToGate(JSON.stringify(message)),
        (err: unknown) => err instanceof ProtoError && err.code === 'BAD_MESSAGE' && says.test(err.message),
        what,
      );
    }
  });
});

describe('hostile protocol messages over a real gate connection', () => {
  let t: TestCloud;
  let lanes: { lotId: string; entry: string; exit: string };
  const goodKey = GateKey.generate();
  const hostileKey = GateKey.generate();
  let goodGate: string;
  let hostileGate: string;
  let counter = 0;

  before(async () => {
    t = await TestCloud.start();
    lanes = await setUpLot(t);
    for (const [name, key] of [
      ['good', goodKey],
      ['hostile', hostileKey],
    ] as const) {
      const r = await t.call('POST', `/v1/lots/${lanes.lotId}/gates`, {
        token: ADMIN_KEY,
        body: { name, publicKey: key.publicKey },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      if (name === 'good') goodGate = r.body.id;
      else hostileGate = r.body.id;
    }
  });
  after(async () => {
    await t.stop();
  });

  const signedEvent = (gateId: string, key: GateKey, plate: string) => {
    const body: LaneEventBody = {
      ...eventBody,
      gateId,
      counter: ++counter,
      eventId: `hostile-${counter}`,
      laneId: lanes.entry,
      kind: 'entry',
      plate,
      triggeredAt: t.clock.now(),
      at: t.clock.now(),
    };
    return { body, signature: key.sign(laneEventSigningBytes(body)) };
  };

  /** sends each hostile message and checks the hub answers it with the codec's code; pings the good gate between */
  async function barrage(h: RawGate, good: RawGate, messages: Hostile[]): Promise<void> {
    // (bytes that are not UTF-8 make a text frame the WebSocket layer itself refuses: tried last, below)
    for (const [i, m] of messages.filter((x) => typeof x.data === 'string').entries()) {
      const expected = refusal(m.data);
      h.send(m.data);
      const answer = await h.next();
      assert.ok(answer?.type === 'error', `${m.what}: expected an error, got ${JSON.stringify(answer)}`);
      if (answer?.type !== 'error') return;
      assert.equal(answer.code, expected.code, `${m.what}: ${answer.message}`);
      assert.equal(answer.re, expected.re, m.what);
      assert.ok(answer.message.length > 0 && !answer.retryable, m.what);
      if (i % 10 === 0) await good.ping();
    }
  }

  it('answers each malformed message with an error, stores nothing and keeps serving another gate', async () => {
    const good = await RawGate.connect(t.url);
    await good.handshake(goodGate, goodKey);
    await t.cloud.checkpointNow();
    const before = t.snapshot();

    // before authenticating (a frame larger than the handshake needs closes the connection: gate-trust.test.ts)
    const h = await RawGate.connect(t.url);
    const batch = fc
      .sample(hostileMessage, { numRuns: 80, seed: 42 })
      .filter((m) => Buffer.byteLength(m.data) <= MAX_HANDSHAKE_BYTES);
    assert.ok(batch.length >= 40, `${batch.length} hostile messages small enough to try before admission`);
    await barrage(h, good, batch);

    // after authenticating as a registered gate
    await h.handshake(hostileGate, hostileKey);
    const { body, signature } = signedEvent(hostileGate, hostileKey, 'HOS1234');
    const valid = { v: 1, type: 'laneEvent', id: 'hx', event: body, signature };
    const eventMutations: Hostile[] = [
      ...(['plate', 'counter', 'confidence', 'laneId', 'at'] as const).map((f): Hostile => ({
        what: `a signed event with ${f} retyped`,
        data: JSON.stringify({ ...valid, event: { ...body, [f]: [body[f]] } }),
        code: 'BAD_MESSAGE',
        says: new RegExp(f),
      })),
      {
        what: 'a signed event with a 33-character plate',
        data: JSON.stringify({ ...valid, event: { ...body, plate: 'A'.repeat(33) } }),
        code: 'BAD_MESSAGE',
        says: /plate/,
      },
      {
        what: 'a signed event with confidence 1.5',
        data: JSON.stringify({ ...valid, event: { ...body, confidence: 1.5 } }),
        code: 'BAD_MESSAGE',
        says: /confidence/,
      },
      {
        what: 'a signed event with a negative counter',
        data: JSON.stringify({ ...valid, event: { ...body, counter: -1 } }),
        code: 'BAD_MESSAGE',
        says: /counter/,
      },
      {
        what: 'a decision sent by a gate',
        data: JSON.stringify({ v: 1, type: 'decision', id: 'd', re: 'x', decision: {} }),
        code: 'BAD_MESSAGE',
        says: /unknown message type/,
      },
      ...fc.sample(hostileMessage, { numRuns: 60, seed: 7 }),
    ];
    await barrage(h, good, eventMutations);
    // a binary frame is not part of the protocol
    h.send(Buffer.from(encodeMessage({ v: 1, type: 'ping', id: 'bin' })), true);
    const binary = await h.next();
    assert.ok(binary?.type === 'error' && binary.code === 'BAD_MESSAGE', JSON.stringify(binary));
    // the hostile gate's connection still works for a valid ping
    await h.ping();

    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'no refused message changed the database');

    // a frame over the socket limit (4 MiB) closes that connection only
    h.send('x'.repeat(5 * 1024 * 1024));
    assert.equal(await h.closed, 1009);
    await good.ping();
    const e = signedEvent(goodGate, goodKey, 'GOD1234');
    good.send({ v: 1, type: 'laneEvent', id: good.id(), event: e.body, signature: e.signature });
    const decision = await good.next();
    assert.ok(
      decision?.type === 'decision' && decision.decision.action === 'open' && decision.decision.reason === 'entry',
      JSON.stringify(decision),
    );
    // a text frame that is not UTF-8 closes that connection only (1007, by the WebSocket layer)
    const garbled = await RawGate.connect(t.url);
    garbled.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
    assert.equal(await garbled.closed, 1007);
    await good.ping();
    // and a new connection is admitted as before
    const again = await RawGate.connect(t.url);
    await again.handshake(hostileGate, hostileKey);
    await again.ping();
    again.close();
    good.close();
  });
});
