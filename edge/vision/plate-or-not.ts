/**
 * Plate or not: tells a plate's text from the other text on a car (badges,
 * dealer frames, state names, stickers, phone numbers), so that a confident
 * read of "JEEP" does not beat a less confident read of the plate.
 *
 * A logistic classifier on the recogniser's own sequence features
 * (`transpose_51.tmp_0`, [steps, 120], the same the plate head reads):
 * the features are pooled over the strip's time steps (mean and maximum of
 * each, 240 numbers), standardised, and weighed. It costs one extra output
 * of the recognition run and 240 multiply-adds per strip.
 *
 * Trained by `platepay train plate-or-not` (training/plate-or-not-training.ts)
 * on plate crops (`train-*` folders, renders) against rendered non-plate
 * text; the weights live in `models/plate-or-not.json`, checked by the
 * SHA-256 in the manifest like every model.
 */
import { FEATURES } from './plate-head.js';

const SCHEMA = 'platepay-plate-or-not/1';
/** pooled inputs: the mean and the maximum of each feature over the time steps */
export const POOLED = 2 * FEATURES;

export interface PlateOrNotFile {
  schema: typeof SCHEMA;
  features: number;
  /** standardisation: per pooled input, its mean and standard deviation over the training data */
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  /** how it was made (data, recipe, validation figures) */
  card: Record<string, unknown>;
}

/** The strip's features pooled over its time steps: the mean of each feature, then the maximum. */
export function poolFeatures(features: Float32Array, steps: number, offset = 0): Float64Array {
  const pooled = new Float64Array(POOLED);
  if (steps <= 0) return pooled;
  for (let f = 0; f < FEATURES; f++) pooled[FEATURES + f] = -Infinity;
  for (let t = 0; t < steps; t++) {
    const x = offset + t * FEATURES;
    for (let f = 0; f < FEATURES; f++) {
      const v = features[x + f]!;
      pooled[f]! += v;
      if (v > pooled[FEATURES + f]!) pooled[FEATURES + f] = v;
    }
  }
  for (let f = 0; f < FEATURES; f++) pooled[f]! /= steps;
  return pooled;
}

export class PlateOrNot {
  constructor(
    readonly mean: Float64Array,
    readonly std: Float64Array,
    readonly weights: Float64Array,
    readonly bias: number,
  ) {
    for (const [name, a] of [
      ['mean', mean],
      ['std', std],
      ['weights', weights],
    ] as const) {
      if (a.length !== POOLED)
        throw new RangeError(`plate-or-not: ${name} has ${a.length} entries, expected ${POOLED}`);
    }
    if ([...mean, ...weights, bias].some((v) => !Number.isFinite(v)) || [...std].some((v) => !(v > 0))) {
      throw new RangeError('plate-or-not: a parameter is not finite (or a deviation not positive)');
    }
  }

  /** Log-odds that the pooled strip is a plate (positive: plate). */
  logOdds(pooled: Float64Array): number {
    let z = this.bias;
    for (let i = 0; i < POOLED; i++) z += this.weights[i]! * ((pooled[i]! - this.mean[i]!) / this.std[i]!);
    return z;
  }

  /** Probability that a strip with these sequence features is a plate. */
  probability(features: Float32Array, steps: number, offset = 0): number {
    return 1 / (1 + Math.exp(-this.logOdds(poolFeatures(features, steps, offset))));
  }

  toFile(card: Record<string, unknown>): PlateOrNotFile {
    const r = (v: number): number => Math.fround(v);
    return {
      schema: SCHEMA,
      features: FEATURES,
      mean: [...this.mean].map(r),
      std: [...this.std].map(r),
      weights: [...this.weights].map(r),
      bias: r(this.bias),
      card,
    };
  }

  /** Reads a classifier file; every field is checked, so a damaged file is refused with what is wrong. */
  static fromFile(file: unknown): PlateOrNot {
    const f = file as Partial<PlateOrNotFile>;
    if (typeof f !== 'object' || f === null || f.schema !== SCHEMA)
      throw new Error(`plate-or-not: not a ${SCHEMA} file`);
    if (f.features !== FEATURES)
      throw new Error(`plate-or-not: ${String(f.features)} features, the model has ${FEATURES}`);
    const vector = (name: 'mean' | 'std' | 'weights'): Float64Array => {
      const v = f[name];
      if (!Array.isArray(v) || v.length !== POOLED || v.some((x) => typeof x !== 'number')) {
        throw new Error(`plate-or-not: "${name}" must be ${POOLED} numbers`);
      }
      return Float64Array.from(v);
    };
    if (typeof f.bias !== 'number') throw new Error('plate-or-not: "bias" must be a number');
    return new PlateOrNot(vector('mean'), vector('std'), vector('weights'), f.bias);
  }
}
