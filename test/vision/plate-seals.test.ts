/**
 * paintOutSeals on strips drawn pixel by pixel: a German plate's two seals
 * between two characters are painted with the background, whole columns
 * high; ink is never painted; strips without seals, coloured plates, the EU
 * band at a plate's edge, coloured characters (警) and dark coloured characters
 * are left as they are.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { paintOutSeals } from '../../edge/vision/plate-seals.js';
import type { TextCrop } from '../../edge/vision/rectifier.js';

type Rgb = readonly [number, number, number];
const WHITE: Rgb = [235, 235, 230];
const INK: Rgb = [25, 25, 25];
const SEAL_BLUE: Rgb = [42, 143, 214];
const SEAL_GREY: Rgb = [201, 201, 201];
const PLATE_BLUE: Rgb = [20, 60, 200];
const DARK_BLUE: Rgb = [20, 30, 110];
const H = 48;
const W = 160;

function strip(paint: (x: number, y: number) => Rgb | undefined, background: Rgb = WHITE): TextCrop {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) data.set(paint(x, y) ?? background, 3 * (y * W + x));
  }
  return { data, width: W, height: H };
}

/** Glyph-like blocks of ink, rows 8-40, at these column ranges. */
function glyphs(ranges: ReadonlyArray<readonly [number, number]>, colour: Rgb = INK) {
  return (x: number, y: number): Rgb | undefined =>
    y >= 8 && y < 40 && ranges.some(([a, b]) => x >= a && x < b) ? colour : undefined;
}

function disc(cx: number, cy: number, r: number, colour: Rgb) {
  return (x: number, y: number): Rgb | undefined => ((x - cx) ** 2 + (y - cy) ** 2 <= r * r ? colour : undefined);
}

function layers(...painters: Array<(x: number, y: number) => Rgb | undefined>) {
  return (x: number, y: number): Rgb | undefined => {
    for (const p of painters) {
      const c = p(x, y);
      if (c) return c;
    }
    return undefined;
  };
}

function pixel(crop: TextCrop, x: number, y: number): number[] {
  return [...crop.data.subarray(3 * (y * crop.width + x), 3 * (y * crop.width + x) + 3)];
}

// district "K", seals, then "LI612": ink at 10-30, seals centred at 45, ink again from 60
const CHARACTERS = glyphs([
  [10, 30],
  [60, 66],
  [80, 100],
  [110, 130],
]);
const SEALS = layers(disc(45, 17, 7, SEAL_BLUE), disc(45, 31, 7, SEAL_GREY));

