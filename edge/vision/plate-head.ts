/**
 * The plate head: the last layer of the recogniser, retrained for plates.
 *
 * PP-OCRv4 rec ends in `transpose_51.tmp_0` [N, T, 120] (the sequence
 * features) -> MatMul `linear_85.w_0` [120, 6625] + `linear_85.b_0` ->
 * softmax over 6,625 classes. The plate head replaces that last layer with
 * one over the plate alphabet only (a CTC blank, 0-9, A-Z, the province
 * characters): 120 x 68 weights, computed here in TypeScript from the
 * features the model exposes (onnx-graph.ts adds them as an output). The
 * backbone and its weights stay the package's, checked by their SHA-256;
 * only this small head is the project's own artifact (`models/plate-head.json`,
 * written by `platepay train recognizer`, checked by its SHA-256 too).
 *
 * `PlateHead.fromGeneric` builds the head the generic model already has
 * (each plate symbol's own class, class 0 as the blank): the start of
 * training, and the reference the trained head is measured against.
 *
 * A head file may cover only the first symbols of the plate alphabet (the
 * shipped heads were trained before the special series' characters 警学挂使
 * 领港澳应急 joined it); `completedFrom` gives such a head the missing
 * columns of the generic head, so the file and its SHA-256 stay as shipped.
 */
import type { PlateAlphabet } from './ctc-decoder.js';
import { constantTensor } from './onnx-graph.js';
import { specialSeriesCharacters } from '../../proto/plate-syntax.js';

/** the rec model's sequence features, exposed as an extra output */
export const FEATURE_OUTPUT = 'transpose_51.tmp_0';
export const FEATURES = 120;
const SCHEMA = 'platepay-plate-head/1';

export interface PlateHeadFile {
  schema: typeof SCHEMA;
  features: number;
  /** the plate alphabet's symbols in column order (column 0, the blank, not listed) */
  symbols: string[];
  /** float32 little endian, base64: weights [features][columns] row-major, then bias [columns] */
  parameters: string;
  /** how it was made (data, recipe, validation figures): the model card's summary */
  card: Record<string, unknown>;
}

export class PlateHead {
  constructor(
    readonly symbols: readonly string[],
    /** [FEATURES][columns], row-major */
    readonly weights: Float32Array,
    readonly bias: Float32Array,
  ) {
    if (weights.length !== FEATURES * this.columns || bias.length !== this.columns) {
      throw new RangeError(
        `plate head: ${weights.length} weights and ${bias.length} biases for ${this.columns} columns`,
      );
    }
  }

  get columns(): number {
    return this.symbols.length + 1;
  }

  /** The generic model's own last layer restricted to the plate alphabet. */
  static fromGeneric(recModel: Buffer, dictionary: readonly string[], alphabet: PlateAlphabet): PlateHead {
    const w = constantTensor(recModel, 'linear_85.w_0');
    const b = constantTensor(recModel, 'linear_85.b_0');
    const classes = w.dims[1]!;
    if (w.dims[0] !== FEATURES || b.data.length !== classes) {
      throw new Error(`rec model: unexpected head shapes [${w.dims.join(', ')}] and [${b.dims.join(', ')}]`);
    }
    const classOf = new Map(dictionary.map((c, i) => [c, i + 1]));
    const sources = [0, ...alphabet.symbols.map((s) => classOf.get(s) ?? -1)];
    const missing = alphabet.symbols.filter((_, i) => sources[i + 1] === -1);
    if (missing.length) throw new Error(`rec dictionary lacks plate symbols ${missing.join(' ')}`);
    const columns = sources.length;
    const weights = new Float32Array(FEATURES * columns);
    const bias = new Float32Array(columns);
    sources.forEach((k, c) => {
      for (let f = 0; f < FEATURES; f++) weights[f * columns + c] = w.data[f * classes + k]!;
      bias[c] = b.data[k]!;
    });
    return new PlateHead(alphabet.symbols, weights, bias);
  }

  /**
   * This head with the columns it lacks taken from `generic` (a head over
   * more symbols, whose first ones are this head's): the trained columns
   * stay as they are, the added ones are the generic model's own. Both act
   * on the same 120 features; the shipped heads are blended 70% towards the
   * generic head (models/plate-neck.md), so their logits share its scale.
   */
  completedFrom(generic: PlateHead): PlateHead {
    const own = this.symbols.length;
    if (generic.symbols.slice(0, own).join('') !== this.symbols.join('')) {
      throw new RangeError('plate head: its symbols are not the first symbols of the head it is completed from');
    }
    if (generic.symbols.length === own) return this;
    const columns = generic.columns;
    const weights = new Float32Array(FEATURES * columns);
    const bias = new Float32Array(columns);
    for (let c = 0; c < columns; c++) {
      const mine = c < this.columns;
      bias[c] = mine ? this.bias[c]! : generic.bias[c]!;
      for (let f = 0; f < FEATURES; f++) {
        weights[f * columns + c] = mine ? this.weights[f * this.columns + c]! : generic.weights[f * columns + c]!;
      }
    }
    return new PlateHead(generic.symbols, weights, bias);
  }

