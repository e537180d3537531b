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
 * Adam (adam-parameters.ts) with its own learning rate for the neck and for
 * the head, and an L2 pull of every parameter towards where it started (the
 * generic model), because the training data is small and narrow.
 *
 * Deterministic: the same samples, seed and options give the same weights
 * (ctc-epoch.ts's seeded order, float64 arithmetic in a fixed order). The
 * state is plain data, so a run can be saved after an epoch and resumed.
 */
import { FEATURES, PlateHead } from '../edge/vision/plate-head.js';
import type { NeckModel } from '../edge/vision/neck-model.js';
import type { NeckShape } from '../edge/vision/plate-neck.js';
import { KERNEL, PlateNeck, neckForward } from '../edge/vision/plate-neck.js';
import { AdamParameters } from './adam-parameters.js';
import type { AdamState } from './adam-parameters.js';
import { ctcLoss } from './ctc-loss.js';
import type { EpochFigures } from './ctc-epoch.js';
import { ctcFigures, trainOneEpoch } from './ctc-epoch.js';

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

export interface NeckTrainerState extends AdamState {
  epoch: number;
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
  private readonly adam: AdamParameters;
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
      this.adam = AdamParameters.from([...from.neck.parameters, ...from.head.weights, ...from.head.bias]);
    } else {
      this.adam = AdamParameters.restore(from);
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
    return { epoch: this.epoch, ...this.adam.state(), history: this.history.slice() };
  }

  /** One pass over `train` in a seeded order, then the figures on `validation`. */
  runEpoch(
    train: readonly NeckSample[],
    validation: readonly NeckSample[],
    progress?: (done: number, total: number) => void,
  ): EpochFigures {
    this.epoch++;
    const { learningRate, neckLearningRate, l2ToStart, batchSize, seed } = this.options;
    const headStart = this.layout.hw;
    const trainLoss = trainOneEpoch({
      count: train.length,
      seed,
      epoch: this.epoch,
      batchSize,
      size: this.adam.length,
      lossAndGradient: (i, grad) => this.lossAndGradient(train[i]!, grad),
      step: (grad, used) =>
        this.adam.update(grad, used, l2ToStart, (i) => (i < headStart ? neckLearningRate : learningRate)),
      progress,
    });
    const figures = { epoch: this.epoch, trainLoss, ...this.evaluate(validation) };
    this.history.push(figures);
    return figures;
  }

  /** Mean CTC loss and exact-read share of `samples` with the current neck and head. */
  evaluate(samples: readonly NeckSample[]): { validationLoss: number; validationAccuracy: number } {
    return ctcFigures(samples, this.columns, (s) => this.forward(s).logits);
  }

  /** The parameters as one flat array (w1, b1, w2, b2, head weights, head bias); for tests. */
  get parameters(): Float64Array {
    return this.adam.values;
  }

  private get params(): Float64Array {
    return this.adam.values;
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
}

/** d swish(z) / dz = s + z s (1 - s), with s the sigmoid of z. */
function swishSlope(z: number): number {
  const s = 1 / (1 + Math.exp(-z));
  return s + z * s * (1 - s);
}
