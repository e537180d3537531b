/**
 * Trains the plate head (edge/vision/plate-head.ts) on cached sequence
 * features: logits = features x W + b per time step, CTC loss
 * (ctc-loss.ts) against the plate's labels, Adam, and an L2 pull towards
 * the generic head it started from (so that what the generic model read
 * well it keeps reading: the training data is small and narrow, and the
 * plates it will meet are not).
 *
 * Deterministic: the same samples, seed and options give the same head
 * (the epoch loop is ctc-epoch.ts's seeded one; the optimiser is
 * adam-parameters.ts, float64 in a fixed order). The state (parameters,
 * Adam's moments, the epoch, the history) is plain data, so a run can be
 * saved and resumed.
 */
import { FEATURES, PlateHead } from '../edge/vision/plate-head.js';
import { AdamParameters } from './adam-parameters.js';
import type { AdamState } from './adam-parameters.js';
import { ctcLoss } from './ctc-loss.js';
import type { EpochFigures } from './ctc-epoch.js';
import { ctcFigures, trainOneEpoch } from './ctc-epoch.js';

export type { EpochFigures } from './ctc-epoch.js';

export interface Sample {
  /** [steps][FEATURES] */
  features: Float32Array;
  steps: number;
  /** plate alphabet columns 1..K-1 */
  labels: number[];
}

export interface TrainerOptions {
  learningRate: number;
  batchSize: number;
  /** strength of the pull towards the starting head */
  l2ToStart: number;
  seed: number;
}

export interface TrainerState extends AdamState {
  epoch: number;
  history: EpochFigures[];
}

export class HeadTrainer {
  private readonly adam: AdamParameters;
  epoch = 0;
  readonly history: EpochFigures[] = [];

  constructor(
    private readonly symbols: readonly string[],
    private readonly options: TrainerOptions,
    from: PlateHead | TrainerState,
  ) {
    if (from instanceof PlateHead) {
      this.adam = AdamParameters.from([...from.weights, ...from.bias]);
    } else {
      this.adam = AdamParameters.restore(from);
      this.epoch = from.epoch;
      this.history.push(...from.history);
    }
  }

  get columns(): number {
    return this.symbols.length + 1;
  }

  private get params(): Float64Array {
    return this.adam.values;
  }

  head(): PlateHead {
    const w = FEATURES * this.columns;
    return new PlateHead(
      this.symbols,
      Float32Array.from(this.params.subarray(0, w)),
      Float32Array.from(this.params.subarray(w)),
    );
  }

  state(): TrainerState {
    return { epoch: this.epoch, ...this.adam.state(), history: this.history.slice() };
  }

  /** One pass over `train` in a seeded order; then the figures on `validation`. */
  runEpoch(train: readonly Sample[], validation: readonly Sample[]): EpochFigures {
    this.epoch++;
    const { learningRate, l2ToStart, batchSize, seed } = this.options;
    const trainLoss = trainOneEpoch({
      count: train.length,
      seed,
      epoch: this.epoch,
      batchSize,
      size: this.adam.length,
      lossAndGradient: (i, grad) => this.accumulate(train[i]!, grad),
      step: (grad, used) => this.adam.update(grad, used, l2ToStart, () => learningRate),
    });
    const figures = { epoch: this.epoch, trainLoss, ...this.evaluate(validation) };
    this.history.push(figures);
    return figures;
  }

  /** Mean CTC loss and exact-read share of `samples` with the current head. */
  evaluate(samples: readonly Sample[]): { validationLoss: number; validationAccuracy: number } {
    return ctcFigures(samples, this.columns, (s) => this.logits(s));
  }

  private logits(s: Sample): Float64Array {
    const K = this.columns;
    const bias = FEATURES * K;
    const out = new Float64Array(s.steps * K);
    for (let t = 0; t < s.steps; t++) {
      for (let k = 0; k < K; k++) out[t * K + k] = this.params[bias + k]!;
      for (let f = 0; f < FEATURES; f++) {
        const x = s.features[t * FEATURES + f]!;
        if (x === 0) continue;
        const row = f * K;
        for (let k = 0; k < K; k++) out[t * K + k]! += x * this.params[row + k]!;
      }
    }
    return out;
  }

  /** Adds the sample's gradient to `grad`; returns its loss. */
  private accumulate(s: Sample, grad: Float64Array): number {
    const K = this.columns;
    const { loss, grad: g } = ctcLoss(this.logits(s), s.steps, K, s.labels);
    if (!Number.isFinite(loss)) return loss;
    const bias = FEATURES * K;
    for (let t = 0; t < s.steps; t++) {
      for (let k = 0; k < K; k++) grad[bias + k]! += g[t * K + k]!;
      for (let f = 0; f < FEATURES; f++) {
        const x = s.features[t * FEATURES + f]!;
        if (x === 0) continue;
        const row = f * K;
        for (let k = 0; k < K; k++) grad[row + k]! += x * g[t * K + k]!;
      }
    }
    return loss;
  }
}
