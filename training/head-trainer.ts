/**
 * Trains the plate head (edge/vision/plate-head.ts) on cached sequence
 * features: logits = features x W + b per time step, CTC loss
 * (ctc-loss.ts) against the plate's labels, Adam, and an L2 pull towards
 * the generic head it started from (so that what the generic model read
 * well it keeps reading: the training data is small and narrow, and the
 * plates it will meet are not).
 *
 * Deterministic: the same samples, seed and options give the same head
 * (the order of each epoch comes from a seeded shuffle; arithmetic is in
 * float64, in a fixed order). The state (parameters, Adam's moments, the
 * epoch, the history) is plain data, so a run can be saved and resumed.
 */
import { FEATURES, PlateHead } from '../edge/vision/plate-head.js';
import { SeededRandom } from '../scenes/seeded-random.js';
import { ctcLoss, greedyLabels } from './ctc-loss.js';

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

export interface EpochFigures {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  /** share of validation samples read exactly (greedy decode) */
  validationAccuracy: number;
}

export interface TrainerState {
  epoch: number;
  params: number[];
  start: number[];
  m: number[];
  v: number[];
  step: number;
  history: EpochFigures[];
}

export class HeadTrainer {
  private readonly params: Float64Array;
  private readonly start: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private step = 0;
  epoch = 0;
  readonly history: EpochFigures[] = [];

  constructor(
    private readonly symbols: readonly string[],
    private readonly options: TrainerOptions,
    from: PlateHead | TrainerState,
  ) {
    if (from instanceof PlateHead) {
      this.params = Float64Array.from([...from.weights, ...from.bias]);
      this.start = Float64Array.from(this.params);
      this.m = new Float64Array(this.params.length);
      this.v = new Float64Array(this.params.length);
    } else {
      this.params = Float64Array.from(from.params);
      this.start = Float64Array.from(from.start);
      this.m = Float64Array.from(from.m);
      this.v = Float64Array.from(from.v);
      this.step = from.step;
      this.epoch = from.epoch;
      this.history.push(...from.history);
    }
  }

  get columns(): number {
    return this.symbols.length + 1;
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
    return {
      epoch: this.epoch,
      params: [...this.params],
      start: [...this.start],
      m: [...this.m],
      v: [...this.v],
      step: this.step,
      history: this.history.slice(),
    };
  }

  /** One pass over `train` in a seeded order; then the figures on `validation`. */
  runEpoch(train: readonly Sample[], validation: readonly Sample[]): EpochFigures {
    this.epoch++;
    const random = new SeededRandom(this.options.seed * 1000 + this.epoch);
    const order = train.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const grad = new Float64Array(this.params.length);
    let lossSum = 0;
    let counted = 0;
    for (let b = 0; b < order.length; b += this.options.batchSize) {
      grad.fill(0);
      const batch = order.slice(b, b + this.options.batchSize);
      let used = 0;
      for (const i of batch) {
        const loss = this.accumulate(train[i]!, grad);
        if (Number.isFinite(loss)) {
          lossSum += loss;
          counted++;
          used++;
        }
      }
      if (used > 0) this.update(grad, used);
    }
    const v = this.evaluate(validation);
    const figures = { epoch: this.epoch, trainLoss: counted ? lossSum / counted : NaN, ...v };
    this.history.push(figures);
    return figures;
  }

  /** Mean CTC loss and exact-read share of `samples` with the current head. */
  evaluate(samples: readonly Sample[]): { validationLoss: number; validationAccuracy: number } {
    let loss = 0;
    let counted = 0;
    let right = 0;
    for (const s of samples) {
      const logits = this.logits(s);
      const l = ctcLoss(logits, s.steps, this.columns, s.labels).loss;
      if (Number.isFinite(l)) {
        loss += l;
        counted++;
      }
      const read = greedyLabels(logits, s.steps, this.columns);
      if (read.length === s.labels.length && read.every((k, i) => k === s.labels[i])) right++;
    }
    return {
      validationLoss: counted ? loss / counted : NaN,
      validationAccuracy: samples.length ? right / samples.length : NaN,
    };
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

  /** Adam (Kingma & Ba 2015) on the batch mean plus the pull towards the start. */
  private update(grad: Float64Array, n: number): void {
    const { learningRate: lr, l2ToStart } = this.options;
    const b1 = 0.9;
    const b2 = 0.999;
    this.step++;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    for (let i = 0; i < this.params.length; i++) {
      const g = grad[i]! / n + l2ToStart * (this.params[i]! - this.start[i]!);
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g;
      this.params[i]! -= (lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + 1e-8);
    }
  }
}
