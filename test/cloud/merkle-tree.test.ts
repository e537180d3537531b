/** Merkle trees (cloud/ledger/merkle.ts): RFC 6962 / 9162 known answers, completedParents and the stored subtree hashes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Hash } from '../../cloud/ledger/merkle.js';
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
  referenceConsistencyProof,
  referenceInclusionProof,
  referenceRoot,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../../cloud/ledger/merkle.js';
import { LEAVES, MAX, STORE, hex, hexes, refRoot, unhex } from './merkle-fixtures.js';

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
