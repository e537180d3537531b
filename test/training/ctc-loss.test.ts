/**
 * The CTC loss of the plate head's training (training/ctc-loss.ts): its
 * gradient equals finite differences of the loss, its probability equals a
 * brute-force sum over every alignment on small cases, and it is never
 * negative (properties, fast-check).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ctcLoss, greedyLabels } from '../../training/ctc-loss.js';

/** -ln of the sum over every path of T steps that collapses to `labels` (exponential: small cases only) */
function bruteForceLoss(logits: number[], T: number, K: number, labels: number[]): number {
  const logY: number[] = [];
  for (let t = 0; t < T; t++) {
    const row = logits.slice(t * K, t * K + K);
    const lse = Math.log(row.reduce((s, z) => s + Math.exp(z), 0));
    logY.push(...row.map((z) => z - lse));
  }
  let p = 0;
  const path = new Array<number>(T).fill(0);
  const visit = (t: number): void => {
    if (t === T) {
      const collapsed = path.filter((k, i) => k !== 0 && (i === 0 || path[i - 1] !== k));
      if (collapsed.length === labels.length && collapsed.every((k, i) => k === labels[i])) {
        p += Math.exp(path.reduce((s, k, i) => s + logY[i * K + k]!, 0));
      }
      return;
    }
    for (let k = 0; k < K; k++) {
      path[t] = k;
      visit(t + 1);
    }
  };
  visit(0);
  return -Math.log(p);
}

const smallCase = fc
  .record({ T: fc.integer({ min: 1, max: 5 }), K: fc.integer({ min: 2, max: 4 }) })
  .chain(({ T, K }) =>
    fc.record({
      T: fc.constant(T),
      K: fc.constant(K),
      logits: fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: T * K, maxLength: T * K }),
      labels: fc.array(fc.integer({ min: 1, max: K - 1 }), { maxLength: 3 }),
    }),
  );

describe('CTC loss', () => {
  it('equals the brute-force sum over all alignments (property)', () => {
    fc.assert(
      fc.property(smallCase, ({ T, K, logits, labels }) => {
        const { loss } = ctcLoss(logits, T, K, labels);
        const expected = bruteForceLoss(logits, T, K, labels);
        if (!Number.isFinite(expected)) assert.equal(loss, Infinity);
        else assert.ok(Math.abs(loss - expected) < 1e-9 * Math.max(1, expected), `${loss} vs ${expected}`);
        assert.ok(loss >= 0);
      }),
    );
  });

  it('has the gradient of finite differences (property)', () => {
    fc.assert(
      fc.property(smallCase, ({ T, K, logits, labels }) => {
        const { loss, grad } = ctcLoss(logits, T, K, labels);
        if (!Number.isFinite(loss)) return;
        const h = 1e-6;
        for (let i = 0; i < logits.length; i++) {
          const up = logits.slice();
          up[i]! += h;
          const down = logits.slice();
          down[i]! -= h;
          const numeric = (ctcLoss(up, T, K, labels).loss - ctcLoss(down, T, K, labels).loss) / (2 * h);
          assert.ok(Math.abs(numeric - grad[i]!) < 1e-5, `d/dz[${i}]: analytic ${grad[i]}, numeric ${numeric}`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('gives Infinity, not NaN, when the labels cannot fit, and refuses a blank label', () => {
    assert.equal(ctcLoss([0, 0, 0, 0], 2, 2, [1, 1]).loss, Infinity); // "11" needs a blank between: 3 steps
    assert.throws(() => ctcLoss([0, 0], 1, 2, [0]), /label 0/);
  });

  it('greedy decoding merges repeats and drops blanks', () => {
    // steps: 1, 1, blank, 1, 2
    const probs = [0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
    assert.deepEqual(greedyLabels(probs, 5, 3), [1, 1, 2]);
  });
});
