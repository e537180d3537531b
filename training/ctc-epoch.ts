/**
 * What the plate trainers (head-trainer.ts, neck-trainer.ts) do the same
 * way around their own forward and backward passes: an epoch over the
 * training samples in a seeded order, in batches (a sample whose CTC loss
 * is not finite, e.g. a label longer than its strip allows, adds nothing),
 * and the validation figures (mean CTC loss, share read exactly by greedy
 * decoding).
 */
import { SeededRandom } from '../scenes/seeded-random.js';
import { ctcLoss, greedyLabels } from './ctc-loss.js';

export interface EpochFigures {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  /** share of validation samples read exactly (greedy decode) */
  validationAccuracy: number;
}

/** 0..count-1 shuffled by a seeded Fisher-Yates: the same seed and epoch give the same order */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const random = new SeededRandom(seed * 1000 + epoch);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

export interface EpochPass {
  count: number;
  seed: number;
  epoch: number;
  batchSize: number;
  /** the gradient's length (the parameter count) */
  size: number;
  /** adds sample i's gradient to `grad`; returns its loss */
  lossAndGradient(i: number, grad: Float64Array): number;
  /** one optimiser step on the batch's summed gradient of `used` samples */
  step(grad: Float64Array, used: number): void;
  progress?: (done: number, total: number) => void;
}

/** One pass in batches; returns the mean training loss (NaN when no sample counted). */
export function trainOneEpoch(pass: EpochPass): number {
  const order = epochOrder(pass.count, pass.seed, pass.epoch);
  const grad = new Float64Array(pass.size);
  let lossSum = 0;
  let counted = 0;
  for (let b = 0; b < order.length; b += pass.batchSize) {
    grad.fill(0);
    let used = 0;
    for (const i of order.slice(b, b + pass.batchSize)) {
      const loss = pass.lossAndGradient(i, grad);
      if (Number.isFinite(loss)) {
        lossSum += loss;
        counted++;
        used++;
      }
    }
    if (used > 0) pass.step(grad, used);
    pass.progress?.(Math.min(b + pass.batchSize, order.length), order.length);
  }
  return counted ? lossSum / counted : NaN;
}

/** Mean CTC loss and exact-read share of samples, given each one's logits [steps][columns]. */
export function ctcFigures<S extends { steps: number; labels: number[] }>(
  samples: readonly S[],
  columns: number,
  logitsOf: (sample: S) => Float64Array,
): { validationLoss: number; validationAccuracy: number } {
  let loss = 0;
  let counted = 0;
  let right = 0;
  for (const s of samples) {
    const logits = logitsOf(s);
    const l = ctcLoss(logits, s.steps, columns, s.labels).loss;
    if (Number.isFinite(l)) {
      loss += l;
      counted++;
    }
    const read = greedyLabels(logits, s.steps, columns);
    if (read.length === s.labels.length && read.every((k, i) => k === s.labels[i])) right++;
  }
  return {
    validationLoss: counted ? loss / counted : NaN,
    validationAccuracy: samples.length ? right / samples.length : NaN,
  };
}
