/**
 * RFC 9162 Merkle hashing (cloud/ledger/merkle.ts): known answers from the
 * Certificate Transparency reference tree, proofs built from stored complete
 * subtrees equal the naive reference proofs for random trees up to 2,100
 * leaves, verification accepts them and rejects every tampered variant, and
 * malformed input is refused (builders throw RangeError, verifiers say false).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Hash, SubtreeSource } from '../../cloud/ledger/merkle.js';
import {
  EMPTY_ROOT,
  HASH_SIZE,
  MemorySubtrees,
  completedParents,
  consistencyProof,
  hashesEqual,
  inclusionProof,
  leafHash,
  leafHashOfText,
  nodeHash,
  rangeHash,
  referenceConsistencyProof,
  referenceInclusionProof,
  referenceRoot,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../cloud/ledger/merkle.js';

const hex = (h: Uint8Array): string => Buffer.from(h).toString('hex');
const unhex = (s: string): Hash => Buffer.from(s, 'hex');
const hexes = (hs: readonly Hash[]): string[] => hs.map(hex);

/** A copy of `h` with byte `at` XORed with `mask` (mask 1..255). */
function flipped(h: Hash, at: number, mask: number): Hash {
  const out = Buffer.from(h);
  out[at % out.length] ^= mask;
  return out;
}

function bitLength(n: number): number {
  return n.toString(2).length;
}

/**
 * A view of a store limited to a tree of `size` leaves: asking for a node
 * that is not complete at that size throws (as a real store of that size
 * would), and every lookup is counted.
 */
class SizedView implements SubtreeSource {
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
const MAX = 2100;
const LEAVES: Hash[] = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`settlement record ${i}`)));
const STORE = new MemorySubtrees();
for (const leaf of LEAVES) STORE.append(leaf);
const ROOT_CACHE = new Map<number, Hash>();
/** referenceRoot of the first n leaves (memoised: it is the slow, naive one) */
function refRoot(n: number): Hash {
  let r = ROOT_CACHE.get(n);
  if (r === undefined) {
    r = referenceRoot(LEAVES.slice(0, n));
    ROOT_CACHE.set(n, r);
  }
  return r;
}

const sizeArb = fc.integer({ min: 1, max: MAX });
const sizeAndIndex = sizeArb.chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
const oldAndNew = sizeArb.chain((newSize) => fc.tuple(fc.integer({ min: 1, max: newSize }), fc.constant(newSize)));
const strictOldAndNew = fc
  .integer({ min: 2, max: MAX })
  .chain((newSize) => fc.tuple(fc.integer({ min: 1, max: newSize - 1 }), fc.constant(newSize)));
const mask = fc.integer({ min: 1, max: 255 });
const bytePos = fc.nat({ max: HASH_SIZE - 1 });

// ---------------------------------------------------------------------------

