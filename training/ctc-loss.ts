/**
 * CTC loss and its gradient (Graves et al. 2006, "Connectionist Temporal
 * Classification", sections 3-4), for training the plate head.
 *
 * Given per-step logits z[t][k] (softmax y = softmax(z)) over K columns with
 * column 0 the blank, and a label sequence l (columns 1..K-1), the loss is
 * -ln p(l | z), summed over every alignment that collapses to l (repeats
 * merged, blanks removed). With l' = l interleaved with blanks (length
 * 2|l|+1), the forward variables alpha and backward variables beta (in log
 * space here, so that long sequences do not underflow) give
 *   p(l | z) = alpha[T-1][S-1] + alpha[T-1][S-2]
 *   dLoss/dz[t][k] = y[t][k] - (1 / (p y[t][k])) * sum over s with l'[s] = k of alpha[t][s] * beta[t][s]
 * (equation 16 of the paper, with beta including y at t). Pure; checked
 * against finite differences in test/training/ctc-loss.test.ts.
 */

const NEG = -Infinity;

function logAdd(a: number, b: number): number {
  if (a === NEG) return b;
  if (b === NEG) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

export interface CtcResult {
  /** -ln p(labels | logits); Infinity when the labels cannot fit in T steps */
  loss: number;
  /** dLoss/dlogits, [T][K] row-major (zeros when the loss is infinite) */
  grad: Float64Array;
}

/** `logits` is [T][K] row-major; `labels` are columns 1..K-1. */
export function ctcLoss(
  logits: ArrayLike<number>,
  steps: number,
  columns: number,
  labels: readonly number[],
): CtcResult {
  const T = steps;
  const K = columns;
  const logY = new Float64Array(T * K);
  for (let t = 0; t < T; t++) {
    let max = NEG;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[t * K + k]!);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[t * K + k]! - max);
    const lse = max + Math.log(sum);
    for (let k = 0; k < K; k++) logY[t * K + k] = logits[t * K + k]! - lse;
  }
  const ext: number[] = [0];
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 1 || l >= K) throw new RangeError(`ctc: label ${l} is not a column 1..${K - 1}`);
    ext.push(l, 0);
  }
  const S = ext.length;
  const grad = new Float64Array(T * K);
  const alpha = new Float64Array(T * S).fill(NEG);
  const beta = new Float64Array(T * S).fill(NEG);
  alpha[0] = logY[ext[0]!]!;
  if (S > 1) alpha[1] = logY[ext[1]!]!;
  for (let t = 1; t < T; t++) {
    for (let s = 0; s < S; s++) {
      let a = alpha[(t - 1) * S + s]!;
      if (s >= 1) a = logAdd(a, alpha[(t - 1) * S + s - 1]!);
      if (s >= 2 && ext[s] !== 0 && ext[s] !== ext[s - 2]) a = logAdd(a, alpha[(t - 1) * S + s - 2]!);
      alpha[t * S + s] = a === NEG ? NEG : a + logY[t * K + ext[s]!]!;
    }
  }
  beta[(T - 1) * S + S - 1] = logY[(T - 1) * K + ext[S - 1]!]!;
  if (S > 1) beta[(T - 1) * S + S - 2] = logY[(T - 1) * K + ext[S - 2]!]!;
  for (let t = T - 2; t >= 0; t--) {
    for (let s = S - 1; s >= 0; s--) {
      let b = beta[(t + 1) * S + s]!;
      if (s + 1 < S) b = logAdd(b, beta[(t + 1) * S + s + 1]!);
      if (s + 2 < S && ext[s] !== 0 && ext[s] !== ext[s + 2]) b = logAdd(b, beta[(t + 1) * S + s + 2]!);
      beta[t * S + s] = b === NEG ? NEG : b + logY[t * K + ext[s]!]!;
    }
  }
  const logP = S > 1 ? logAdd(alpha[(T - 1) * S + S - 1]!, alpha[(T - 1) * S + S - 2]!) : alpha[(T - 1) * S]!;
  if (logP === NEG) return { loss: Infinity, grad };
  const occupancy = new Float64Array(K);
  for (let t = 0; t < T; t++) {
    occupancy.fill(NEG);
    for (let s = 0; s < S; s++) {
      const k = ext[s]!;
      // alpha and beta both include y[t][k]: divide it out once
      occupancy[k] = logAdd(occupancy[k]!, alpha[t * S + s]! + beta[t * S + s]! - logY[t * K + k]!);
    }
    for (let k = 0; k < K; k++) {
      const y = Math.exp(logY[t * K + k]!);
      const post = occupancy[k] === NEG ? 0 : Math.exp(occupancy[k]! - logP);
      grad[t * K + k] = y - post;
    }
  }
  return { loss: -logP, grad };
}

/** Best-path decoding: the most likely column per step, repeats merged, blanks removed. */
export function greedyLabels(probsOrLogits: ArrayLike<number>, steps: number, columns: number): number[] {
  const out: number[] = [];
  let last = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    for (let k = 1; k < columns; k++)
      if (probsOrLogits[t * columns + k]! > probsOrLogits[t * columns + best]!) best = k;
    if (best !== 0 && best !== last) out.push(best);
    last = best;
  }
  return out;
}
