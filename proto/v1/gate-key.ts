/**
 * Gate identity: an Ed25519 key pair per gate unit. The private key file is
 * one line, `platepay-gate-key-v1 <base64 32-byte seed>`; the public key is
 * 32 bytes base64, which an operator registers for the gate
 * (`POST /v1/lots/:lotId/gates`). Signing and verifying use node:crypto.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

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

/** Verifies an Ed25519 signature (base64) by a raw public key (base64); false for anything malformed. */
/** Parsed public keys by their base64 text: parsing costs as much as verifying (bounded; cleared when full). */
const parsedKeys = new Map<string, KeyObject>();
const MAX_PARSED_KEYS = 10_000;

function publicKeyObject(publicKey: string): KeyObject | null {
  const cached = parsedKeys.get(publicKey);
  if (cached) return cached;
  const raw = Buffer.from(publicKey, 'base64');
  if (raw.length !== 32) return null;
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  if (parsedKeys.size >= MAX_PARSED_KEYS) parsedKeys.clear();
  parsedKeys.set(publicKey, key);
  return key;
}

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