describe('merkle: known answers (RFC 6962 / 9162 reference tree)', () => {
  const data = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
    (h) => Buffer.from(h, 'hex'),
  );
  const leaves = data.map((d) => leafHash(d));
  const store = new MemorySubtrees();
  for (const leaf of leaves) store.append(leaf);

  const roots = [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];

  it('the empty root is SHA-256 of the empty string', () => {
    assert.equal(hex(EMPTY_ROOT), roots[0]);
    assert.equal(HASH_SIZE, 32);
    assert.equal(hex(treeRoot(store, 0)), roots[0]);
    assert.equal(hex(referenceRoot([])), roots[0]);
  });

  it('the roots of every prefix of the reference tree', () => {
    for (let n = 0; n <= 8; n++) {
      assert.equal(hex(treeRoot(store, n)), roots[n], `treeRoot size ${n}`);
      assert.equal(hex(referenceRoot(leaves.slice(0, n))), roots[n], `referenceRoot size ${n}`);
    }
  });

  it('leaf and node hashes use the 0x00 / 0x01 prefixes', () => {
    assert.equal(hex(leafHash(new Uint8Array(0))), roots[1]);
    assert.equal(hex(nodeHash(leaves[0]!, leaves[1]!)), roots[2]);
    assert.equal(leafHash(data[3]!).length, HASH_SIZE);
  });

  it('leafHashOfText is leafHash of the UTF-8 bytes (property)', () => {
    assert.equal(hex(leafHashOfText('')), roots[1]);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (text) => {
        assert.equal(hex(leafHashOfText(text)), hex(leafHash(Buffer.from(text, 'utf8'))));
      }),
      { numRuns: 200 },
    );
  });

  it('nodeHash returns a fresh hash each call (no shared buffer)', () => {
    const a = nodeHash(leaves[0]!, leaves[1]!);
    const b = nodeHash(leaves[2]!, leaves[3]!);
    assert.equal(hex(a), roots[2]);
    assert.equal(hex(nodeHash(a, b)), roots[4]);
    assert.notEqual(hex(a), hex(b));
  });

  const h = {
    l1: '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', // leaf 1
    l4: 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', // leaf 4
    m23: '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', // MTH(D[2:4])
    m45: '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', // MTH(D[4:6])
    m67: 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', // MTH(D[6:8])
    m4to8: '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4', // MTH(D[4:8])
  };
  const inclusions: Array<[number, number, string[]]> = [
    [0, 1, []],
    [0, 8, [h.l1, h.m23, h.m4to8]],
    [5, 8, [h.l4, h.m67, roots[4]!]],
    [2, 3, [roots[2]!]],
    [1, 5, [roots[1]!, h.m23, h.l4]],
  ];
  for (const [index, size, expected] of inclusions) {
    it(`inclusion proof of leaf ${index} in the tree of ${size}`, () => {
      assert.deepEqual(hexes(inclusionProof(store, index, size)), expected);
      assert.deepEqual(hexes(referenceInclusionProof(leaves.slice(0, size), index)), expected);
      assert.ok(verifyInclusion(leaves[index]!, index, size, expected.map(unhex), unhex(roots[size]!)));
    });
  }

  const consistencies: Array<[number, number, string[]]> = [
    [1, 1, []],
    [1, 8, [h.l1, h.m23, h.m4to8]],
    [6, 8, [h.m45, h.m67, roots[4]!]],
    [2, 5, [h.m23, h.l4]],
  ];
  for (const [oldSize, newSize, expected] of consistencies) {
    it(`consistency proof from ${oldSize} to ${newSize}`, () => {
      assert.deepEqual(hexes(consistencyProof(store, oldSize, newSize)), expected);
      assert.deepEqual(hexes(referenceConsistencyProof(leaves.slice(0, newSize), oldSize)), expected);
      assert.ok(
        verifyConsistency(oldSize, newSize, unhex(roots[oldSize]!), unhex(roots[newSize]!), expected.map(unhex)),
      );
    });
  }
});

// ---------------------------------------------------------------------------

