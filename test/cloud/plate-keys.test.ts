/**
 * Candidate keys (cloud/sessions/plate-keys.ts): every session that fits a
 * read shares a key with it, so matching over the sessions found by key
 * gives the same answer as matching over the whole lot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readKeys, sessionKeys } from '../../cloud/sessions/plate-keys.js';
import { matchExit, plateDistanceKind, type OpenSessionRef } from '../../cloud/sessions/plate-matching.js';

/** Rich in look-alikes, so that near misses are common. */
const plateChar = fc.constantFrom(...'0ODQ1I8B5S2Z6GAX7皖'.split(''));
const plate = fc.array(plateChar, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));

/** A read near `stored`: look-alike swaps, one character dropped, added or replaced, or anything. */
const nearRead = (stored: string) =>
  fc.oneof(
    fc.constant(stored),
    fc
      .array(fc.nat(), { minLength: [...stored].length, maxLength: [...stored].length })
      .map((ns) => [...stored].map((c, i) => (ns[i]! % 3 === 0 ? swapLookAlike(c, ns[i]!) : c)).join('')),
    fc.nat().map((n) => {
      const cs = [...stored];
      cs.splice(n % cs.length, 1);
      return cs.join('') || stored;
    }),
    fc.tuple(fc.nat(), plateChar).map(([n, c]) => {
      const cs = [...stored];
      cs.splice(n % (cs.length + 1), 0, c);
      return cs.join('');
    }),
    fc.tuple(fc.nat(), plateChar).map(([n, c]) => {
      const cs = [...stored];
      cs[n % cs.length] = c;
      return cs.join('');
    }),
    plate,
  );

function swapLookAlike(c: string, n: number): string {
  const group = ['0ODQ', '1I', '8B', '5S', '2Z', '6G'].find((g) => g.includes(c));
  return group ? group[n % group.length]! : c;
}

const shareKey = (read: string, stored: string) => {
  const keys = new Set(sessionKeys(stored));
  return readKeys(read).some((k) => keys.has(k));
};

describe('candidate keys', () => {
  it('examples: exact, look-alike, missing and extra share a key; a stranger does not', () => {
    assert.ok(shareKey('AB123', 'AB123'));
    assert.ok(shareKey('A8I23', 'AB123')); // look-alikes
    assert.ok(shareKey('A123', 'AB123')); // one missing
    assert.ok(shareKey('AB1234', 'AB123')); // one extra
    assert.ok(shareKey('A12345', '皖A12345')); // province lost
    assert.ok(shareKey('AJK7557', 'AJK7551')); // one character different
    assert.ok(!shareKey('XY999', 'AB123'));
  });

  it('a read shares a key with every plate it fits (property)', () => {
    fc.assert(
      fc.property(
        plate.chain((stored) => fc.tuple(fc.constant(stored), nearRead(stored))),
        ([stored, read]) => {
          if (plateDistanceKind(read, stored) !== null) assert.ok(shareKey(read, stored), `${read} vs ${stored}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('matching over the sessions found by key equals matching over the whole lot (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(plate, { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (plates, pick, confidence) => {
          const lot: OpenSessionRef[] = plates.map((p, i) => ({ id: `s${i}`, plate: p }));
          const stored = plates[pick % plates.length]!;
          const read = fc.sample(nearRead(stored), { numRuns: 1, seed: pick })[0]!;
          const keys = new Set(readKeys(read));
          const found = lot.filter((s) => sessionKeys(s.plate).some((k) => keys.has(k)));
          assert.deepEqual(matchExit({ plate: read, confidence }, found), matchExit({ plate: read, confidence }, lot));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('keys are distinct and sorted; a plate of n characters has at most 2n + 1, a read 2n + 2', () => {
    fc.assert(
      fc.property(plate, (p) => {
        const n = [...p].length;
        for (const [keys, most] of [
          [sessionKeys(p), 2 * n + 1],
          [readKeys(p), 2 * n + 2],
        ] as const) {
          assert.deepEqual(keys, [...new Set(keys)].sort());
          assert.ok(keys.length <= most);
        }
      }),
    );
  });
});
