/**
 * Box geometry (edge/vision/geometry.ts): corner ordering, rectangle IoU,
 * growing a quad along its own axes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Point, Quad, Rect } from '../../edge/vision/geometry.js';
import { distance, growQuad, orderCorners, quadBounds, quadSize, rectIou } from '../../edge/vision/geometry.js';

/** A w x h rectangle centred at (cx, cy), turned clockwise by `deg` (image coordinates, y down): tl, tr, br, bl. */
function rotatedRect(cx: number, cy: number, w: number, h: number, deg: number): Quad {
  const a = (deg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const at = (x: number, y: number): Point => ({ x: cx + x * c - y * s, y: cy + x * s + y * c });
  return [at(-w / 2, -h / 2), at(w / 2, -h / 2), at(w / 2, h / 2), at(-w / 2, h / 2)];
}

const PERMUTATIONS: number[][] = (() => {
  const out: number[][] = [];
  const go = (rest: number[], acc: number[]): void => {
    if (rest.length === 0) out.push(acc);
    rest.forEach((v, i) => go([...rest.slice(0, i), ...rest.slice(i + 1)], [...acc, v]));
  };
  go([0, 1, 2, 3], []);
  return out;
})();

const near = (a: number, b: number, eps = 1e-6): boolean =>
  Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));

/** A text-box-like rectangle: at least as wide as it is high. */
const textBox = fc.record({
  cx: fc.double({ min: -500, max: 2000, noNaN: true }),
  cy: fc.double({ min: -500, max: 2000, noNaN: true }),
  h: fc.double({ min: 1, max: 300, noNaN: true }),
  aspect: fc.double({ min: 1, max: 8, noNaN: true }),
  deg: fc.double({ min: -39.9, max: 39.9, noNaN: true }),
});

describe('orderCorners', () => {
  it('orders the corners of an axis-aligned rectangle as tl, tr, br, bl, whatever order they come in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        fc.constantFrom(...PERMUTATIONS),
        (x, y, w, h, perm) => {
          const quad: Quad = [
            { x, y },
            { x: x + w, y },
            { x: x + w, y: y + h },
            { x, y: y + h },
          ];
          assert.deepEqual(orderCorners(perm.map((i) => quad[i]!)), quad);
        },
      ),
    );
  });

  it('orders a text box turned by less than 40 degrees, whatever order its corners come in', () => {
    fc.assert(
      fc.property(textBox, fc.constantFrom(...PERMUTATIONS), ({ cx, cy, h, aspect, deg }, perm) => {
        const quad = rotatedRect(cx, cy, h * aspect, h, deg);
        const ordered = orderCorners(perm.map((i) => quad[i]!));
        assert.deepEqual(
          ordered,
          quad,
          `${(h * aspect).toFixed(1)}x${h.toFixed(1)} at ${deg.toFixed(2)} deg, order ${perm}`,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same quad for every permutation of four points, made of those points (property)', () => {
    // distinct x and distinct y, so no order depends on a tie
    const coords = fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 4 });
    const fourPoints = fc.tuple(coords, coords).map(([xs, ys]) => xs.map((x, i) => ({ x, y: ys[i]! })));
    fc.assert(
      fc.property(fourPoints, (points) => {
        const first = orderCorners(points);
        assert.deepEqual(
          [...first].sort((a, b) => a.x - b.x || a.y - b.y),
          [...points].sort((a, b) => a.x - b.x || a.y - b.y),
        );
        for (const perm of PERMUTATIONS) assert.deepEqual(orderCorners(perm.map((i) => points[i]!)), first);
      }),
    );
  });

  it('does not change its input array', () => {
    const pts = [
      { x: 10, y: 10 },
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 0, y: 10 },
    ];
    const copy = structuredClone(pts);
    orderCorners(pts);
    assert.deepEqual(pts, copy);
  });
});

const rect = fc.record({
  x: fc.integer({ min: -200, max: 200 }),
  y: fc.integer({ min: -200, max: 200 }),
  width: fc.integer({ min: 1, max: 200 }),
  height: fc.integer({ min: 1, max: 200 }),
});

describe('rectIou', () => {
  it('is 1 for identical rectangles', () => {
    fc.assert(fc.property(rect, (r) => assert.equal(rectIou(r, { ...r }), 1)));
    assert.ok(
      near(rectIou({ x: 0.1, y: 0.2, width: 10.3, height: 3.7 }, { x: 0.1, y: 0.2, width: 10.3, height: 3.7 }), 1),
    );
  });

  it('is symmetric and within [0, 1] (property)', () => {
    fc.assert(
      fc.property(rect, rect, (a, b) => {
        const v = rectIou(a, b);
        assert.equal(v, rectIou(b, a));
        assert.ok(v >= 0 && v <= 1, `${v}`);
      }),
    );
  });

  it('is 0 for disjoint or merely touching rectangles (property)', () => {
    fc.assert(
      fc.property(rect, rect, fc.constantFrom('right', 'below', 'left', 'above'), fc.nat(50), (a, b0, side, gap) => {
        const b: Rect = { ...b0 };
        if (side === 'right') b.x = a.x + a.width + gap;
        if (side === 'left') b.x = a.x - b.width - gap;
        if (side === 'below') b.y = a.y + a.height + gap;
        if (side === 'above') b.y = a.y - b.height - gap;
        assert.equal(rectIou(a, b), 0);
      }),
    );
  });

  it('computes intersection over union: half-overlapping squares give 1/3, a contained quarter 1/4', () => {
    assert.ok(near(rectIou({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }), 50 / 150));
    assert.ok(near(rectIou({ x: 0, y: 0, width: 10, height: 10 }, { x: 0, y: 0, width: 5, height: 5 }), 25 / 100));
  });

  it('is 0, not NaN, for empty rectangles', () => {
    assert.equal(rectIou({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 }), 0);
  });
});

describe('growQuad', () => {
  it('grows width by 2*dx and height by 2*dy along the quad axes, about the same centre (property)', () => {
    fc.assert(
      fc.property(
        textBox,
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        ({ cx, cy, h, aspect, deg }, dx, dy) => {
          const w = h * aspect;
          const q = rotatedRect(cx, cy, w, h, deg);
          const g = growQuad(q, dx, dy);
          const size = quadSize(g);
          assert.ok(near(size.width, w + 2 * dx), `width ${size.width}, expected ${w + 2 * dx}`);
          assert.ok(near(size.height, h + 2 * dy), `height ${size.height}, expected ${h + 2 * dy}`);
          // still the same rectangle shape and angle, same centre
          const expected = rotatedRect(cx, cy, w + 2 * dx, h + 2 * dy, deg);
          g.forEach((p, i) =>
            assert.ok(distance(p, expected[i]!) < 1e-6 * Math.max(1, Math.abs(cx), Math.abs(cy)), `corner ${i}`),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves a quad unchanged for dx = dy = 0 and keeps an axis-aligned one axis-aligned', () => {
    const q: Quad = [
      { x: 10, y: 20 },
      { x: 110, y: 20 },
      { x: 110, y: 50 },
      { x: 10, y: 50 },
    ];
    assert.deepEqual(growQuad(q, 0, 0), q);
    assert.deepEqual(quadBounds(growQuad(q, 4, 3)), { x: 6, y: 17, width: 108, height: 36 });
  });

  it('shrinks for negative amounts', () => {
    const q = rotatedRect(0, 0, 100, 30, 12);
    const size = quadSize(growQuad(q, -5, -2));
    assert.ok(near(size.width, 90) && near(size.height, 26), JSON.stringify(size));
  });
});
