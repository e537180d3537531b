/**
 * The plate neck: the recogniser's last two convolutions, retrained for
 * plates together with the plate head (plate-head.ts).
 *
 * PP-OCRv4 rec ends, before its last layer, in
 *   `p2o.Concat.8` [N, 960, 1, T]
 *   -> conv `conv2d_145.w_0` [60, 960, 1, 3] (pads 1 left and right) + BN + swish
 *   -> conv `conv2d_146.w_0` [120, 60, 1, 1] + BN + swish
 *   -> `transpose_51.tmp_0` [N, T, 120], the sequence features the head reads.
 * Here the batch norms are folded into the convolutions (each BN is
 * `s * z + c` with its running statistics, frozen), so the neck is four
 * arrays: w1 [60][960][3], b1 [60], w2 [120][60], b2 [120].
 *
 * At inference the neck runs inside onnxruntime, not here: `patch` writes
 * the weights back into the model's Constant nodes (each conv weight
 * divided by its BN scale, each BN bias set so that `s * z + c` comes out),
 * so the model keeps its shape and cost. `forward` is the same computation
 * in TypeScript, for training (training/neck-trainer.ts) and for checking
 * the patched model against it.
 */
import { constantTensor, withConstantTensors } from './onnx-graph.js';

/** the tensor the neck reads, exposed as an extra output for training */
export const NECK_INPUT = 'p2o.Concat.8';

export interface NeckShape {
  /** channels in (960) */
  input: number;
  /** channels between the two convolutions (60) */
  hidden: number;
  /** channels out: the sequence features (120) */
  features: number;
}

export const NECK_SHAPE: NeckShape = { input: 960, hidden: 60, features: 120 };
/** the first convolution's width (time) kernel; it pads one step on each side */
export const KERNEL = 3;

/** Where each part of the neck lives in the rec model. */
const GRAPH = {
  conv1: 'conv2d_145.w_0',
  bn1: 'batch_norm2d_151',
  swish1: 'p2o.helper.constant.116',
  conv2: 'conv2d_146.w_0',
  bn2: 'batch_norm2d_152',
  swish2: 'p2o.helper.constant.117',
} as const;
/** the BatchNormalization nodes' epsilon (as float32) */
const BN_EPSILON = Math.fround(1e-5);

/** The neck's parameters (folded), as flat arrays; w1 is [hidden][input][KERNEL], w2 [features][hidden]. */
export interface NeckParams {
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

/** What the forward pass computes, kept for the backward pass (training). */
export interface NeckActivations {
  /** the first convolution's input windows [steps][input][KERNEL] (see windows) */
  cols: Float64Array;
  /** [hidden][steps] before and after swish */
  z1: Float64Array;
  a1: Float64Array;
  /** [features][steps] before and after swish */
  z2: Float64Array;
  a2: Float64Array;
}

export const swish = (z: number): number => z / (1 + Math.exp(-z));

/**
 * The neck over one strip: `input` is [shape.input][columns] (channel-major,
 * as the model lays out `p2o.Concat.8`); the output covers the first
 * `steps` time steps. Columns beyond `columns` count as zero (the
 * convolution's padding), so pass one column past `steps` when the model
 * had one (a strip padded to the batch width) to get exactly its features.
 */
export function neckForward(
  shape: NeckShape,
  p: NeckParams,
  input: ArrayLike<number>,
  columns: number,
  steps: number,
): NeckActivations {
  const { input: C, hidden: H, features: F } = shape;
  const T = steps;
  const cols = windows(shape, input, columns, steps);
  const z1 = new Float64Array(H * T);
  const width = C * KERNEL;
  for (let o = 0; o < H; o++) {
    const w = o * width;
    for (let t = 0; t < T; t++) {
      const x = t * width;
      let sum = p.b1[o]!;
      for (let i = 0; i < width; i++) sum += p.w1[w + i]! * cols[x + i]!;
      z1[o * T + t] = sum;
    }
  }
  const a1 = z1.map(swish);
  const z2 = new Float64Array(F * T);
  for (let j = 0; j < F; j++) {
    const row = j * T;
    for (let t = 0; t < T; t++) z2[row + t] = p.b2[j]!;
    for (let o = 0; o < H; o++) {
      const w = p.w2[j * H + o]!;
      for (let t = 0; t < T; t++) z2[row + t]! += w * a1[o * T + t]!;
    }
  }
  return { cols, z1, a1, z2, a2: z2.map(swish) };
}

/**
 * What the first convolution sees at each output step, [steps][input][KERNEL]
 * ("im2col"): row t holds input columns t - 1, t, t + 1 of every channel
 * (zero outside 0..columns-1), in the order of w1's rows, so each output
 * is one contiguous dot product.
 */
export function windows(shape: NeckShape, input: ArrayLike<number>, columns: number, steps: number): Float64Array {
  const C = shape.input;
  const out = new Float64Array(steps * C * KERNEL);
  for (let t = 0; t < steps; t++) {
    const row = t * C * KERNEL;
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < KERNEL; k++) {
        const at = t + k - 1;
        if (at >= 0 && at < columns) out[row + c * KERNEL + k] = input[c * columns + at]!;
      }
    }
  }
  return out;
}

/** The neck's sequence features [steps][features] (time-major, as the plate head reads them). */
export function neckFeatures(shape: NeckShape, a2: Float64Array, steps: number): Float32Array {
  const out = new Float32Array(steps * shape.features);
  for (let j = 0; j < shape.features; j++)
    for (let t = 0; t < steps; t++) out[t * shape.features + j] = a2[j * steps + t]!;
  return out;
}

