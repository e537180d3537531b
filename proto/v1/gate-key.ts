/**
 * Gate identity: an Ed25519 key pair per gate unit. The private key file is
 * one line, `platepay-gate-key-v1 <base64 32-byte seed>`; the public key is
 * 32 bytes base64, which an operator registers for the gate
 * (`POST /v1/lots/:lotId/gates`). Signing and verifying use node:crypto.
 *
 * A public key is refused (`gatePublicKeyProblem`) unless it is a point of
 * Ed25519's prime-order group: node:crypto verifies a signature by a
 * small-order key such as the identity point (AQAA...A=) without any
 * private key, so anyone could sign for a gate registered with one.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const FILE_PREFIX = 'platepay-gate-key-v1 ';

export class GateKeyError extends Error {
  readonly code = 'BAD_GATE_KEY';
}

export class GateKey {
  private constructor(
    private readonly privateKey: KeyObject,
    /** raw 32-byte public key, base64 */
    readonly publicKey: string,
    private readonly seed: Buffer,
  ) {}

  static generate(): GateKey {
    return GateKey.fromSeed(randomBytes(32));
  }

  static fromSeed(seed: Buffer): GateKey {
    if (seed.length !== 32) throw new GateKeyError('a gate key seed is 32 bytes');
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    return new GateKey(privateKey, spki.subarray(SPKI_PREFIX.length).toString('base64'), Buffer.from(seed));
  }

  static parse(text: string): GateKey {
    const line = text.trim();
    if (!line.startsWith(FILE_PREFIX)) throw new GateKeyError(`a gate key file starts with "${FILE_PREFIX.trim()}"`);
    const seed = Buffer.from(line.slice(FILE_PREFIX.length), 'base64');
    if (seed.length !== 32) throw new GateKeyError('the gate key is not 32 bytes of base64');
    return GateKey.fromSeed(seed);
  }

  format(): string {
    return FILE_PREFIX + this.seed.toString('base64') + '\n';
  }

  sign(data: Buffer): string {
    return sign(null, data, this.privateKey).toString('base64');
  }
}

/**
 * Why `publicKey` (base64) cannot be a gate's public key, or null when it
 * can: it must be 32 bytes in canonical base64, a point on Ed25519, and in
 * the prime-order group (neither small-order nor mixed with a small-order
 * part; a generated key always is).
 */
export function gatePublicKeyProblem(publicKey: string): string | null {
  const raw = Buffer.from(publicKey, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== publicKey)
    return 'must be a 32-byte Ed25519 public key in base64';
  let point;
  try {
    point = ed25519.Point.fromBytes(raw);
  } catch {
    return 'is not a point on Ed25519';
  }
  if (point.isSmallOrder() || !point.isTorsionFree()) {
    return 'is a weak Ed25519 key (a point of small order, or with a small-order part) that signatures could be forged for';
  }
  return null;
}

/** Parsed public keys by their base64 text: parsing and checking cost more than verifying (bounded; cleared when full). */
const parsedKeys = new Map<string, KeyObject | null>();
const MAX_PARSED_KEYS = 10_000;

function publicKeyObject(publicKey: string): KeyObject | null {
  const cached = parsedKeys.get(publicKey);
  if (cached !== undefined) return cached;
  const key =
    gatePublicKeyProblem(publicKey) === null
      ? createPublicKey({
          key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKey, 'base64')]),
          format: 'der',
          type: 'spki',
        })
      : null;
  if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear();
  parsedKeys.set(publicKey, key);
  return key;
}

/** Verifies an Ed25519 signature (base64) by a raw public key (base64); false for anything malformed or weak. */
export function verifyGateSignature(publicKey: string, data: Buffer, signature: string): boolean {
  try {
    const sig = Buffer.from(signature, 'base64');
    if (sig.length !== 64) return false;
    const key = publicKeyObject(publicKey);
    if (!key) return false;
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}
