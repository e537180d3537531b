/** Merkle inclusion proofs from stored nodes: equal to the naive reference (property), and every tampered proof fails. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Hash } from '../../cloud/ledger/merkle.js';
import {
  EMPTY_ROOT,
  MemorySubtrees,
  consistencyProof,
  hashesEqual,
  inclusionProof,
  rangeHash,
  referenceConsistencyProof,
  referenceInclusionProof,
  referenceRoot,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../cloud/ledger/merkle.js';
import {
  LEAVES,
  MAX,
  STORE,
  SizedView,
  bitLength,
  bytePos,
  flipped,
  hexes,
  mask,
  oldAndNew,
  refRoot,
  sizeAndIndex,
  sizeArb,
} from './merkle-fixtures.js';

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