describe('merkle: completedParents and MemorySubtrees', () => {
  it('lists exactly the nodes that become complete with each leaf, bottom-up', () => {
    // At size s, level L holds floor(s / 2^L) complete nodes; the ones leaf s - 1 adds are the new ones.
    for (let leaf = 0; leaf < MAX; leaf++) {
      const fresh: string[] = [];
      for (let level = 1; 2 ** level <= leaf + 1; level++) {
        const before = Math.floor(leaf / 2 ** level);
        const after = Math.floor((leaf + 1) / 2 ** level);
        for (let index = before; index < after; index++) fresh.push(`${level}/${index}`);
      }
      const listed = completedParents(leaf);
      assert.deepEqual(
        listed.map((n) => `${n.level}/${n.index}`),
        fresh,
        `leaf ${leaf}`,
      );
      assert.deepEqual(
        listed.map((n) => n.level),
        listed.map((_, i) => i + 1),
        `leaf ${leaf}: levels 1, 2, ... bottom-up`,
      );
    }
  });

  it('works beyond 32-bit indices', () => {
    assert.deepEqual(completedParents(2 ** 40 - 1).length, 40);
    assert.deepEqual(completedParents(2 ** 40 - 1).at(-1), { level: 40, index: 0 });
    assert.deepEqual(completedParents(2 ** 33 + 1), [{ level: 1, index: 2 ** 32 }]);
  });

  it('refuses a bad leaf index', () => {
    for (const bad of [-1, 0.5, NaN, Infinity]) assert.throws(() => completedParents(bad), RangeError);
  });

  it('a store of each size knows exactly its complete nodes', () => {
    const store = new MemorySubtrees();
    for (let size = 0; size <= 130; size++) {
      if (size > 0) store.append(LEAVES[size - 1]!);
      assert.equal(store.size, size);
      for (let level = 0; level <= 8; level++) {
        for (let index = 0; index * 2 ** level <= size + 2; index++) {
          const complete = (index + 1) * 2 ** level <= size;
          if (complete) {
            assert.ok(
              hashesEqual(store.node(level, index), STORE.node(level, index)),
              `size ${size}: ${level}/${index}`,
            );
          } else {
            assert.throws(() => store.node(level, index), RangeError, `size ${size}: node ${level}/${index}`);
          }
        }
      }
    }
  });

  it('every stored node of the 2,100-leaf store is the reference MTH of its leaves', () => {
    const nodeAt = (level: number, index: number): Hash =>
      referenceRoot(LEAVES.slice(index * 2 ** level, (index + 1) * 2 ** level));
    for (let level = 0; 2 ** level <= MAX; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= MAX; index++) {
        assert.ok(hashesEqual(STORE.node(level, index), nodeAt(level, index)), `node ${level}/${index}`);
      }
    }
  });

  it('refuses malformed leaves and lookups', () => {
    const store = new MemorySubtrees();
    assert.throws(() => store.append(new Uint8Array(31)), RangeError);
    assert.throws(() => store.append(new Uint8Array(33)), RangeError);
    store.append(LEAVES[0]!);
    for (const [level, index] of [
      [-1, 0],
      [0, -1],
      [0.5, 0],
      [0, 1.5],
      [0, NaN],
      [0, 1],
      [1, 0],
    ] as const) {
      assert.throws(() => store.node(level, index), RangeError, `${level}/${index}`);
    }
  });

  it('hands out copies: mutating a returned hash or an appended leaf changes nothing', () => {
    const store = new MemorySubtrees();
    const leaf = Buffer.from(LEAVES[0]!);
    store.append(leaf);
    store.append(LEAVES[1]!);
    leaf[0] ^= 1;
    store.node(0, 0)[0] ^= 1;
    treeRoot(store, 2)[0] ^= 1;
    treeRoot(store, 0)[0] ^= 1;
    assert.ok(hashesEqual(store.node(0, 0), LEAVES[0]!));
    assert.ok(hashesEqual(treeRoot(store, 2), refRoot(2)));
    assert.equal(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

// ---------------------------------------------------------------------------

describe('merkle: stored-node proofs equal the naive reference', () => {
  it('exhaustively for every tree up to 48 leaves', () => {
    for (let size = 1; size <= 48; size++) {
      const leaves = LEAVES.slice(0, size);
      const view = new SizedView(STORE, size);
      const root = treeRoot(view, size);
      assert.ok(hashesEqual(root, referenceRoot(leaves)), `root ${size}`);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(view, index, size);
        assert.deepEqual(hexes(proof), hexes(referenceInclusionProof(leaves, index)), `inclusion ${index}/${size}`);
        assert.ok(verifyInclusion(LEAVES[index]!, index, size, proof, root), `verify inclusion ${index}/${size}`);
      }
      for (let oldSize = 1; oldSize <= size; oldSize++) {
        const proof = consistencyProof(view, oldSize, size);
        assert.deepEqual(
          hexes(proof),
          hexes(referenceConsistencyProof(leaves, oldSize)),
          `consistency ${oldSize}->${size}`,
        );
        assert.ok(verifyConsistency(oldSize, size, refRoot(oldSize), root, proof), `verify ${oldSize}->${size}`);
      }
    }
  });

  it('treeRoot equals referenceRoot, in at most bitLength(size) lookups (property)', () => {
    fc.assert(
      fc.property(sizeArb, (size) => {
        const view = new SizedView(STORE, size);
        assert.ok(hashesEqual(treeRoot(view, size), refRoot(size)));
        assert.ok(view.lookups <= bitLength(size), `${view.lookups} lookups`);
      }),
      { numRuns: 120 },
    );
  });

  it('inclusionProof equals the reference PATH and verifies, in O(log n) lookups (property)', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const view = new SizedView(STORE, size);
        const proof = inclusionProof(view, index, size);
        assert.ok(view.lookups <= 2 * bitLength(size), `${view.lookups} lookups`);
        assert.deepEqual(hexes(proof), hexes(referenceInclusionProof(LEAVES.slice(0, size), index)));
        assert.ok(verifyInclusion(LEAVES[index]!, index, size, proof, refRoot(size)));
      }),
      { numRuns: 100 },
    );
  });

  it('consistencyProof equals the reference PROOF and verifies, in O(log n) lookups (property)', () => {
    fc.assert(
      fc.property(oldAndNew, ([oldSize, newSize]) => {
        const view = new SizedView(STORE, newSize);
        const proof = consistencyProof(view, oldSize, newSize);
        assert.ok(view.lookups <= 2 * bitLength(newSize), `${view.lookups} lookups`);
        assert.deepEqual(hexes(proof), hexes(referenceConsistencyProof(LEAVES.slice(0, newSize), oldSize)));
        assert.ok(verifyConsistency(oldSize, newSize, refRoot(oldSize), refRoot(newSize), proof));
      }),
      { numRuns: 100 },
    );
  });

  it('a store of exactly the tree size gives the same proofs as a larger one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (size, i, o) => {
        const small = new MemorySubtrees();
        for (const leaf of LEAVES.slice(0, size)) small.append(leaf);
        const index = i % size;
        const oldSize = (o % size) + 1;
        assert.ok(hashesEqual(treeRoot(small, size), treeRoot(STORE, size)));
        assert.deepEqual(hexes(inclusionProof(small, index, size)), hexes(inclusionProof(STORE, index, size)));
        assert.deepEqual(hexes(consistencyProof(small, oldSize, size)), hexes(consistencyProof(STORE, oldSize, size)));
      }),
      { numRuns: 50 },
    );
  });

  it('rangeHash of any range equals referenceRoot of the slice (property)', () => {
    const range = fc
      .integer({ min: 1, max: MAX })
      .chain((end) => fc.tuple(fc.integer({ min: 0, max: end - 1 }), fc.constant(end)));
    fc.assert(
      fc.property(range, ([start, end]) => {
        const view = new SizedView(STORE, end);
        assert.ok(hashesEqual(rangeHash(view, start, end), referenceRoot(LEAVES.slice(start, end))));
      }),
      { numRuns: 120 },
    );
  });

  it('rangeHash of an aligned range (as proofs use) takes O(log n) lookups (property)', () => {
    const aligned = fc
      .tuple(fc.integer({ min: 0, max: 10 }), fc.nat(), fc.integer({ min: 1, max: 1024 }))
      .map(([level, i, len]) => {
        const start = (i % Math.floor(MAX / 2 ** level)) * 2 ** level;
        return [start, Math.min(MAX, start + Math.min(len, 2 ** level))] as const;
      });
    fc.assert(
      fc.property(aligned, ([start, end]) => {
        const view = new SizedView(STORE, end);
        assert.ok(hashesEqual(rangeHash(view, start, end), referenceRoot(LEAVES.slice(start, end))));
        assert.ok(view.lookups <= bitLength(end - start), `${view.lookups} lookups for [${start}, ${end})`);
      }),
      { numRuns: 120 },
    );
  });
});

