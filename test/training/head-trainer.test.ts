/**
 * The plate head's trainer (training/head-trainer.ts) on small synthetic
 * features: it lowers the loss of what it trains on, it is deterministic
 * for a seed, and a run saved after one epoch and resumed ends exactly
 * where an uninterrupted run does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FEATURES, PlateHead } from '../../edge/vision/plate-head.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import type { Sample } from '../../training/head-trainer.js';
import { HeadTrainer } from '../../training/head-trainer.js';

const symbols = ['A', 'B', 'C'];
const options = { learningRate: 0.05, batchSize: 4, l2ToStart: 0.001, seed: 3 };

/** sequences whose features point at their label: feature k is high while label k is "shown" */
function samples(n: number, seed: number): Sample[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: n }, () => {
    const labels = Array.from({ length: random.int(1, 3) }, () => random.int(1, 3));
    const steps = labels.length * 3 + 2;
    const features = new Float32Array(steps * FEATURES);
    labels.forEach((l, i) => {
      features[(i * 3 + 1) * FEATURES + l] = 3;
      for (let f = 10; f < 20; f++) features[(i * 3 + 1) * FEATURES + f] = random.between(-0.1, 0.1);
    });
    return { features, steps, labels };
  });
}

const start = () => new PlateHead(symbols, new Float32Array(FEATURES * 4), new Float32Array(4));

describe('HeadTrainer', () => {
  it('lowers the loss and learns to read what it is taught', () => {
    const train = samples(40, 1);
    const validation = samples(10, 2);
    const trainer = new HeadTrainer(symbols, options, start());
    const before = trainer.evaluate(validation);
    let last = trainer.runEpoch(train, validation);
    for (let e = 0; e < 14; e++) last = trainer.runEpoch(train, validation);
    assert.ok(last.validationLoss < before.validationLoss, `${last.validationLoss} < ${before.validationLoss}`);
    assert.ok(last.validationAccuracy >= 0.9, `validation accuracy ${last.validationAccuracy}`);
  });

  it('is deterministic, and a resumed run ends where an uninterrupted one does', () => {
    const train = samples(20, 4);
    const validation = samples(5, 5);
    const straight = new HeadTrainer(symbols, options, start());
    straight.runEpoch(train, validation);
    straight.runEpoch(train, validation);
    const first = new HeadTrainer(symbols, options, start());
    first.runEpoch(train, validation);
    const saved = JSON.parse(JSON.stringify(first.state()));
    const resumed = new HeadTrainer(symbols, options, saved);
    resumed.runEpoch(train, validation);
    assert.deepEqual([...resumed.head().weights], [...straight.head().weights]);
    assert.deepEqual(resumed.history, straight.history);
  });
});
