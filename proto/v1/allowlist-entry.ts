/**
 * The offline allowlist's entries, made the same way by the cloud (for each
 * plate a lot needs) and by a gate (for the plate it just read): scrypt of
 * the normalised plate with the lot's current salt, 32 bytes, hex.
 *
 * Why scrypt: plates are few and easy to list (a Chinese province has about
 * 10^9, a US series about 2 x 10^8), so a fast hash of them is reversed by
 * trying them all. With ALLOWLIST_KDF one entry costs about 3 ms of CPU and
 * 2 MiB of memory: nothing for a gate checking one read, but about 4,000
 * times a SHA-256 for whoever enumerates plates against a leaked list, and
 * again for every lot and every salt. Measured figures and the trade-off:
 * docs/offline-allowlist.md.
 */
import { scrypt } from 'node:crypto';
import { normalisePlate } from '../plate-syntax.js';
import type { AllowlistKdf } from './messages.js';

/** scrypt N = 2^11, r = 8, p = 1: about 3 ms and 2 MiB per entry on one core of the reference machine */
export const ALLOWLIST_KDF: AllowlistKdf = { name: 'scrypt', cost: 2048, blockSize: 8, parallelization: 1 };

const ENTRY_BYTES = 32;

function options(kdf: AllowlistKdf) {
  const { cost: N, blockSize: r, parallelization: p } = kdf;
  return { N, r, p, maxmem: 256 * N * r * p };
}

/** the plate as the allowlist knows it: normalised as the cloud stores it (a text that is no plate is taken as is) */
function plateBytes(plate: string): Buffer {
  return Buffer.from(normalisePlate(plate) ?? plate, 'utf8');
}

/** The entry for a plate (hex), computed on libuv's thread pool. */
export function allowlistEntry(plate: string, salt: Buffer, kdf: AllowlistKdf): Promise<string> {
  return new Promise((resolve, reject) => {
    scrypt(plateBytes(plate), salt, ENTRY_BYTES, options(kdf), (err, key) =>
      err ? reject(err) : resolve(key.toString('hex')),
    );
  });
}