// ---------------------------------------------------------------------------

describe('merkle: tampered inclusion proofs fail', () => {
  it('flipping any byte of any proof element, of the leaf or of the root fails (property)', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), bytePos, mask, ([size, index], which, at, m) => {
        const leaf = LEAVES[index]!;
        const root = refRoot(size);
        const proof = inclusionProof(STORE, index, size);
        assert.ok(verifyInclusion(leaf, index, size, proof, root));
        if (proof.length > 0) {
          const k = which % proof.length;
          const bad = proof.map((p, j) => (j === k ? flipped(p, at, m) : p));
          assert.equal(verifyInclusion(leaf, index, size, bad, root), false, `element ${k}`);
        }
        assert.equal(verifyInclusion(flipped(leaf, at, m), index, size, proof, root), false, 'leaf');
        assert.equal(verifyInclusion(leaf, index, size, proof, flipped(root, at, m)), false, 'root');
      }),
      { numRuns: 100 },
    );
  });

  it('a wrong index fails (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: MAX })
          .chain((size) =>
            fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 }), fc.integer({ min: 0, max: size - 1 })),
          ),
        ([size, index, other]) => {
          fc.pre(index !== other);
          const proof = inclusionProof(STORE, index, size);
          assert.equal(verifyInclusion(LEAVES[index]!, other, size, proof, refRoot(size)), false);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a wrong size fails against the root of that size (property)', () => {
    fc.assert(
      fc.property(sizeAndIndex, sizeArb, ([size, index], other) => {
        fc.pre(other !== size && index < other);
        const proof = inclusionProof(STORE, index, size);
        assert.equal(verifyInclusion(LEAVES[index]!, index, other, proof, refRoot(other)), false);
      }),
      { numRuns: 100 },
    );
  });

  it('the size is bound by the root, not by the proof (RFC 9162 behaviour, documented)', () => {
    // Leaf 0's path has the same shape in the trees of 5 and 6 leaves, so the
    // size-5 proof checks against the size-5 root whatever size is claimed:
    // callers must take the size and the root from the same signed checkpoint.
    const proof = inclusionProof(STORE, 0, 5);
    assert.ok(verifyInclusion(LEAVES[0]!, 0, 6, proof, refRoot(5)));
    assert.equal(verifyInclusion(LEAVES[0]!, 0, 6, proof, refRoot(6)), false);
  });

  it('truncated or extended proofs fail (property)', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat({ max: MAX - 1 }), ([size, index], extra) => {
        const leaf = LEAVES[index]!;
        const root = refRoot(size);
        const proof = inclusionProof(STORE, index, size);
        const variants: Hash[][] = [
          [...proof, LEAVES[extra]!],
          [LEAVES[extra]!, ...proof],
          [...proof, root],
        ];
        if (proof.length > 0) variants.push(proof.slice(0, -1), proof.slice(1), [...proof, proof.at(-1)!]);
        for (const v of variants) assert.equal(verifyInclusion(leaf, index, size, v, root), false);
      }),
      { numRuns: 100 },
    );
  });

  it('exhaustively, no proof of one (index, size) verifies as another, up to 16 leaves', () => {
    const N = 16;
    for (let size = 1; size <= N; size++) {
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(STORE, index, size);
        for (let size2 = 1; size2 <= N; size2++) {
          for (let index2 = 0; index2 < size2; index2++) {
            if (size2 === size && index2 === index) continue;
            assert.equal(
              verifyInclusion(LEAVES[index]!, index2, size2, proof, refRoot(size2)),
              false,
              `${index}/${size} as ${index2}/${size2}`,
            );
          }
        }
      }
    }
  });

  it('malformed input returns false, never throws', () => {
    const proof = inclusionProof(STORE, 3, 10);
    const leaf = LEAVES[3]!;
    const root = refRoot(10);
    assert.ok(verifyInclusion(leaf, 3, 10, proof, root));
    const short = proof.map((p, i) => (i === 1 ? p.subarray(0, 31) : p));
    const long = proof.map((p, i) => (i === 1 ? Buffer.concat([p, Buffer.of(0)]) : p));
    const cases: Array<[string, () => boolean]> = [
      ['31-byte proof element', () => verifyInclusion(leaf, 3, 10, short, root)],
      ['33-byte proof element', () => verifyInclusion(leaf, 3, 10, long, root)],
      ['non-hash proof element', () => verifyInclusion(leaf, 3, 10, [proof[0]!, 'x' as unknown as Hash], root)],
      ['proof not an array', () => verifyInclusion(leaf, 3, 10, null as unknown as Hash[], root)],
      ['short leaf', () => verifyInclusion(leaf.subarray(1), 3, 10, proof, root)],
      ['short root', () => verifyInclusion(leaf, 3, 10, proof, root.subarray(1))],
      ['leaf not bytes', () => verifyInclusion(undefined as unknown as Hash, 3, 10, proof, root)],
      ['index == size', () => verifyInclusion(leaf, 10, 10, proof, root)],
      ['index == size, one-leaf tree', () => verifyInclusion(leaf, 1, 1, [], leaf)],
      ['index > size', () => verifyInclusion(leaf, 11, 10, proof, root)],
      ['negative index', () => verifyInclusion(leaf, -1, 10, proof, root)],
      ['fractional index', () => verifyInclusion(leaf, 3.5, 10, proof, root)],
      ['NaN index', () => verifyInclusion(leaf, NaN, 10, proof, root)],
      ['size 0', () => verifyInclusion(leaf, 0, 0, [], EMPTY_ROOT)],
      ['infinite size', () => verifyInclusion(leaf, 3, Infinity, proof, root)],
      ['size as string', () => verifyInclusion(leaf, 3, '10' as unknown as number, proof, root)],
    ];
    for (const [what, run] of cases) assert.equal(run(), false, what);
  });
});

