/**
 * Look-alike characters (edge/vision/look-alikes.ts): the groups OCR confuses
 * on plates, and comparing two reads that differ only in them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { areLookAlikes, differsOnlyByLookAlikes } from '../../proto/look-alikes.js';

const ALPHABET = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ皖京'];
const GROUPS = ['0ODQ', '1I', '8B', '5S', '2Z', '6G'];
const char = fc.constantFrom(...ALPHABET);

describe('areLookAlikes', () => {
  it('pairs 0/O/D/Q, 1/I, 8/B, 5/S, 2/Z and 6/G', () => {
    for (const group of GROUPS) {
      for (const a of group) for (const b of group) assert.ok(areLookAlikes(a, b), `${a} and ${b}`);
    }
  });

  it('does not pair characters from different groups or outside them', () => {
    const pairs: Array<[string, string]> = [
      ['0', '1'],
      ['O', 'I'],
      ['8', 'S'],
      ['B', 'D'],
      ['5', '2'],
      ['Z', '7'],
      ['G', 'C'],
      ['6', '8'],
      ['A', '4'],
      ['M', 'N'],
      ['皖', '京'],
      ['L', '1'],
    ];
    for (const [a, b] of pairs) {
      assert.equal(areLookAlikes(a, b), false, `${a} and ${b}`);
      assert.equal(areLookAlikes(b, a), false, `${b} and ${a}`);
    }
  });

  it('is reflexive and symmetric, and within a group transitive (property)', () => {
    fc.assert(
      fc.property(char, char, char, (a, b, c) => {
        assert.ok(areLookAlikes(a, a));
        assert.equal(areLookAlikes(a, b), areLookAlikes(b, a));
        if (areLookAlikes(a, b) && areLookAlikes(b, c)) assert.ok(areLookAlikes(a, c), `${a}~${b}~${c}`);
        const sameGroup = a === b || GROUPS.some((g) => g.includes(a) && g.includes(b));
        assert.equal(areLookAlikes(a, b), sameGroup, `${a} ${b}`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('differsOnlyByLookAlikes', () => {
  it('compares reads position by position', () => {
    assert.ok(differsOnlyByLookAlikes('PP587A0', 'PP587AO'));
    assert.ok(differsOnlyByLookAlikes('B8I1', '8B1I'));
    assert.ok(differsOnlyByLookAlikes('皖A12345', '皖A1Z34S'));
    assert.ok(!differsOnlyByLookAlikes('PP587A0', 'PP587AX'));
    assert.ok(!differsOnlyByLookAlikes('皖A12345', '京A12345'));
    assert.ok(!differsOnlyByLookAlikes('ABC', 'ABCD'));
    assert.ok(!differsOnlyByLookAlikes('ABC0', 'ABC'));
    assert.ok(differsOnlyByLookAlikes('', ''));
  });

  const text = fc.array(char, { maxLength: 9 }).map((c) => c.join(''));

  it('is reflexive and symmetric (property)', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        assert.ok(differsOnlyByLookAlikes(a, a));
        assert.equal(differsOnlyByLookAlikes(a, b), differsOnlyByLookAlikes(b, a));
      }),
    );
  });

  it('is false for texts of different lengths, counted in characters (property)', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        if ([...a].length !== [...b].length) assert.equal(differsOnlyByLookAlikes(a, b), false, `${a} / ${b}`);
      }),
    );
    // province characters are one character each, like any other
    assert.ok(differsOnlyByLookAlikes('皖A0', '皖AO'));
  });

  it('holds after swapping any characters for look-alikes, and fails after any other swap (property)', () => {
    fc.assert(
      fc.property(fc.array(char, { minLength: 1, maxLength: 9 }), fc.nat(), char, (chars, at, other) => {
        const swapped = chars.map((c) => {
          const g = GROUPS.find((grp) => grp.includes(c));
          return g ? g[(g.indexOf(c) + 1) % g.length]! : c;
        });
        assert.ok(differsOnlyByLookAlikes(chars.join(''), swapped.join('')));
        const i = at % chars.length;
        const changed = [...chars];
        changed[i] = other;
        assert.equal(differsOnlyByLookAlikes(chars.join(''), changed.join('')), areLookAlikes(chars[i]!, other));
      }),
    );
  });
});
