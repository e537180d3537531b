/**
 * The Mercosur band (edge/vision/mercosur-band.ts): where the region along
 * a line's top edge is cut, and which cut regions hold a band, on synthetic
 * RGB regions: blue over the line only is a band; blue past the line's ends
 * too (a blue car's paint) is not, nor is a thin blue line, a grey region or
 * a Chinese blue plate's edge.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Point, Quad } from '../../edge/vision/geometry.js';
import { BAND_ROWS, bandRegion, isMercosurBand } from '../../edge/vision/mercosur-band.js';
import type { PlateColour } from '../../edge/vision/plate-colour.js';
import type { TextCrop } from '../../edge/vision/rectifier.js';

// a line 100 px long and 20 px high; the region reaches 1.2 line heights (24 px) past each end: 148 columns
const LINE: Quad = [
  { x: 0, y: 100 },
  { x: 100, y: 100 },
  { x: 100, y: 120 },
  { x: 0, y: 120 },
];
const WIDTH = 148;
const WHITE_STRIP: PlateColour = { blue: 0, green: 0, yellow: 0 };
const BAND_BLUE = [30, 60, 160];
const PLATE_WHITE = [225, 225, 220];
const CAR_GREY = [90, 90, 95];

/** A region of BAND_ROWS rows: `paint(x, y)` gives each pixel's colour. */
function region(paint: (x: number, y: number) => readonly number[]): TextCrop {
  const data = new Uint8Array(WIDTH * BAND_ROWS * 3);
  for (let y = 0; y < BAND_ROWS; y++) for (let x = 0; x < WIDTH; x++) data.set(paint(x, y), 3 * (y * WIDTH + x));
  return { data, width: WIDTH, height: BAND_ROWS };
}

/** Car grey around a plate that spans the line plus 8 px on each side; rows `from`..`to` of the plate blue. */
const plate =
  (from: number, to: number) =>
  (x: number, y: number): readonly number[] => {
    if (x < 16 || x >= WIDTH - 16) return CAR_GREY;
    return y >= from && y <= to ? BAND_BLUE : PLATE_WHITE;
  };

describe('bandRegion', () => {
  it('runs from 0.35 line heights above the top edge to 0.15 below it, 1.2 line heights past each end', () => {
    const r = bandRegion(LINE);
    const expected: Quad = [
      { x: -24, y: 93 },
      { x: 124, y: 93 },
      { x: 124, y: 103 },
      { x: -24, y: 103 },
    ];
    r.forEach((p, i) => {
      assert.ok(Math.abs(p.x - expected[i]!.x) < 1e-9 && Math.abs(p.y - expected[i]!.y) < 1e-9, JSON.stringify(r));
    });
  });

  it('property: turns with the line (a tilted plate gets a tilted region)', () => {
    const turn = (p: Point, a: number): Point => ({
      x: p.x * Math.cos(a) - p.y * Math.sin(a),
      y: p.x * Math.sin(a) + p.y * Math.cos(a),
    });
    fc.assert(
      fc.property(fc.double({ min: -0.6, max: 0.6, noNaN: true }), (angle) => {
        const turned = bandRegion(LINE.map((p) => turn(p, angle)) as Quad);
        const expected = bandRegion(LINE).map((p) => turn(p, angle));
        turned.forEach((p, i) => {
          assert.ok(Math.hypot(p.x - expected[i]!.x, p.y - expected[i]!.y) < 1e-6, `corner ${i} at angle ${angle}`);
        });
      }),
    );
  });
});

describe('isMercosurBand', () => {
  it('finds a band that is blue over the line and ends with the plate', () => {
    assert.equal(isMercosurBand(region(plate(6, 10)), LINE, WHITE_STRIP), true);
  });

  it('does not take blue that runs past the plate on both sides (a blue car above a plate) for a band', () => {
    const blueCar = (x: number, y: number) => (y <= 7 ? BAND_BLUE : plate(99, 99)(x, y));
    assert.equal(isMercosurBand(region(blueCar), LINE, WHITE_STRIP), false);
  });

  it('needs at least two rows of blue', () => {
    assert.equal(isMercosurBand(region(plate(8, 8)), LINE, WHITE_STRIP), false);
    assert.equal(isMercosurBand(region(plate(8, 9)), LINE, WHITE_STRIP), true);
  });

  it('finds nothing in a region without blue, or with blue over only part of the line (a logo)', () => {
    assert.equal(isMercosurBand(region(plate(99, 99)), LINE, WHITE_STRIP), false);
    const logo = (x: number, y: number) => (x < 60 ? plate(6, 10)(x, y) : plate(99, 99)(x, y));
    assert.equal(isMercosurBand(region(logo), LINE, WHITE_STRIP), false);
  });

  it('leaves a blue plate alone: a Chinese blue plate is blue along its top edge too', () => {
    assert.equal(isMercosurBand(region(plate(6, 10)), LINE, { blue: 0.7, green: 0 }), false);
  });

  it('refuses a region whose bytes do not fill it', () => {
    const r = region(plate(6, 10));
    assert.equal(isMercosurBand({ ...r, data: r.data.subarray(0, 10) }, LINE, WHITE_STRIP), false);
  });
});
