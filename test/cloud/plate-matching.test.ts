/**
 * Matching an exit read to an open session (cloud/sessions/plate-matching.ts):
 * a session is returned only when exactly one open session fits (or the read
 * is a confident, unique exact match); otherwise the exit goes to a human.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  defaultMatchOptions,
  matchExit,
  plateDistanceKind,
  type ExitRead,
  type MatchOptions,
  type MatchResult,
  type OpenSessionRef,
} from '../../cloud/sessions/plate-matching.js';

const sessions = (...plates: string[]): OpenSessionRef[] => plates.map((plate, i) => ({ id: `s${i + 1}`, plate }));
const confident = (plate: string): ExitRead => ({ plate, confidence: 0.97 });
const unsure = (plate: string): ExitRead => ({ plate, confidence: 0.5 });

describe('plateDistanceKind', () => {
  it('classifies exact, look-alike, missing and extra', () => {
    assert.equal(plateDistanceKind('皖A12345', '皖A12345'), 'exact');
    assert.equal(plateDistanceKind('PP587AO', 'PP587A0'), 'look-alike');
    assert.equal(plateDistanceKind('B8I1', '8B1I'), 'look-alike');
    assert.equal(plateDistanceKind('A12345', '皖A12345'), 'missing');
    assert.equal(plateDistanceKind('皖A1234', '皖A12345'), 'missing');
    assert.equal(plateDistanceKind('A1Z34S', '皖A12345'), 'missing'); // lost 皖, plus look-alikes
    assert.equal(plateDistanceKind('皖A12345', 'A12345'), 'extra');
    assert.equal(plateDistanceKind('A1Z3455', 'A12345'), 'extra');
  });

  it('rejects everything else', () => {
    assert.equal(plateDistanceKind('A12345', 'A12346'), null); // 5/6 are not look-alikes
    assert.equal(plateDistanceKind('A12', 'A1234'), null); // two missing
    assert.equal(plateDistanceKind('A1X345', '皖A12345'), null); // one missing and one wrong
    assert.equal(plateDistanceKind('A123456', 'A1234'), null); // two extra
    assert.equal(plateDistanceKind('皖A12345', '京A12345'), null); // provinces are not look-alikes
  });

  it('throws TypeError on empty plates', () => {
    assert.throws(() => plateDistanceKind('', 'A1'), TypeError);
    assert.throws(() => plateDistanceKind('A1', ''), TypeError);
  });
});

describe('matchExit: examples', () => {
  it('matches an exact plate', () => {
    assert.deepEqual(matchExit(confident('皖A12345'), sessions('京B77777', '皖A12345')), {
      kind: 'exact',
      sessionId: 's2',
    });
  });

  it('tolerates 0/O, 8/B and 1/I confusions', () => {
    assert.deepEqual(matchExit(confident('PP587AO'), sessions('PP587A0', 'XY12345')), {
      kind: 'tolerant',
      sessionId: 's1',
      difference: 'look-alike',
    });
    assert.deepEqual(matchExit(confident('AB123'), sessions('XY999', 'A8123')), {
      kind: 'tolerant',
      sessionId: 's2',
      difference: 'look-alike',
    });
    assert.deepEqual(matchExit(confident('A8I23'), sessions('A8123')), {
      kind: 'tolerant',
      sessionId: 's1',
      difference: 'look-alike',
    });
  });

  it('tolerates one missing character (province lost) and one extra character', () => {
    assert.deepEqual(matchExit(confident('A12345'), sessions('皖A12345')), {
      kind: 'tolerant',
      sessionId: 's1',
      difference: 'missing',
    });
    assert.deepEqual(matchExit(confident('皖A12345'), sessions('A12345')), {
      kind: 'tolerant',
      sessionId: 's1',
      difference: 'extra',
    });
  });

  it('never charges when two sessions fit (8B0 and B80, read 880 or BB0)', () => {
    const open = sessions('8B0', 'B80');
    for (const plate of ['880', 'BB0']) {
      for (const confidence of [0.3, 0.95, 1]) {
        assert.deepEqual(matchExit({ plate, confidence }, open), { kind: 'ambiguous', candidates: ['s1', 's2'] });
      }
    }
  });

  it('trusts a confident exact read over a confusable neighbour', () => {
    assert.deepEqual(matchExit(confident('880'), sessions('8B0', '880')), { kind: 'exact', sessionId: 's2' });
    // exactly at the threshold counts as confident
    assert.deepEqual(matchExit({ plate: '880', confidence: 0.9 }, sessions('8B0', '880')), {
      kind: 'exact',
      sessionId: 's2',
    });
  });

  it('does not trust an unconfident exact read with a confusable neighbour', () => {
    assert.deepEqual(matchExit(unsure('880'), sessions('8B0', '880')), {
      kind: 'ambiguous',
      candidates: ['s1', 's2'],
    });
  });

  it('is ambiguous when two open sessions carry the same plate (data error)', () => {
    assert.deepEqual(matchExit(confident('皖A12345'), sessions('皖A12345', '皖A12345')), {
      kind: 'ambiguous',
      candidates: ['s1', 's2'],
    });
  });

  it('reports a single tolerant candidate with an unconfident read as low-confidence', () => {
    assert.deepEqual(matchExit(unsure('PP587AO'), sessions('PP587A0', 'XY12345')), {
      kind: 'low-confidence',
      candidates: ['s1'],
    });
    assert.deepEqual(matchExit({ plate: 'A12345', confidence: 0.89 }, sessions('皖A12345')), {
      kind: 'low-confidence',
      candidates: ['s1'],
    });
  });

  it('gives none when nothing fits', () => {
    assert.deepEqual(matchExit(confident('皖A12345'), []), { kind: 'none' });
    assert.deepEqual(matchExit(confident('皖A12345'), sessions('京A12345', 'A12', '皖A99999')), { kind: 'none' });
  });

  it('honours minConfidence from the options', () => {
    const read: ExitRead = { plate: 'PP587AO', confidence: 0.6 };
    assert.equal(matchExit(read, sessions('PP587A0'), { minConfidence: 0.5 }).kind, 'tolerant');
    assert.equal(matchExit(read, sessions('PP587A0'), { minConfidence: 0.7 }).kind, 'low-confidence');
    assert.equal(defaultMatchOptions.minConfidence, 0.9);
  });

  it('throws TypeError on bad inputs', () => {
    const open = sessions('皖A12345');
    for (const confidence of [-0.01, 1.01, NaN, Infinity, -Infinity]) {
      assert.throws(() => matchExit({ plate: '皖A12345', confidence }, open), TypeError, String(confidence));
    }
    assert.throws(() => matchExit({ plate: '', confidence: 1 }, open), TypeError);
    assert.throws(() => matchExit(confident('皖A12345'), [{ id: 's1', plate: '' }]), TypeError);
    assert.throws(() => matchExit(confident('皖A12345'), open, { minConfidence: NaN }), TypeError);
    assert.throws(() => matchExit(confident('皖A12345'), open, { minConfidence: 2 }), TypeError);
  });
});

// Properties: a small alphabet dense in look-alikes and short plates, so that
// collisions, neighbours and ambiguity are frequent.
const CHARS = [...'0O8B1IA7皖'];
const LOOK_ALIKE: Record<string, string> = { '0': 'O', O: '0', '8': 'B', B: '8', '1': 'I', I: '1' };
const plateArb = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
const platesArb = fc.array(plateArb, { maxLength: 6 });
const confidenceArb = fc.oneof(fc.constantFrom(0, 0.5, 0.9, 1), fc.double({ min: 0, max: 1, noNaN: true }));
const optionsArb: fc.Arbitrary<MatchOptions> = fc.oneof(
  fc.constant(defaultMatchOptions),
  fc.double({ min: 0, max: 1, noNaN: true }).map((minConfidence) => ({ minConfidence })),
);

/** A read derived from one of the plates: unchanged, a look-alike or any character swapped in, a character dropped or added. */
function readPlateArb(plates: readonly string[]): fc.Arbitrary<string> {
  if (plates.length === 0) return plateArb;
  const mutated = fc
    .tuple(
      fc.constantFrom(...plates),
      fc.nat(),
      fc.constantFrom(...CHARS),
      fc.constantFrom('look-alike', 'swap', 'drop', 'add'),
    )
    .map(([plate, n, c, op]) => {
      const cs = [...plate];
      const i = n % cs.length;
      if (op === 'look-alike') cs[i] = LOOK_ALIKE[cs[i]!] ?? cs[i]!;
      else if (op === 'swap') cs[i] = c;
      else if (op === 'drop' && cs.length > 1) cs.splice(i, 1);
      else cs.splice(n % (cs.length + 1), 0, c);
      return cs.join('');
    });
  return fc.oneof(plateArb, fc.constantFrom(...plates), mutated);
}

