/**
 * The plate-or-not classifier (edge/vision/plate-or-not.ts), its fit
 * (training/logistic-trainer.ts) and the sorting of reader strips into
 * plate and other text (training/reader-strips.ts): pure logic, property
 * tests; plus the shipped classifier file against its manifest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FEATURES } from '../../edge/vision/plate-head.js';
import { POOLED, PlateOrNot, poolFeatures } from '../../edge/vision/plate-or-not.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import { plateOrNotPenalty } from '../../edge/vision/plate-reader.js';
import { classifierFigures, fitLogistic, logitOf } from '../../training/logistic-trainer.js';
import type { LabelledVector } from '../../training/logistic-trainer.js';
import { editDistance, isNearPlate, isOtherText, isPlateRead } from '../../training/reader-strips.js';
import { nonPlateTexts } from '../../training/non-plate-text.js';
import { SeededRandom } from '../../scenes/seeded-random.js';

describe('plate-or-not: pooling and the classifier file', () => {
  it('pools each feature to its mean and its maximum over the time steps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1000 }), (steps, seed) => {
        const random = new SeededRandom(seed);
        const f = Float32Array.from({ length: steps * FEATURES }, () => random.between(-3, 3));
        const pooled = poolFeatures(f, steps);
        assert.equal(pooled.length, POOLED);
        for (const k of [0, 17, FEATURES - 1]) {
          const column = Array.from({ length: steps }, (_, t) => f[t * FEATURES + k]!);
          assert.ok(Math.abs(pooled[k]! - column.reduce((a, b) => a + b, 0) / steps) < 1e-9);
          assert.equal(pooled[FEATURES + k], Math.max(...column));
        }
      }),
    );
  });

  it('writes and reads back the same classifier; refuses a damaged file naming the field', () => {
    const random = new SeededRandom(3);
    const v = () => Float64Array.from({ length: POOLED }, () => random.between(-1, 1));
    const model = new PlateOrNot(
      v(),
      Float64Array.from({ length: POOLED }, () => random.between(0.5, 2)),
      v(),
      0.25,
    );
    const file = JSON.parse(JSON.stringify(model.toFile({ note: 'test' })));
    const back = PlateOrNot.fromFile(file);
    const x = v();
    assert.ok(Math.abs(back.logOdds(x) - model.logOdds(x)) < 1e-3);
    assert.throws(() => PlateOrNot.fromFile({ ...file, schema: 'x' }), /not a platepay-plate-or-not/);
    assert.throws(() => PlateOrNot.fromFile({ ...file, weights: [1, 2] }), /"weights" must be 240 numbers/);
    assert.throws(() => PlateOrNot.fromFile({ ...file, std: file.std.map(() => 0) }), /not positive/);
    assert.throws(() => PlateOrNot.fromFile({ ...file, bias: 'x' }), /"bias" must be a number/);
  });

  it('the shipped classifier loads through the manifest (its SHA-256 checked)', () => {
    const bytes = new ModelFiles().bytes('plate-or-not');
    const model = PlateOrNot.fromFile(JSON.parse(bytes.toString('utf8')));
    assert.equal(model.weights.length, POOLED);
  });
});

describe('plate-or-not: the logistic fit', () => {
  it('separates two separable clouds, whatever their sizes, and is deterministic', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 5, max: 40 }),
        fc.integer({ min: 5, max: 40 }),
        (seed, nPlates, nOthers) => {
          const random = new SeededRandom(seed);
          const d = 6;
          const axis = random.int(0, d - 1);
          const make = (y: 0 | 1): LabelledVector => {
            const x = Float64Array.from({ length: d }, () => random.between(-1, 1));
            x[axis] = (y === 1 ? 2 : -2) + random.between(-0.5, 0.5);
            return { x, y };
          };
          const data = [
            ...Array.from({ length: nPlates }, () => make(1)),
            ...Array.from({ length: nOthers }, () => make(0)),
          ];
          const options = { iterations: 150, learningRate: 0.05, l2: 0.001 };
          const model = fitLogistic(data, options);
          const figures = classifierFigures(model, data);
          assert.equal(figures.plateRecall, 1);
          assert.equal(figures.otherRejected, 1);
          const again = fitLogistic(data, options);
          assert.equal(logitOf(again, data[0]!.x), logitOf(model, data[0]!.x));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses training data with one class only', () => {
    const x = new Float64Array(3);
    assert.throws(
      () => fitLogistic([{ x, y: 1 }], { iterations: 1, learningRate: 0.1, l2: 0 }),
      /both plates and other/,
    );
    assert.throws(() => fitLogistic([], { iterations: 1, learningRate: 0.1, l2: 0 }), /no training vectors/);
  });
});

describe('plate-or-not: sorting the reader strips', () => {
  const text = fc.stringMatching(/^[A-Z0-9]{0,9}$/);

  it('edit distance is a metric on small strings (zero on equal, symmetric, triangle)', () => {
    fc.assert(
      fc.property(text, text, text, (a, b, c) => {
        assert.equal(editDistance(a, a), 0);
        assert.equal(editDistance(a, b), editDistance(b, a));
        assert.ok(editDistance(a, c) <= editDistance(a, b) + editDistance(b, c));
        assert.ok(editDistance(a, b) >= Math.abs(a.length - b.length));
      }),
    );
  });

  it('a read is never both near the plate and other text; the plate itself is a plate read', () => {
    fc.assert(
      fc.property(text, text, (read, plate) => {
        fc.pre(plate.length >= 3);
        assert.ok(!(isNearPlate(read, plate) && isOtherText(read, plate)));
        assert.ok(isPlateRead(plate, plate) && isNearPlate(plate, plate));
      }),
      { numRuns: 2000 },
    );
    assert.ok(!isOtherText('AXC', 'ABC'), 'a short plate misread is near it, not other text');
    assert.ok(isPlateRead('AYL375', '皖AYL375'), 'a Chinese plate read without its province character');
    assert.ok(isNearPlate('ABC1284', 'ABC1234'));
    assert.ok(!isNearPlate('ABC', 'ABC1234'), 'half a plate is neither');
    assert.ok(!isOtherText('ABC', 'ABC1234'));
    assert.ok(isOtherText('CURITIBA', 'ABC1234'));
  });

  it('rendered non-plate text is seeded: the same seed gives the same texts and images', async () => {
    const a = nonPlateTexts(6, 4);
    const b = nonPlateTexts(6, 4);
    assert.deepEqual(
      a.map((t) => t.text),
      b.map((t) => t.text),
    );
    for (let i = 0; i < 6; i++) assert.ok((await a[i]!.load()).equals(await b[i]!.load()), `image ${i}`);
  });
});

describe('plate-or-not: the rank penalty', () => {
  it('is zero from a plate probability of 0.5 up, at most the weight, and falls as the probability rises', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (p, q, w) => {
          const a = plateOrNotPenalty(p, w);
          assert.ok(a >= 0 && a <= w + 1e-12);
          if (p >= 0.5) assert.equal(a, 0);
          if (p <= q) assert.ok(a >= plateOrNotPenalty(q, w));
        },
      ),
    );
    assert.equal(plateOrNotPenalty(null, 3), 0, 'no classifier, no penalty');
    assert.equal(plateOrNotPenalty(0, 3), 3);
  });
});