export class PlateNeck implements NeckParams {
  constructor(
    readonly w1: Float32Array,
    readonly b1: Float32Array,
    readonly w2: Float32Array,
    readonly b2: Float32Array,
    readonly shape: NeckShape = NECK_SHAPE,
  ) {
    const { input: C, hidden: H, features: F } = shape;
    if (w1.length !== H * C * KERNEL || b1.length !== H || w2.length !== F * H || b2.length !== F) {
      throw new RangeError(`plate neck: parameter sizes do not fit [${C}, ${H}, ${F}]`);
    }
  }

  /** All parameters in one array: w1, b1, w2, b2. */
  get parameters(): Float32Array {
    const out = new Float32Array(this.w1.length + this.b1.length + this.w2.length + this.b2.length);
    let at = 0;
    for (const part of [this.w1, this.b1, this.w2, this.b2]) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  static fromParameters(values: ArrayLike<number>, shape: NeckShape = NECK_SHAPE): PlateNeck {
    const { input: C, hidden: H, features: F } = shape;
    const sizes = [H * C * KERNEL, H, F * H, F];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (values.length !== total) throw new RangeError(`plate neck: ${values.length} parameters, expected ${total}`);
    const parts: Float32Array[] = [];
    let at = 0;
    for (const n of sizes) {
      parts.push(Float32Array.from({ length: n }, (_, i) => values[at + i]!));
      at += n;
    }
    return new PlateNeck(parts[0]!, parts[1]!, parts[2]!, parts[3]!, shape);
  }

  /** The generic model's own neck, batch norms folded in. */
  static fromGeneric(recModel: Buffer): PlateNeck {
    for (const name of [GRAPH.swish1, GRAPH.swish2]) {
      const beta = constantTensor(recModel, name).data;
      if (beta.length !== 1 || beta[0] !== 1) throw new Error(`rec model: ${name} is not swish's beta 1`);
    }
    const conv1 = constantTensor(recModel, GRAPH.conv1);
    const conv2 = constantTensor(recModel, GRAPH.conv2);
    const { input: C, hidden: H, features: F } = NECK_SHAPE;
    if (conv1.dims.join() !== [H, C, 1, KERNEL].join() || conv2.dims.join() !== [F, H, 1, 1].join()) {
      throw new Error(`rec model: unexpected neck shapes [${conv1.dims.join(', ')}] and [${conv2.dims.join(', ')}]`);
    }
    const bn1 = batchNorm(recModel, GRAPH.bn1);
    const bn2 = batchNorm(recModel, GRAPH.bn2);
    const fold = (w: Float32Array, bn: FoldedBatchNorm, perOut: number): Float32Array =>
      w.map((v, i) => v * bn.scale[Math.floor(i / perOut)]!);
    return new PlateNeck(fold(conv1.data, bn1, C * KERNEL), bn1.shift, fold(conv2.data, bn2, H), bn2.shift);
  }

  /**
   * The rec model with this neck written into its Constant nodes (the
   * conv weights and the BN biases; the BN scales and statistics stay).
   */
  patch(recModel: Buffer): Buffer {
    const { input: C, hidden: H } = this.shape;
    const bn1 = batchNorm(recModel, GRAPH.bn1);
    const bn2 = batchNorm(recModel, GRAPH.bn2);
    const unfold = (w: Float32Array, bn: FoldedBatchNorm, perOut: number): Float32Array =>
      w.map((v, i) => v / bn.scale[Math.floor(i / perOut)]!);
    // BN(z) = s * z + (beta - s * mean): the bias that gives shift c is c + s * mean
    const bias = (c: Float32Array, bn: FoldedBatchNorm): Float32Array =>
      c.map((v, i) => v + bn.scale[i]! * bn.mean[i]!);
    return withConstantTensors(
      recModel,
      new Map([
        [GRAPH.conv1, unfold(this.w1, bn1, C * KERNEL)],
        [`${GRAPH.bn1}.b_0`, bias(this.b1, bn1)],
        [GRAPH.conv2, unfold(this.w2, bn2, H)],
        [`${GRAPH.bn2}.b_0`, bias(this.b2, bn2)],
      ]),
    );
  }
}

interface FoldedBatchNorm {
  /** gamma / sqrt(var + eps) */
  scale: Float32Array;
  /** beta - scale * mean */
  shift: Float32Array;
  mean: Float32Array;
}

/** A BatchNormalization's constants (`<name>.w_0` gamma, `.b_0` beta, `.w_1` mean, `.w_2` variance), folded. */
function batchNorm(recModel: Buffer, name: string): FoldedBatchNorm {
  const gamma = constantTensor(recModel, `${name}.w_0`).data;
  const beta = constantTensor(recModel, `${name}.b_0`).data;
  const mean = constantTensor(recModel, `${name}.w_1`).data;
  const variance = constantTensor(recModel, `${name}.w_2`).data;
  const scale = gamma.map((g, i) => g / Math.sqrt(variance[i]! + BN_EPSILON));
  if (scale.some((s) => !(Math.abs(s) > 1e-12))) throw new Error(`rec model: ${name} has a zero scale`);
  return { scale, shift: beta.map((b, i) => b - scale[i]! * mean[i]!), mean };
}
