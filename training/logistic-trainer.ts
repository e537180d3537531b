/**
 * Fits a logistic classifier (the plate-or-not classifier, edge/vision/plate-or-not.ts)
 * to pooled feature vectors. Pure arithmetic, no I/O.
 *
 * Inputs are standardised by the training set's mean and deviation; the
 * two classes weigh the same whatever their counts; full-batch gradient
 * descent with Adam and an L2 penalty on the weights (not the bias).
 * Deterministic: the same data and options give the same weights (float64,
 * fixed order, no randomness).
 */
export interface LabelledVector {
  x: Float64Array;
  /** 1: a plate, 0: other text */
  y: 0 | 1;
}

export interface LogisticOptions {
  iterations: number;
  learningRate: number;
  l2: number;
}

export interface LogisticModel {
  mean: Float64Array;
  std: Float64Array;
  weights: Float64Array;
  bias: number;
}

export function fitLogistic(data: readonly LabelledVector[], o: LogisticOptions): LogisticModel {
  if (data.length === 0) throw new RangeError('no training vectors');
  const d = data[0]!.x.length;
  const positives = data.filter((s) => s.y === 1).length;
  const negatives = data.length - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('training needs both plates and other text');
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const s of data) for (let i = 0; i < d; i++) mean[i]! += s.x[i]! / data.length;
  for (const s of data) for (let i = 0; i < d; i++) std[i]! += (s.x[i]! - mean[i]!) ** 2 / data.length;
  for (let i = 0; i < d; i++) std[i] = Math.sqrt(std[i]!) || 1;
  const xs = data.map((s) => {
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) z[i] = (s.x[i]! - mean[i]!) / std[i]!;
    return z;
  });
  // each class carries half of the loss
  const weightOf = (y: 0 | 1): number => 0.5 / (y === 1 ? positives : negatives);

  const w = new Float64Array(d + 1); // the last entry is the bias
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const grad = new Float64Array(d + 1);
  for (let step = 1; step <= o.iterations; step++) {
    grad.fill(0);
    data.forEach((s, k) => {
      const z = xs[k]!;
      let logit = w[d]!;
      for (let i = 0; i < d; i++) logit += w[i]! * z[i]!;
      const g = (sigmoid(logit) - s.y) * weightOf(s.y);
      for (let i = 0; i < d; i++) grad[i]! += g * z[i]!;
      grad[d]! += g;
    });
    for (let i = 0; i < d; i++) grad[i]! += o.l2 * w[i]!;
    for (let i = 0; i <= d; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * grad[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * grad[i]! ** 2;
      const mh = m[i]! / (1 - 0.9 ** step);
      const vh = v[i]! / (1 - 0.999 ** step);
      w[i]! -= (o.learningRate * mh) / (Math.sqrt(vh) + 1e-8);
    }
  }
  return { mean, std, weights: w.slice(0, d), bias: w[d]! };
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Log-odds of a vector under a fitted model. */
export function logitOf(model: LogisticModel, x: Float64Array): number {
  let z = model.bias;
  for (let i = 0; i < x.length; i++) z += model.weights[i]! * ((x[i]! - model.mean[i]!) / model.std[i]!);
  return z;
}

export interface ClassifierFigures {
  /** share of plates called plates */
  plateRecall: number;
  /** share of other text called not a plate */
  otherRejected: number;
  /** mean of the two (balanced accuracy) */
  balancedAccuracy: number;
  plates: number;
  others: number;
}

export function classifierFigures(model: LogisticModel, data: readonly LabelledVector[]): ClassifierFigures {
  let tp = 0;
  let tn = 0;
  let plates = 0;
  let others = 0;
  for (const s of data) {
    const plate = logitOf(model, s.x) > 0;
    if (s.y === 1) {
      plates++;
      if (plate) tp++;
    } else {
      others++;
      if (!plate) tn++;
    }
  }
  const plateRecall = plates ? tp / plates : 0;
  const otherRejected = others ? tn / others : 0;
  return { plateRecall, otherRejected, balancedAccuracy: (plateRecall + otherRejected) / 2, plates, others };
}
