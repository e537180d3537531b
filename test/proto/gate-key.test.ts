/**
 * Gate public keys (proto/v1/gate-key.ts): only points of Ed25519's
 * prime-order group are taken. A small-order key (the identity point, all
 * zeros) verified any message signed with R = identity and S = 0 under
 * node:crypto, with no private key at all; a mixed-order key (a real key
 * plus a small-order point) is refused too. Generated keys always pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { GateKey, gatePublicKeyProblem, verifyGateSignature } from '../../proto/v1/gate-key.js';

const IDENTITY = Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex');
/** R = the identity point, S = 0: valid under a small-order key for every message */
const FORGED = Buffer.concat([IDENTITY, Buffer.alloc(32)]).toString('base64');

describe('gatePublicKeyProblem', () => {
  it('refuses small-order keys, and no signature verifies under them (the forgery did before)', () => {
    for (const raw of [IDENTITY, Buffer.alloc(32)]) {
      const key = raw.toString('base64');
      assert.match(gatePublicKeyProblem(key) ?? '', /weak Ed25519 key/, key);
      assert.equal(verifyGateSignature(key, Buffer.from('any message'), FORGED), false, key);
    }
  });

  it('refuses a real key with a small-order part added (mixed order)', () => {
    const real = ed25519.Point.fromBytes(Buffer.from(GateKey.generate().publicKey, 'base64'));
    // the point of order 2 is (0, -1)
    const order2 = ed25519.Point.fromBytes(
      Buffer.from('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'),
    );
    const mixed = Buffer.from(real.add(order2).toBytes()).toString('base64');
    assert.match(gatePublicKeyProblem(mixed) ?? '', /weak Ed25519 key/);
  });

  it('refuses what is not a 32-byte canonical base64 point', () => {
    assert.match(gatePublicKeyProblem(Buffer.alloc(31).toString('base64')) ?? '', /32-byte/);
    assert.match(gatePublicKeyProblem(`${GateKey.generate().publicKey} `) ?? '', /32-byte/);
    assert.match(gatePublicKeyProblem(Buffer.alloc(32, 0xff).toString('base64')) ?? '', /not a point/);
  });

  it('property: every generated key passes and verifies its own signatures', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 64 }),
        (seed, message) => {
          const key = GateKey.fromSeed(Buffer.from(seed));
          assert.equal(gatePublicKeyProblem(key.publicKey), null);
          assert.ok(verifyGateSignature(key.publicKey, Buffer.from(message), key.sign(Buffer.from(message))));
          assert.equal(verifyGateSignature(key.publicKey, Buffer.from(message), FORGED), false);
        },
      ),
      { numRuns: 30 },
    );
  });
});
