/** What the Merkle tests share: a tree of 2,100 leaves, its reference roots, sized views of the stored nodes, and the fast-check arbitraries. */
import fc from 'fast-check';
import type { Hash, SubtreeSource } from '../../cloud/ledger/merkle.js';
import { HASH_SIZE, MemorySubtrees, leafHash, referenceRoot } from '../../cloud/ledger/merkle.js';

export const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex');

export const unhex = (s: string): Hash => Buffer.from(s, 'hex');

export const hexes = (hs: readonly Hash[]): string[] => hs.map(hex);

/** A copy of `h` with byte `at` XORed with `mask` (mask 1..255). */
export function flipped(h: Hash, at: number, mask: number): Hash {
  const out = Buffer.from(h);
  out[at % out.length] ^= mask;
  return out;
}

export function bitLength(n: number): number {
  return n.toString(2).length;
}

/**
 * A view of a store limited to a tree of `size` leaves: asking for a node
 * that is not complete at that size throws (as a real store of that size
 * would), and every lookup is counted.
 */
export class SizedView implements SubtreeSource {
  lookups = 0;
  constructor(
    private readonly inner: SubtreeSource,
    private readonly size: number,
  ) {}
  node(level: number, index: number): Hash {
    this.lookups++;
    if ((index + 1) * 2 ** level > this.size) {
      throw new RangeError(`node (${level}, ${index}) is not complete at size ${this.size}`);
    }
    return this.inner.node(level, index);
  }
}

// One prefix of leaf hashes shared by every run: the tree of size n is its first n leaves.
export const MAX = 2100;

export const LEAVES: Hash[] = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`settlement record ${i}`)));

export const STORE = new MemorySubtrees();

for (const leaf of LEAVES) STORE.append(leaf);

const ROOT_CACHE = new Map<number, Hash>();

/** referenceRoot of the first n leaves (memoised: it is the slow, naive one) */
export function refRoot(n: number): Hash {
  let r = ROOT_CACHE.get(n);
  if (r === undefined) {
    r = referenceRoot(LEAVES.slice(0, n));
    ROOT_CACHE.set(n, r);
  }
  return r;
}

export const sizeArb = fc.integer({ min: 1, max: MAX });

export const sizeAndIndex = sizeArb.chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));

export const oldAndNew = sizeArb.chain((newSize) =>
  fc.tuple(fc.integer({ min: 1, max: newSize }), fc.constant(newSize)),
);

export const strictOldAndNew = fc
  .integer({ min: 2, max: MAX })
  .chain((newSize) => fc.tuple(fc.integer({ min: 1, max: newSize - 1 }), fc.constant(newSize)));

export const mask = fc.integer({ min: 1, max: 255 });

export const bytePos = fc.nat({ max: HASH_SIZE - 1 });
