/**
 * Trains the plate neck (edge/vision/plate-neck.ts: the recogniser's last
 * two convolutions, batch norms folded and frozen) together with the plate
 * head on top of it (edge/vision/plate-head.ts), on cached neck inputs
 * (`p2o.Concat.8`, what the frozen backbone computes for each strip).
 *
 * Per strip: neck forward (neckForward) -> features a2 [120][T] -> logits
 * = a2^T x W + b -> CTC loss (ctc-loss.ts) -> backward through the head,
 * the second convolution (1x1) and the first (width 3, one step of zero
 * padding on each side), each swish's derivative s(z) (1 + z (1 - s(z))).
 * Adam with its own learning rate for the neck and for the head, and an L2
 * pull of every parameter towards where it started (the generic model),
 * because the training data is small and narrow.
 *
 * Deterministic: the same samples, seed and options give the same weights
 * (seeded order, float64 arithmetic in a fixed order). The state is plain
 * data, so a run can be saved after an epoch and resumed.
 */
import { FEATURES, PlateHead } from '../edge/vision/plate-head.js';
import type { NeckModel } from '../edge/vision/neck-model.js';
import type { NeckShape } from '../edge/vision/plate-neck.js';
import { KERNEL, PlateNeck, neckForward } from '../edge/vision/plate-neck.js';
import { SeededRandom } from '../scenes/seeded-random.js';
import { ctcLoss, greedyLabels } from './ctc-loss.js';
import type { EpochFigures } from './head-trainer.js';

export interface NeckSample {
  /** the neck's input [shape.input][columns], channel-major */
  input: Float32Array;
  columns: number;
  /** the strip's own time steps (columns is this or one more) */
  steps: number;
  /** plate alphabet columns 1..K-1 */
  labels: number[];
}

export interface NeckTrainerOptions {
  /** Adam's step for the head */
  learningRate: number;
  /** Adam's step for the neck (smaller: its weights are small and shared by every step) */
  neckLearningRate: number;
  batchSize: number;
  /** strength of the pull of every parameter towards the start */
  l2ToStart: number;
  seed: number;
}

export interface NeckTrainerState {
  epoch: number;
  params: number[];
  start: number[];
  m: number[];
  v: number[];
  step: number;
  history: EpochFigures[];
}

/** Where each part lives in the flat parameter array. */
interface Layout {
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  /** the head's weights [FEATURES][columns], then its bias */
  hw: number;
  hb: number;
  total: number;
}

export class NeckTrainer {
  private readonly layout: Layout;
  private readonly params: Float64Array;
  private readonly start: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private step = 0;
  epoch = 0;
  readonly history: EpochFigures[] = [];