// ---------------------------------------------------------------------------

describe('merkle: tampered consistency proofs fail', () => {
  it('flipping any byte of any proof element or of either root fails (property)', () => {
    fc.assert(
      fc.property(strictOldAndNew, fc.nat(), bytePos, mask, ([oldSize, newSize], which, at, m) => {
        const oldRoot = refRoot(oldSize);
        const newRoot = refRoot(newSize);
        const proof = consistencyProof(STORE, oldSize, newSize);
        assert.ok(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof));
        const k = which % proof.length;
        const bad = proof.map((p, j) => (j === k ? flipped(p, at, m) : p));
        assert.equal(verifyConsistency(oldSize, newSize, oldRoot, newRoot, bad), false, `element ${k}`);
        assert.equal(verifyConsistency(oldSize, newSize, flipped(oldRoot, at, m), newRoot, proof), false, 'old');
        assert.equal(verifyConsistency(oldSize, newSize, oldRoot, flipped(newRoot, at, m), proof), false, 'new');
      }),
      { numRuns: 100 },
    );
  });

  it('wrong sizes fail against the roots of those sizes (property)', () => {
    fc.assert(
      fc.property(strictOldAndNew, strictOldAndNew, ([oldSize, newSize], [old2, new2]) => {
        fc.pre(old2 !== oldSize || new2 !== newSize);
        const proof = consistencyProof(STORE, oldSize, newSize);
        assert.equal(verifyConsistency(old2, new2, refRoot(old2), refRoot(new2), proof), false);
        // and a changed old size alone, with the true roots
        if (old2 < newSize && old2 !== oldSize) {
          assert.equal(verifyConsistency(old2, newSize, refRoot(oldSize), refRoot(newSize), proof), false);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('truncated or extended proofs fail (property)', () => {
    fc.assert(
      fc.property(strictOldAndNew, fc.nat({ max: MAX - 1 }), ([oldSize, newSize], extra) => {
        const oldRoot = refRoot(oldSize);
        const newRoot = refRoot(newSize);
        const proof = consistencyProof(STORE, oldSize, newSize);
        const variants: Hash[][] = [
          [],
          proof.slice(0, -1),
          proof.slice(1),
          [...proof, LEAVES[extra]!],
          [LEAVES[extra]!, ...proof],
          [oldRoot, ...proof],
          [...proof, proof.at(-1)!],
        ];
        for (const v of variants) assert.equal(verifyConsistency(oldSize, newSize, oldRoot, newRoot, v), false);
      }),
      { numRuns: 100 },
    );
  });

  it('equal sizes: only an empty proof and equal roots', () => {
    const r = refRoot(7);
    assert.ok(verifyConsistency(7, 7, r, r, []));
    assert.equal(verifyConsistency(7, 7, r, refRoot(6), []), false);
    assert.equal(verifyConsistency(7, 7, r, r, [LEAVES[0]!]), false);
    assert.deepEqual(consistencyProof(STORE, 7, 7), []);
  });

  it('exhaustively, no proof of one (old, new) verifies as another, up to 16 leaves', () => {
    const N = 16;
    for (let newSize = 2; newSize <= N; newSize++) {
      for (let oldSize = 1; oldSize < newSize; oldSize++) {
        const proof = consistencyProof(STORE, oldSize, newSize);
        for (let new2 = 1; new2 <= N; new2++) {
          for (let old2 = 1; old2 <= new2; old2++) {
            if (old2 === oldSize && new2 === newSize) continue;
            assert.equal(
              verifyConsistency(old2, new2, refRoot(old2), refRoot(new2), proof),
              false,
              `${oldSize}->${newSize} as ${old2}->${new2}`,
            );
          }
        }
      }
    }
  });

  it('malformed input returns false, never throws', () => {
    const proof = consistencyProof(STORE, 3, 10);
    const o = refRoot(3);
    const n = refRoot(10);
    assert.ok(verifyConsistency(3, 10, o, n, proof));
    const short = proof.map((p, i) => (i === 0 ? p.subarray(0, 31) : p));
    const cases: Array<[string, () => boolean]> = [
      ['31-byte proof element', () => verifyConsistency(3, 10, o, n, short)],
      ['non-hash proof element', () => verifyConsistency(3, 10, o, n, [...proof, 7 as unknown as Hash])],
      ['proof not an array', () => verifyConsistency(3, 10, o, n, 'abc' as unknown as Hash[])],
      ['short old root', () => verifyConsistency(3, 10, o.subarray(1), n, proof)],
      ['short new root', () => verifyConsistency(3, 10, o, n.subarray(1), proof)],
      ['old size 0', () => verifyConsistency(0, 10, EMPTY_ROOT, n, proof)],
      ['old size 0, empty proof', () => verifyConsistency(0, 10, EMPTY_ROOT, n, [])],
      ['old > new', () => verifyConsistency(10, 3, n, o, proof)],
      // inputs the RFC 9162 loop alone would accept: the size checks must come first
      ['old > new, crafted', () => verifyConsistency(3, 2, LEAVES[0]!, refRoot(2), [LEAVES[0]!, LEAVES[1]!])],
      ['old size 0, crafted', () => verifyConsistency(0, 2, LEAVES[0]!, refRoot(2), [LEAVES[0]!, LEAVES[1]!])],
      ['negative size', () => verifyConsistency(-3, 10, o, n, proof)],
      ['fractional size', () => verifyConsistency(3, 10.5, o, n, proof)],
      ['NaN size', () => verifyConsistency(NaN, 10, o, n, proof)],
      ['infinite size', () => verifyConsistency(3, Infinity, o, n, proof)],
    ];
    for (const [what, run] of cases) assert.equal(run(), false, what);
  });
});

// ---------------------------------------------------------------------------

describe('merkle: argument checks', () => {
  it('proof builders and rangeHash throw RangeError on bad arguments', () => {
    const view = new SizedView(STORE, 10);
    const SAFE = /must be a non-negative safe integer/;
    const bad: Array<[string, () => unknown, RegExp]> = [
      ['inclusion: negative index', () => inclusionProof(view, -1, 10), SAFE],
      ['inclusion: index == size', () => inclusionProof(view, 10, 10), /index 10 is outside a tree of 10 leaves/],
      ['inclusion: fractional index', () => inclusionProof(view, 1.5, 10), SAFE],
      ['inclusion: size 0', () => inclusionProof(view, 0, 0), /outside a tree of 0 leaves/],
      ['inclusion: NaN size', () => inclusionProof(view, 0, NaN), SAFE],
      ['consistency: old 0', () => consistencyProof(view, 0, 10), /empty tree/],
      ['consistency: old > new', () => consistencyProof(view, 11, 10), /oldSize 11 is larger than newSize 10/],
      ['consistency: negative', () => consistencyProof(view, -1, 10), SAFE],
      ['consistency: fractional', () => consistencyProof(view, 2, 9.5), SAFE],
      ['range: empty', () => rangeHash(view, 3, 3), /empty or reversed range/],
      ['range: reversed', () => rangeHash(view, 4, 3), /empty or reversed range/],
      ['range: negative start', () => rangeHash(view, -1, 3), SAFE],
      ['range: fractional end', () => rangeHash(view, 0, 2.5), SAFE],
      ['root: negative size', () => treeRoot(view, -1), SAFE],
      ['root: fractional size', () => treeRoot(view, 1.5), SAFE],
      ['reference inclusion: out of range', () => referenceInclusionProof(LEAVES.slice(0, 3), 3), /outside/],
      ['reference consistency: old 0', () => referenceConsistencyProof(LEAVES.slice(0, 3), 0), /1\.\.3/],
      ['reference consistency: old > new', () => referenceConsistencyProof(LEAVES.slice(0, 3), 4), /1\.\.3/],
      ['nodeHash: short hash', () => nodeHash(LEAVES[0]!.subarray(1), LEAVES[1]!), /32-byte/],
    ];
    for (const [what, run, message] of bad) {
      assert.throws(run, (e: unknown) => e instanceof RangeError && message.test(e.message), what);
    }
  });

  it('asking beyond the stored tree throws (the source refuses incomplete nodes)', () => {
    const small = new MemorySubtrees();
    for (const leaf of LEAVES.slice(0, 5)) small.append(leaf);
    assert.throws(() => treeRoot(small, 6), RangeError);
    assert.throws(() => inclusionProof(small, 0, 6), RangeError);
    assert.throws(() => consistencyProof(small, 2, 6), RangeError);
    assert.throws(() => rangeHash(small, 4, 6), RangeError);
  });

  it('a source returning a malformed hash is an error', () => {
    const broken: SubtreeSource = { node: () => new Uint8Array(16) };
    assert.throws(() => treeRoot(broken, 4), /malformed/);
  });

  it('hashesEqual compares bytes', () => {
    assert.ok(hashesEqual(LEAVES[0]!, Buffer.from(LEAVES[0]!)));
    assert.ok(hashesEqual(new Uint8Array(LEAVES[0]!), LEAVES[0]!));
    assert.equal(hashesEqual(LEAVES[0]!, LEAVES[1]!), false);
    assert.equal(hashesEqual(LEAVES[0]!, LEAVES[0]!.subarray(1)), false);
    assert.equal(hashesEqual(LEAVES[0]!, flipped(LEAVES[0]!, 31, 0x80)), false);
  });
});