  /**
   * The weight-space blend `(1 - alpha) * from + alpha * to` of two heads
   * over the same symbols. The logits are linear in the weights, so this is
   * the blend of the two heads' logits: the geometric mean of their
   * probabilities, renormalised. Blending a fine-tuned head back towards
   * the one it started from keeps much of what the start read well on data
   * unlike the training data (weight-space ensembling, "WiSE-FT").
   */
  static blend(from: PlateHead, to: PlateHead, alpha: number): PlateHead {
    if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`blend: alpha must be in [0, 1], got ${alpha}`);
    if (from.symbols.join('') !== to.symbols.join('')) throw new RangeError('blend: the heads have different symbols');
    const mix = (a: Float32Array, b: Float32Array): Float32Array => a.map((v, i) => (1 - alpha) * v + alpha * b[i]!);
    return new PlateHead(to.symbols, mix(from.weights, to.weights), mix(from.bias, to.bias));
  }

  /** Softmax over the plate columns for `steps` time steps of features starting at `offset`. */
  probs(features: Float32Array, steps: number, offset = 0): Float32Array {
    const cols = this.columns;
    const out = new Float32Array(steps * cols);
    const logits = new Float64Array(cols);
    for (let t = 0; t < steps; t++) {
      const x = offset + t * FEATURES;
      logits.set(this.bias);
      for (let f = 0; f < FEATURES; f++) {
        const v = features[x + f]!;
        if (v === 0) continue;
        const row = f * cols;
        for (let c = 0; c < cols; c++) logits[c]! += v * this.weights[row + c]!;
      }
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, logits[c]!);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += logits[c] = Math.exp(logits[c]! - max);
      for (let c = 0; c < cols; c++) out[t * cols + c] = logits[c]! / sum;
    }
    return out;
  }

  toFile(card: Record<string, unknown>): PlateHeadFile {
    const bytes = Buffer.alloc((this.weights.length + this.bias.length) * 4);
    this.weights.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    this.bias.forEach((v, i) => bytes.writeFloatLE(v, (this.weights.length + i) * 4));
    return {
      schema: SCHEMA,
      features: FEATURES,
      symbols: [...this.symbols],
      parameters: bytes.toString('base64'),
      card,
    };
  }

  /**
   * Reads a head file, checked against the plate alphabet: its symbols must
   * be the alphabet's, or the first of them down to (at least) every symbol
   * but the special series' (see completedFrom).
   */
  static fromFile(file: unknown, alphabet: PlateAlphabet): PlateHead {
    const f = file as Partial<PlateHeadFile>;
    if (typeof f !== 'object' || f === null || f.schema !== SCHEMA) throw new Error(`plate head: not a ${SCHEMA} file`);
    if (f.features !== FEATURES)
      throw new Error(`plate head: ${String(f.features)} features, the model has ${FEATURES}`);
    const core = alphabet.symbols.filter((s) => !specialSeriesCharacters.includes(s)).length;
    if (
      !Array.isArray(f.symbols) ||
      f.symbols.length < core ||
      f.symbols.join('') !== alphabet.symbols.slice(0, f.symbols.length).join('')
    ) {
      throw new Error('plate head: its symbols differ from the plate alphabet');
    }
    const columns = f.symbols.length + 1;
    const bytes = Buffer.from(String(f.parameters ?? ''), 'base64');
    if (bytes.length !== (FEATURES + 1) * columns * 4) {
      throw new Error(`plate head: ${bytes.length} parameter bytes, expected ${(FEATURES + 1) * columns * 4}`);
    }
    const weights = new Float32Array(FEATURES * columns);
    const bias = new Float32Array(columns);
    for (let i = 0; i < weights.length; i++) weights[i] = bytes.readFloatLE(i * 4);
    for (let i = 0; i < columns; i++) bias[i] = bytes.readFloatLE((weights.length + i) * 4);
    if ([...weights, ...bias].some((v) => !Number.isFinite(v)))
      throw new Error('plate head: a parameter is not finite');
    return new PlateHead(f.symbols, weights, bias);
  }
}