  constructor(
    readonly shape: NeckShape,
    private readonly symbols: readonly string[],
    private readonly options: NeckTrainerOptions,
    from: NeckModel | NeckTrainerState,
  ) {
    if (shape.features !== FEATURES) throw new RangeError(`the neck must give the head's ${FEATURES} features`);
    const { input: C, hidden: H } = shape;
    const K = symbols.length + 1;
    const w1 = 0;
    const b1 = w1 + H * C * KERNEL;
    const w2 = b1 + H;
    const b2 = w2 + FEATURES * H;
    const hw = b2 + FEATURES;
    const hb = hw + FEATURES * K;
    this.layout = { w1, b1, w2, b2, hw, hb, total: hb + K };
    if ('neck' in from) {
      this.params = Float64Array.from([...from.neck.parameters, ...from.head.weights, ...from.head.bias]);
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
    if (this.params.length !== this.layout.total)
      throw new RangeError(`neck trainer: ${this.params.length} parameters, expected ${this.layout.total}`);
  }

  get columns(): number {
    return this.symbols.length + 1;
  }

  /** The neck and head as they are now. */
  model(): NeckModel {
    const { hw, hb } = this.layout;
    return {
      neck: PlateNeck.fromParameters(this.params.subarray(0, hw), this.shape),
      head: new PlateHead(
        this.symbols,
        Float32Array.from(this.params.subarray(hw, hb)),
        Float32Array.from(this.params.subarray(hb)),
      ),
    };
  }

  state(): NeckTrainerState {
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

  /** One pass over `train` in a seeded order, then the figures on `validation`. */
  runEpoch(
    train: readonly NeckSample[],
    validation: readonly NeckSample[],
    progress?: (done: number, total: number) => void,
  ): EpochFigures {
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
      let used = 0;
      for (const i of order.slice(b, b + this.options.batchSize)) {
        const loss = this.lossAndGradient(train[i]!, grad);
        if (Number.isFinite(loss)) {
          lossSum += loss;
          counted++;
          used++;
        }
      }
      if (used > 0) this.update(grad, used);
      progress?.(Math.min(b + this.options.batchSize, order.length), order.length);
    }
    const figures = { epoch: this.epoch, trainLoss: counted ? lossSum / counted : NaN, ...this.evaluate(validation) };
    this.history.push(figures);
    return figures;
  }

  /** Mean CTC loss and exact-read share of `samples` with the current neck and head. */
  evaluate(samples: readonly NeckSample[]): { validationLoss: number; validationAccuracy: number } {
    let loss = 0;
    let counted = 0;
    let right = 0;
    for (const s of samples) {
      const { logits } = this.forward(s);
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

  /** The parameters as one flat array (w1, b1, w2, b2, head weights, head bias); for tests. */
  get parameters(): Float64Array {
    return this.params;
  }

  private forward(s: NeckSample): { logits: Float64Array; act: ReturnType<typeof neckForward> } {
    const { w1, b1, w2, b2, hw, hb } = this.layout;
    const p = this.params;
    const act = neckForward(
      this.shape,
      { w1: p.subarray(w1, b1), b1: p.subarray(b1, w2), w2: p.subarray(w2, b2), b2: p.subarray(b2, hw) },
      s.input,
      s.columns,
      s.steps,
    );
    const K = this.columns;
    const T = s.steps;
    const logits = new Float64Array(T * K);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) logits[t * K + k] = p[hb + k]!;
    for (let j = 0; j < FEATURES; j++) {
      const row = hw + j * K;
      for (let t = 0; t < T; t++) {
        const a = act.a2[j * T + t]!;
        for (let k = 0; k < K; k++) logits[t * K + k]! += a * p[row + k]!;
      }
    }
    return { logits, act };
  }

  /** Adds the sample's gradient (of its CTC loss) to `grad`; returns the loss. */
  lossAndGradient(s: NeckSample, grad: Float64Array): number {
    const { w1, b1, w2, b2, hw, hb } = this.layout;
    const { input: C, hidden: H } = this.shape;
    const p = this.params;
    const K = this.columns;
    const T = s.steps;
    const { logits, act } = this.forward(s);
    const { loss, grad: g } = ctcLoss(logits, T, K, s.labels);
    if (!Number.isFinite(loss)) return loss;
    // the head
    const gz2 = new Float64Array(FEATURES * T);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) grad[hb + k]! += g[t * K + k]!;
    for (let j = 0; j < FEATURES; j++) {
      const row = hw + j * K;
      for (let t = 0; t < T; t++) {
        const a = act.a2[j * T + t]!;
        let ga = 0;
        for (let k = 0; k < K; k++) {
          grad[row + k]! += a * g[t * K + k]!;
          ga += p[row + k]! * g[t * K + k]!;
        }
        gz2[j * T + t] = ga * swishSlope(act.z2[j * T + t]!);
      }
    }
    // the second convolution (1x1)
    const ga1 = new Float64Array(H * T);
    for (let j = 0; j < FEATURES; j++) {
      for (let t = 0; t < T; t++) grad[b2 + j]! += gz2[j * T + t]!;
      for (let o = 0; o < H; o++) {
        const w = p[w2 + j * H + o]!;
        let gw = 0;
        for (let t = 0; t < T; t++) {
          gw += gz2[j * T + t]! * act.a1[o * T + t]!;
          ga1[o * T + t]! += w * gz2[j * T + t]!;
        }
        grad[w2 + j * H + o]! += gw;
      }
    }
    // the first convolution (width 3), over its input windows (one row per output step)
    const gz1 = ga1.map((v, i) => v * swishSlope(act.z1[i]!));
    const width = C * KERNEL;
    for (let o = 0; o < H; o++) {
      const w = w1 + o * width;
      for (let t = 0; t < T; t++) {
        const go = gz1[o * T + t]!;
        grad[b1 + o]! += go;
        if (go === 0) continue;
        const x = t * width;
        for (let i = 0; i < width; i++) grad[w + i]! += go * act.cols[x + i]!;
      }
    }
    return loss;
  }

  /** Adam (Kingma & Ba 2015) on the batch mean plus the pull towards the start. */
  private update(grad: Float64Array, n: number): void {
    const { learningRate, neckLearningRate, l2ToStart } = this.options;
    const b1 = 0.9;
    const b2 = 0.999;
    this.step++;
    const c1 = 1 - b1 ** this.step;
    const c2 = 1 - b2 ** this.step;
    for (let i = 0; i < this.params.length; i++) {
      const lr = i < this.layout.hw ? neckLearningRate : learningRate;
      const g = grad[i]! / n + l2ToStart * (this.params[i]! - this.start[i]!);
      this.m[i] = b1 * this.m[i]! + (1 - b1) * g;
      this.v[i] = b2 * this.v[i]! + (1 - b2) * g * g;
      this.params[i]! -= (lr * (this.m[i]! / c1)) / (Math.sqrt(this.v[i]! / c2) + 1e-8);
    }
  }
}

/** d swish(z) / dz = s + z s (1 - s), with s the sigmoid of z. */
function swishSlope(z: number): number {
  const s = 1 / (1 + Math.exp(-z));
  return s + z * s * (1 - s);
}