describe('paintOutSeals', () => {
  it('paints the seals between two characters with the background, whole columns high', () => {
    const crop = strip(layers(CHARACTERS, SEALS));
    const { crop: out, seals } = paintOutSeals(crop);
    assert.deepEqual(seals, [{ from: 30, to: 60 }]);
    assert.deepEqual(pixel(out, 45, 17), [...WHITE], 'upper seal');
    assert.deepEqual(pixel(out, 45, 31), [...WHITE], 'lower seal');
    for (const x of [15, 62, 90, 120]) assert.deepEqual(pixel(out, x, 20), [...INK], `ink at column ${x}`);
    assert.deepEqual(pixel(crop, 45, 17), [...SEAL_BLUE], 'the input is not changed');
  });

  // the inspection seal's six colours (one per year, in turn), each over the grey registration seal
  const INSPECTION_COLOURS: ReadonlyArray<readonly [string, Rgb]> = [
    ['orange', [245, 140, 40]],
    ['blue', SEAL_BLUE],
    ['yellow', [235, 205, 45]],
    ['brown', [150, 95, 45]],
    ['pink', [240, 125, 175]],
    ['green', [70, 175, 85]],
  ];
  for (const [name, colour] of INSPECTION_COLOURS) {
    it(`finds a ${name} inspection seal`, () => {
      const crop = strip(layers(CHARACTERS, disc(45, 17, 7, colour), disc(45, 31, 7, SEAL_GREY)));
      assert.deepEqual(paintOutSeals(crop).seals, [{ from: 30, to: 60 }]);
    });
  }

  it('leaves a strip without seals as it is', () => {
    const crop = strip(CHARACTERS);
    const result = paintOutSeals(crop);
    assert.equal(result.crop, crop);
    assert.deepEqual(result.seals, []);
  });

  it('leaves the EU band at the edge of the plate alone', () => {
    const band = (x: number): Rgb | undefined => (x < 14 ? PLATE_BLUE : undefined);
    const crop = strip(
      layers(
        band,
        glyphs([
          [24, 40],
          [50, 66],
        ]),
      ),
    );
    assert.deepEqual(paintOutSeals(crop).seals, []);
  });

  it('leaves a coloured seal alone where ink is too far away on one side (artwork beside the characters)', () => {
    const crop = strip(layers(glyphs([[10, 30]]), disc(80, 17, 7, SEAL_BLUE)));
    assert.deepEqual(paintOutSeals(crop).seals, []);
  });

  it('leaves coloured plates alone (Chinese blue plate, white characters)', () => {
    const crop = strip(
      layers(
        glyphs(
          [
            [10, 30],
            [60, 80],
          ],
          WHITE,
        ),
        disc(45, 17, 7, SEAL_GREY),
      ),
      PLATE_BLUE,
    );
    assert.deepEqual(paintOutSeals(crop).seals, []);
  });

  it('leaves a plate with light characters on a darker background alone (a washed-out blue plate)', () => {
    const GREY: Rgb = [110, 110, 110];
    const LIGHT: Rgb = [230, 230, 230];
    const crop = strip(
      layers(
        glyphs([
          [16, 26],
          [56, 66],
        ]),
        glyphs([[70, 150]], LIGHT),
        disc(41, 17, 7, SEAL_BLUE),
      ),
      GREY,
    );
    assert.deepEqual(paintOutSeals(crop).seals, []);
  });

  it('never paints a coloured character (the red 警 of a Chinese police plate), blurred or sharp', () => {
    const RED: Rgb = [235, 80, 80];
    const frame = glyphs([[150, 156]]);
    const blurred = strip(layers(glyphs([[80, 100]]), glyphs([[112, 140]], RED), frame));
    assert.deepEqual(paintOutSeals(blurred).seals, [], 'one red block, the height of the characters');
    const strokes = (x: number, y: number): Rgb | undefined =>
      x >= 112 && x < 140 && y >= 8 && y < 40 && y % 6 < 3 ? RED : undefined;
    assert.deepEqual(paintOutSeals(strip(layers(glyphs([[80, 100]]), strokes, frame))).seals, [], 'red strokes');
  });

  it('never paints dark coloured characters (dark blue text)', () => {
    const crop = strip(
      glyphs(
        [
          [10, 30],
          [40, 50],
          [60, 80],
        ],
        DARK_BLUE,
      ),
    );
    assert.deepEqual(paintOutSeals(crop).seals, []);
  });

  it('never changes a strip without saturated colour (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: W * H, maxLength: W * H }), (greys) => {
        const data = new Uint8Array(W * H * 3);
        greys.forEach((g, i) => data.set([g, g, g], 3 * i));
        const crop = { data, width: W, height: H };
        const result = paintOutSeals(crop);
        return result.crop === crop && result.seals.length === 0;
      }),
      { numRuns: 50 },
    );
  });

  it('never paints a column holding ink (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: W - 8 }), fc.integer({ min: 2, max: 8 })), { maxLength: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: W - 1 }), fc.integer({ min: 4, max: 10 })), { maxLength: 4 }),
        (inkBlocks, discs) => {
          const crop = strip(
            layers(
              glyphs(inkBlocks.map(([x, w]) => [x, x + w] as const)),
              ...discs.map(([cx, r]) => disc(cx, 17, r, SEAL_BLUE)),
            ),
          );
          const { seals } = paintOutSeals(crop);
          return seals.every(({ from, to }) => inkBlocks.every(([x, w]) => x + w <= from || x >= to));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('returns a strip too small to hold seals as it is', () => {
    const crop: TextCrop = { data: new Uint8Array(3), width: 1, height: 1 };
    assert.equal(paintOutSeals(crop).crop, crop);
  });
});
