/** Merkle consistency proofs: every tampered proof fails; bad arguments are refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Hash, SubtreeSource } from '../../cloud/ledger/merkle.js';
import {
  EMPTY_ROOT,
  MemorySubtrees,
  consistencyProof,
  hashesEqual,
  inclusionProof,
  nodeHash,
  rangeHash,
  referenceConsistencyProof,
  referenceInclusionProof,
  treeRoot,
  verifyConsistency,
} from '../../cloud/ledger/merkle.js';
import { LEAVES, MAX, STORE, SizedView, bytePos, flipped, mask, refRoot, strictOldAndNew } from './merkle-fixtures.js';

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
