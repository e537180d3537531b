/**
 * Nearest-rank percentiles of measured times, for the evaluation and the
 * benchmarks. No dependencies, so anything may import it without loading
 * the models.
 */

/** Nearest-rank percentile `p` (0-100) of ascending values; `empty` when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number, empty = 0): number {
  if (sorted.length === 0) return empty;
  // nearest rank; the epsilon keeps 0.07 * 100 (= 7.000000000000001) from rounding up
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p * sorted.length) / 100 - 1e-9) - 1));
  return sorted[idx]!;
}
