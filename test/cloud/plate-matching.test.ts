/**
 * Matching an exit read to an open session (cloud/sessions/plate-matching.ts):
 * a session is returned only when exactly one open session fits and the read
 * is confident enough; otherwise the exit goes to a human.
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

  it('calls one character that is no look-alike different', () => {
    assert.equal(plateDistanceKind('A12345', 'A12346'), 'different'); // 5/6 are not look-alikes
    assert.equal(plateDistanceKind('皖A12345', '京A12345'), 'different'); // provinces are not look-alikes
    assert.equal(plateDistanceKind('AJK7557', 'AJK755I'), 'different'); // 7/I differ, 5/5 equal
    assert.equal(plateDistanceKind('8JK7557', 'BJK7551'), 'different'); // 8/B look alike, 7/1 do not
  });

  it('rejects everything else', () => {
    assert.equal(plateDistanceKind('A12345', 'A12367'), null); // two different
    assert.equal(plateDistanceKind('A12', 'A1234'), null); // two missing
    assert.equal(plateDistanceKind('A1X345', '皖A12345'), null); // one missing and one wrong
    assert.equal(plateDistanceKind('A123456', 'A1234'), null); // two extra
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

  it('never trusts an exact read over a confusable twin, however confident (4BO4979 read as 4B04979 at 0.996)', () => {
    for (const confidence of [0.5, 0.9, 0.996, 1]) {
      assert.deepEqual(matchExit({ plate: '4B04979', confidence }, sessions('4BO4979', '4B04979')), {
        kind: 'ambiguous',
        candidates: ['s1', 's2'],
      });
    }
    // a twin one character away counts too
    assert.deepEqual(matchExit(confident('P602849'), sessions('P602849', 'P6028149')), {
      kind: 'ambiguous',
      candidates: ['s1', 's2'],
    });
  });

  it('charges an exact read that is the only fit from minExactConfidence (0.7) up; below, a human looks', () => {
    assert.deepEqual(matchExit({ plate: '皖A12345', confidence: 0.7 }, sessions('皖A12345')), {
      kind: 'exact',
      sessionId: 's1',
    });
    assert.deepEqual(matchExit({ plate: '皖A12345', confidence: 0.69 }, sessions('皖A12345')), {
      kind: 'low-confidence',
      candidates: ['s1'],
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

  it('gives none when nothing fits or is near', () => {
    assert.deepEqual(matchExit(confident('皖A12345'), []), { kind: 'none' });
    assert.deepEqual(matchExit(confident('皖A12345'), sessions('京A12399', 'A12', '皖A99999')), { kind: 'none' });
  });

  it('never charges a stranger an unsure read equals when the car may be one character misread (AJK7551 read as AJK7557)', () => {
    // the exiting car AJK7551 is in the lot; a stranger's plate equals the misread (read at 0.61)
    assert.deepEqual(matchExit({ plate: 'AJK7557', confidence: 0.8 }, sessions('AJK7557', 'AJK7551')), {
      kind: 'ambiguous',
      candidates: ['s1', 's2'],
    });
    // a confident read is trusted over a plate one character away (a fleet's consecutive numbers)
    assert.deepEqual(matchExit(confident('AJK7557'), sessions('AJK7557', 'AJK7551')), {
      kind: 'exact',
      sessionId: 's1',
    });
    // and with nothing fitting, the near sessions go to a human
    assert.deepEqual(matchExit(confident('AJK7557'), sessions('AJK7551', 'XYZ999', 'AJK7552')), {
      kind: 'near',
      candidates: ['s1', 's3'],
    });
  });

  it('honours minConfidence and minExactConfidence from the options', () => {
    const read: ExitRead = { plate: 'PP587AO', confidence: 0.6 };
    const options = (minConfidence: number, minExactConfidence: number) => ({ minConfidence, minExactConfidence });
    assert.equal(matchExit(read, sessions('PP587A0'), options(0.5, 0.5)).kind, 'tolerant');
    assert.equal(matchExit(read, sessions('PP587A0'), options(0.7, 0.5)).kind, 'low-confidence');
    assert.equal(matchExit(read, sessions('PP587AO'), options(0.9, 0.5)).kind, 'exact');
    assert.equal(matchExit(read, sessions('PP587AO'), options(0.5, 0.7)).kind, 'low-confidence');
    assert.deepEqual(defaultMatchOptions, { minConfidence: 0.9, minExactConfidence: 0.7 });
  });

  it('throws TypeError on bad inputs', () => {
    const open = sessions('皖A12345');
    for (const confidence of [-0.01, 1.01, NaN, Infinity, -Infinity]) {
      assert.throws(() => matchExit({ plate: '皖A12345', confidence }, open), TypeError, String(confidence));
    }
    assert.throws(() => matchExit({ plate: '', confidence: 1 }, open), TypeError);
    assert.throws(() => matchExit(confident('皖A12345'), [{ id: 's1', plate: '' }]), TypeError);
    assert.throws(
      () => matchExit(confident('皖A12345'), open, { minConfidence: NaN, minExactConfidence: 0.5 }),
      TypeError,
    );
    assert.throws(
      () => matchExit(confident('皖A12345'), open, { minConfidence: 2, minExactConfidence: 0.5 }),
      TypeError,
    );
    assert.throws(
      () => matchExit(confident('皖A12345'), open, { minConfidence: 0.9, minExactConfidence: -1 }),
      TypeError,
    );
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
  fc
    .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([minConfidence, minExactConfidence]) => ({ minConfidence, minExactConfidence })),
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
  it('returns a session only when exactly one session fits and the read is confident enough', () => {
    fc.assert(
      fc.property(scenarioArb, ({ open, read, options }) => {
        const result = matchExit(read, open, options);
        const kinds = open.map((s) => plateDistanceKind(read.plate, s.plate));
        const fits = open.filter((_, i) => kinds[i] !== null && kinds[i] !== 'different');
        const near = open.filter((_, i) => kinds[i] === 'different');
        const exacts = open.filter((s) => s.plate === read.plate);
        const isConfident = read.confidence >= options.minConfidence;
        const isConfidentExact = read.confidence >= options.minExactConfidence;
        switch (result.kind) {
          case 'exact':
            assert.ok(near.length === 0 || isConfident);
            assert.deepEqual(
              fits.map((s) => s.id),
              [result.sessionId],
            );
            assert.deepEqual(
              exacts.map((s) => s.id),
              [result.sessionId],
            );
            assert.ok(isConfidentExact);
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
            assert.ok(fits.length >= 2 || (fits.length === 1 && near.length >= 1 && !isConfident));
            assert.deepEqual(result.candidates, [...fits, ...near].map((s) => s.id).sort());
            break;
          case 'low-confidence':
            assert.deepEqual(result.candidates, [fits[0]!.id]);
            assert.equal(fits.length, 1);
            assert.ok(near.length === 0 || isConfident);
            assert.ok(exacts.length === 1 ? !isConfidentExact : !isConfident);
            break;
          case 'near':
            assert.equal(fits.length, 0);
            assert.deepEqual(result.candidates, near.map((s) => s.id).sort());
            break;
          case 'none':
            assert.equal(fits.length + near.length, 0);
            break;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('adding open sessions never turns an ambiguous, low-confidence or near result into a charge', () => {
    fc.assert(
      fc.property(scenarioArb, platesArb, ({ open, read, options }, extraPlates) => {
        const extra = extraPlates.map((plate, i) => ({ id: `x${i}`, plate }));
        const before = matchExit(read, open, options);
        const after = matchExit(read, [...open, ...extra], options);
        if (before.kind !== 'ambiguous' && before.kind !== 'low-confidence' && before.kind !== 'near') return;
        // ambiguous stays ambiguous; low-confidence stays or becomes ambiguous; near (unsure read) never becomes a charge
        const allowed =
          before.kind === 'ambiguous'
            ? ['ambiguous']
            : before.kind === 'low-confidence'
              ? ['low-confidence', 'ambiguous']
              : ['near', 'ambiguous', 'low-confidence'];
        // a confident read is trusted over near plates: a session that fits it, added, may be charged
        if (before.kind === 'near' && read.confidence >= options.minConfidence) return;
        assert.ok(allowed.includes(after.kind), JSON.stringify({ before, after }));
        assert.ok(!singleSession(after));
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

  it('an exact read with no other confusable session is exact from minExactConfidence up, low-confidence below', () => {
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
          assert.deepEqual(
            matchExit({ plate, confidence }, open, options),
            confidence >= options.minExactConfidence
              ? { kind: 'exact', sessionId: target.id }
              : { kind: 'low-confidence', candidates: [target.id] },
          );
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
        const mirror = {
          exact: 'exact',
          'look-alike': 'look-alike',
          missing: 'extra',
          extra: 'missing',
          different: 'different',
        } as const;
        assert.equal(ba, ab === null ? null : mirror[ab]);
        assert.equal(ab === 'exact', a === b);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
