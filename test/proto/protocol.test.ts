/**
 * The v1 wire contract: the committed schema.json is current, messages
 * round-trip, and bad input (not JSON, wrong version, unknown type, missing
 * or extra fields, too large) is a ProtoError naming what is wrong.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ProtoError,
  decodeCloudToGate,
  decodeGateToCloud,
  cropDigest,
  encodeMessage,
  laneEventSigningBytes,
} from '../../proto/v1/codec.js';
import { GateKey, verifyGateSignature } from '../../proto/v1/gate-key.js';
import type { GateStatus, LaneEventBody } from '../../proto/v1/messages.js';
import { MAX_CROP_BYTES, MAX_HANDSHAKE_BYTES } from '../../proto/v1/messages.js';
import { schemaDocument } from '../../proto/v1/schema-document.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const body: LaneEventBody = {
  gateId: `gat_${'a'.repeat(32)}`,
  counter: 7,
  eventId: 'ev-7',
  laneId: `lan_${'b'.repeat(32)}`,
  kind: 'exit',
  plate: '皖A12345',
  confidence: 0.97,
  evidenceDigest: 'cd'.repeat(32),
  triggeredAt: 1_790_000_000_000,
  at: 1_790_000_000_250,
};

describe('protocol v1', () => {
  it('has a current schema.json (run `npm run proto` after changing messages.ts)', () => {
    assert.equal(readFileSync(`${ROOT}proto/v1/schema.json`, 'utf8'), schemaDocument());
  });

  it('fits the largest valid hello, auth and ping in the frame a gate may send before it is admitted', () => {
    const id = 'x'.repeat(100);
    const gateId = body.gateId;
    const largest = [
      // every character of `software` escaped by JSON.stringify (\u0001: six bytes each)
      { v: 1, type: 'hello', id, gateId, software: '\u0001'.repeat(100) },
      { v: 1, type: 'auth', id, gateId, nonce: 'N'.repeat(43) + '=', signature: 'S'.repeat(86) + '==' },
      { v: 1, type: 'ping', id },
    ] as const;
    for (const m of largest) {
      const text = encodeMessage(m);
      assert.equal(decodeGateToCloud(text).type, m.type, 'a valid message');
      assert.ok(Buffer.byteLength(text) <= MAX_HANDSHAKE_BYTES, `${m.type}: ${Buffer.byteLength(text)} bytes`);
    }
  });

  it('round-trips a signed lane event and verifies its signature', () => {
    const key = GateKey.generate();
    const signature = key.sign(laneEventSigningBytes(body));
    const decoded = decodeGateToCloud(encodeMessage({ v: 1, type: 'laneEvent', id: 'm1', event: body, signature }));
    assert.equal(decoded.type, 'laneEvent');
    if (decoded.type !== 'laneEvent') return;
    assert.deepEqual(decoded.event, body);
    assert.ok(verifyGateSignature(key.publicKey, laneEventSigningBytes(decoded.event), decoded.signature));
    assert.ok(!verifyGateSignature(key.publicKey, laneEventSigningBytes({ ...body, plate: '皖A12346' }), signature));
    assert.ok(!verifyGateSignature(GateKey.generate().publicKey, laneEventSigningBytes(body), signature));
    assert.equal(GateKey.parse(key.format()).publicKey, key.publicKey);
  });

  it("signs a lane event's plate crop by its digest, keeps events without one as before, and bounds its size", () => {
    const key = GateKey.generate();
    const crop = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]).toString('base64');
    const withCrop: LaneEventBody = { ...body, crop };
    const signature = key.sign(laneEventSigningBytes(withCrop));
    const decoded = decodeGateToCloud(encodeMessage({ v: 1, type: 'laneEvent', id: 'm2', event: withCrop, signature }));
    if (decoded.type !== 'laneEvent') return assert.fail('not a lane event');
    assert.ok(verifyGateSignature(key.publicKey, laneEventSigningBytes(decoded.event), signature));
    const otherCrop = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 9, 9]).toString('base64');
    assert.ok(!verifyGateSignature(key.publicKey, laneEventSigningBytes({ ...body, crop: otherCrop }), signature));
    assert.ok(!verifyGateSignature(key.publicKey, laneEventSigningBytes(body), signature), 'a dropped crop is noticed');
    assert.ok(laneEventSigningBytes(withCrop).toString().includes(cropDigest(crop)));
    assert.ok(laneEventSigningBytes(body).toString().endsWith(',null]'), 'no crop: the bytes are as before');
    const huge = Buffer.alloc(MAX_CROP_BYTES + 3, 1).toString('base64');
    assert.throws(
      () =>
        decodeGateToCloud(
          encodeMessage({ v: 1, type: 'laneEvent', id: 'm3', event: { ...body, crop: huge }, signature }),
        ),
      (err: unknown) => err instanceof ProtoError && /crop/.test(err.message),
    );
  });

  it('decodes a gate status, and refuses one with a lane state or barrier it does not know', () => {
    const status: GateStatus = {
      v: 1,
      type: 'gateStatus',
      id: 's1',
      at: 1_790_000_000_000,
      outboxDepth: 0,
      lanes: [{ laneId: body.laneId, state: 'occupied', barrier: 'open' }],
    };
    assert.deepEqual(decodeGateToCloud(encodeMessage(status)), status);
    const lane = status.lanes[0]!;
    for (const [wrong, says] of [
      [{ ...status, lanes: [{ ...lane, barrier: 'ajar' }] }, /barrier/],
      [{ ...status, lanes: [{ ...lane, state: 'parked' }] }, /state/],
      [{ ...status, outboxDepth: -1 }, /outboxDepth/],
      [{ ...status, lanes: [{ ...lane, extra: 1 }] }, /lanes/],
    ] as const) {
      assert.throws(
        () => decodeGateToCloud(JSON.stringify(wrong)),
        (err: unknown) => err instanceof ProtoError && err.code === 'BAD_MESSAGE' && says.test(err.message),
      );
    }
  });

  const bad: Array<[string, string, string]> = [
    ['not JSON', '{', 'BAD_MESSAGE'],
    ['an array', '[]', 'BAD_MESSAGE'],
    ['version 2', '{"v":2,"type":"ping","id":"a"}', 'UNSUPPORTED_VERSION'],
    ['no version', '{"type":"ping","id":"a"}', 'UNSUPPORTED_VERSION'],
    ['an unknown type', '{"v":1,"type":"launch","id":"a"}', 'BAD_MESSAGE'],
    ['an extra field', '{"v":1,"type":"ping","id":"a","x":1}', 'BAD_MESSAGE'],
    ['a bad id', '{"v":1,"type":"ping","id":"a b"}', 'BAD_MESSAGE'],
    ['too large', JSON.stringify({ v: 1, type: 'ping', id: 'a', pad: 'x'.repeat(70_000) }), 'TOO_LARGE'],
  ];
  for (const [name, text, code] of bad) {
    it(`refuses ${name} with ${code}`, () => {
      assert.throws(
        () => decodeGateToCloud(text),
        (err: unknown) => err instanceof ProtoError && err.code === code && err.message.length > 0,
      );
    });
  }

  it('names the field that is wrong', () => {
    const wrong = {
      v: 1,
      type: 'laneEvent',
      id: 'm',
      event: { ...body, confidence: 2 },
      signature: 'A'.repeat(86) + '==',
    };
    assert.throws(() => decodeGateToCloud(JSON.stringify(wrong)), /confidence/);
  });

  it('never throws anything but ProtoError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        for (const decode of [decodeGateToCloud, decodeCloudToGate]) {
          try {
            decode(text);
          } catch (err) {
            assert.ok(err instanceof ProtoError, String(err));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
