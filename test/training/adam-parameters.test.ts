/**
 * The trainers' optimiser (training/adam-parameters.ts): Adam's first step
 * moves every parameter by its learning rate against the gradient's sign
 * (the bias-corrected moments make m/sqrt(v) = g/|g|); the pull towards the
 * start acts with no gradient; a state saved and restored continues bit for
 * bit as the uninterrupted run does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdamParameters } from '../../training/adam-parameters.js';

const finite = fc.double({ min: -5, max: 5, noNaN: true });

describe('AdamParameters', () => {
  it("moves each parameter by its own rate against the gradient's sign on the first step", () => {
    const adam = AdamParameters.from([1, 2, 3]);
    adam.update(Float64Array.from([4, -2, 0.5]), 2, 0, (i) => (i === 2 ? 0.1 : 0.01));
    const moved = [...adam.values];
    assert.ok(Math.abs(moved[0]! - 0.99) < 1e-6, String(moved[0]));
    assert.ok(Math.abs(moved[1]! - 2.01) < 1e-6, String(moved[1]));
    assert.ok(Math.abs(moved[2]! - 2.9) < 1e-6, String(moved[2]));
  });

  it('pulls a parameter that moved back towards its start when the gradient is zero', () => {
    const adam = AdamParameters.from([0]);
    adam.update(Float64Array.from([1]), 1, 0, () => 0.5); // now -0.5
    const away = adam.values[0]!;
    for (let i = 0; i < 50; i++) adam.update(Float64Array.from([0]), 1, 10, () => 0.05);
    assert.ok(Math.abs(adam.values[0]!) < Math.abs(away), `${adam.values[0]} vs ${away}`);
  });

  it('continues bit for bit after a save and restore', () => {
    fc.assert(
      fc.property(
        fc.array(finite, { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(finite, { minLength: 6, maxLength: 6 }), { minLength: 2, maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (initial, grads, cut) => {
          const n = initial.length;
          const steps = grads.map((g) => Float64Array.from(g.slice(0, n)));
          const straight = AdamParameters.from(initial);
          for (const g of steps) straight.update(g, 3, 0.01, () => 0.02);
          let resumed = AdamParameters.from(initial);
          const at = Math.min(cut, steps.length);
          for (const g of steps.slice(0, at)) resumed.update(g, 3, 0.01, () => 0.02);
          resumed = AdamParameters.restore(JSON.parse(JSON.stringify(resumed.state())));
          for (const g of steps.slice(at)) resumed.update(g, 3, 0.01, () => 0.02);
          assert.deepEqual([...resumed.values], [...straight.values]);
        },
      ),
    );
  });
});