const scenarioArb = platesArb.chain((plates) =>
  fc.record({
    open: fc.constant(plates.map((plate, i) => ({ id: `s${i}`, plate }))),
    read: fc.record({ plate: readPlateArb(plates), confidence: confidenceArb }),
    options: optionsArb,
  }),
);

const singleSession = (r: MatchResult) => r.kind === 'exact' || r.kind === 'tolerant';
const NUM_RUNS = 200;

describe('matchExit: properties', () => {
  it('returns a session only when exactly one session fits, or it is the unique exact match with a confident read', () => {
    fc.assert(
      fc.property(scenarioArb, ({ open, read, options }) => {
        const result = matchExit(read, open, options);
        const fits = open.filter((s) => plateDistanceKind(read.plate, s.plate) !== null);
        const exacts = open.filter((s) => s.plate === read.plate);
        const isConfident = read.confidence >= options.minConfidence;
        switch (result.kind) {
          case 'exact':
            assert.deepEqual(
              exacts.map((s) => s.id),
              [result.sessionId],
            );
            assert.ok(fits.length === 1 || isConfident);
            break;
          case 'tolerant':
            assert.equal(exacts.length, 0);
            assert.deepEqual(
              fits.map((s) => s.id),
              [result.sessionId],
            );
            assert.equal(result.difference, plateDistanceKind(read.plate, fits[0]!.plate));
            assert.ok(isConfident);
            break;
          case 'ambiguous':
            assert.ok(fits.length >= 2);
            assert.deepEqual(result.candidates, fits.map((s) => s.id).sort());
            break;
          case 'low-confidence':
            assert.equal(exacts.length, 0);
            assert.deepEqual(result.candidates, [fits[0]!.id]);
            assert.equal(fits.length, 1);
            assert.ok(!isConfident);
            break;
          case 'none':
            assert.equal(fits.length, 0);
            break;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('adding open sessions never turns an ambiguous or low-confidence result into a single-session one, except a confident exact match that was added', () => {
    fc.assert(
      fc.property(scenarioArb, platesArb, ({ open, read, options }, extraPlates) => {
        const extra = extraPlates.map((plate, i) => ({ id: `x${i}`, plate }));
        const before = matchExit(read, open, options);
        const after = matchExit(read, [...open, ...extra], options);
        if (before.kind !== 'ambiguous' && before.kind !== 'low-confidence') return;
        const addedExact = extra.filter((s) => s.plate === read.plate);
        if (addedExact.length === 0) {
          // ambiguous stays ambiguous; low-confidence stays low-confidence or becomes ambiguous
          const allowed = before.kind === 'ambiguous' ? ['ambiguous'] : ['low-confidence', 'ambiguous'];
          assert.ok(allowed.includes(after.kind), JSON.stringify({ before, after }));
        } else if (singleSession(after)) {
          // the only way out: no exact match before, exactly one exact added, and a confident read
          assert.equal(after.kind, 'exact');
          assert.ok(!open.some((s) => s.plate === read.plate));
          assert.deepEqual(
            addedExact.map((s) => s.id),
            [after.kind === 'exact' ? after.sessionId : ''],
          );
          assert.ok(read.confidence >= options.minConfidence);
        } else {
          assert.equal(after.kind, 'ambiguous');
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('does not depend on the order of the open sessions', () => {
    const arb = scenarioArb.chain((s) =>
      fc.record({
        scenario: fc.constant(s),
        shuffled: fc.shuffledSubarray(s.open, { minLength: s.open.length, maxLength: s.open.length }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ scenario: { open, read, options }, shuffled }) => {
        assert.deepEqual(matchExit(read, shuffled, options), matchExit(read, open, options));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('an exact read with no other confusable session is exact whatever the confidence', () => {
    fc.assert(
      fc.property(
        plateArb,
        platesArb,
        confidenceArb,
        optionsArb,
        fc.nat(),
        (plate, others, confidence, options, at) => {
          const unrelated = others.filter((p) => plateDistanceKind(plate, p) === null);
          const plates = [...unrelated];
          plates.splice(at % (plates.length + 1), 0, plate);
          const open = plates.map((p, i) => ({ id: `s${i}`, plate: p }));
          const target = open.find((s) => s.plate === plate)!;
          assert.deepEqual(matchExit({ plate, confidence }, open, options), { kind: 'exact', sessionId: target.id });
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('plateDistanceKind: missing and extra are mirror images, look-alike and exact are symmetric', () => {
    fc.assert(
      fc.property(plateArb, plateArb, (a, b) => {
        const ab = plateDistanceKind(a, b);
        const ba = plateDistanceKind(b, a);
        const mirror = { exact: 'exact', 'look-alike': 'look-alike', missing: 'extra', extra: 'missing' } as const;
        assert.equal(ba, ab === null ? null : mirror[ab]);
        assert.equal(ab === 'exact', a === b);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
