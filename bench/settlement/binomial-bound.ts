/**
 * The exact (Clopper-Pearson) upper confidence bound of a binomial rate:
 * having seen `k` events in `n` trials, the largest rate p for which seeing
 * at most k events still has probability >= (1 - level) / 2. Pure.
 * With k = 0 it is 1 - ((1 - level) / 2)^(1/n): about 3.69 / n at 95%.
 */
export function binomialUpperBound(k: number, n: number, level = 0.95): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`k must be an integer in [0, n], got ${k}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  if (k === n) return 1;
  const tail = (1 - level) / 2;
  if (k === 0) return 1 - Math.pow(tail, 1 / n);
  // P(X <= k | p) falls as p rises: bisect for the p where it equals the tail
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(k, n, mid) > tail) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** P(X <= k) for X ~ Binomial(n, p), summed in log space (n up to ~1e9 is fine for small k). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return k >= n ? 1 : 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logTerm = n * logQ; // log P(X = 0)
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i) + logP - logQ;
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}
