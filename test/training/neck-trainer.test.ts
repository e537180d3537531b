/**
 * The plate neck's trainer (training/neck-trainer.ts) on a small neck
 * (5 input channels, 4 hidden; the head's 120 features): its gradient
 * matches finite differences of the CTC loss for every kind of parameter
 * (both convolutions' weights at the edge taps and in the middle, biases,
 * head); training lowers the loss; a run saved and resumed ends where an
 * uninterrupted one does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEATURES, PlateHead } from '../../edge/vision/plate-head.js';
import type { NeckShape } from '../../edge/vision/plate-neck.js';
import { KERNEL, PlateNeck } from '../../edge/vision/plate-neck.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import type { NeckSample } from '../../training/neck-trainer.js';
import { NeckTrainer } from '../../training/neck-trainer.js';

const shape: NeckShape = { input: 5, hidden: 4, features: FEATURES };
const symbols = ['A', 'B', 'C'];
const options = { learningRate: 0.02, neckLearningRate: 0.01, batchSize: 4, l2ToStart: 0.001, seed: 3 };

function randomModel(seed: number) {
  const random = new SeededRandom(seed);
  const size = shape.hidden * shape.input * KERNEL + shape.hidden + FEATURES * shape.hidden + FEATURES;
  const neck = PlateNeck.fromParameters(
    Array.from({ length: size }, () => random.between(-0.6, 0.6)),
    shape,
  );
  const K = symbols.length + 1;
  const head = new PlateHead(
    symbols,
    Float32Array.from({ length: FEATURES * K }, () => random.between(-0.3, 0.3)),
    Float32Array.from({ length: K }, () => random.between(-0.3, 0.3)),
  );
  return { neck, head };
}

/** strips whose input channel (label) is high while that label is shown, with noise */
function samples(n: number, seed: number): NeckSample[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: n }, () => {
    const labels = Array.from({ length: random.int(1, 3) }, () => random.int(1, 3));
    const steps = labels.length * 3 + 2;
    const columns = steps + random.int(0, 1); // with or without the padding column after
    const input = new Float32Array(shape.input * columns).map(() => random.between(-0.3, 0.3));
    labels.forEach((l, i) => (input[l * columns + i * 3 + 1] = 2));
    return { input, columns, steps, labels };
  });
}

describe('NeckTrainer', () => {
  it('computes the gradient of the CTC loss (checked against finite differences)', () => {
    const trainer = new NeckTrainer(shape, symbols, options, randomModel(7));
    const p = trainer.parameters;
    const C = shape.input;
    const H = shape.hidden;
    const b1 = H * C * KERNEL;
    const w2 = b1 + H;
    const b2 = w2 + FEATURES * H;
    const hw = b2 + FEATURES;
    const hb = hw + FEATURES * (symbols.length + 1);
    // first conv: left, middle and right taps of a few filters; its bias; second conv; its bias; head
    const checked = [
      0,
      1,
      2,
      7,
      3 * C + 2,
      b1 - 1,
      b1,
      b1 + 3,
      w2,
      w2 + 5,
      b2 - 1,
      b2,
      b2 + 9,
      hw,
      hw + 100,
      hb,
      hb + 2,
    ];
    for (const sample of samples(3, 11)) {
      const grad = new Float64Array(p.length);
      const loss = trainer.lossAndGradient(sample, grad);
      assert.ok(Number.isFinite(loss));
      for (const i of checked) {
        const h = 1e-5;
        const keep = p[i]!;
        p[i] = keep + h;
        const up = trainer.lossAndGradient(sample, new Float64Array(p.length));
        p[i] = keep - h;
        const down = trainer.lossAndGradient(sample, new Float64Array(p.length));
        p[i] = keep;
        const numeric = (up - down) / (2 * h);
        assert.ok(
          Math.abs(numeric - grad[i]!) <= 1e-6 + 1e-4 * Math.abs(numeric),
          `parameter ${i}: analytic ${grad[i]}, numeric ${numeric}`,
        );
      }
    }
  });

  it('lowers the validation loss of what it learns', () => {
    const train = samples(40, 1);
    const validation = samples(10, 2);
    const trainer = new NeckTrainer(shape, symbols, options, randomModel(3));
    const before = trainer.evaluate(validation);
    let last = trainer.runEpoch(train, validation);
    for (let e = 0; e < 9; e++) last = trainer.runEpoch(train, validation);
    assert.ok(last.validationLoss < before.validationLoss, `${last.validationLoss} < ${before.validationLoss}`);
  });

  it('is deterministic, and a resumed run ends where an uninterrupted one does', () => {
    const train = samples(12, 4);
    const validation = samples(4, 5);
    const straight = new NeckTrainer(shape, symbols, options, randomModel(1));
    straight.runEpoch(train, validation);
    straight.runEpoch(train, validation);
    const first = new NeckTrainer(shape, symbols, options, randomModel(1));
    first.runEpoch(train, validation);
    const resumed = new NeckTrainer(shape, symbols, options, JSON.parse(JSON.stringify(first.state())));
    resumed.runEpoch(train, validation);
    assert.deepEqual([...resumed.parameters], [...straight.parameters]);
    assert.deepEqual(resumed.history, straight.history);
    assert.deepEqual([...resumed.model().neck.w1], [...straight.model().neck.w1]);
  });
});
