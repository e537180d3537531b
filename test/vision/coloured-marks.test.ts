/**
 * Coloured marks between a plate's characters (edge/vision/coloured-marks.ts):
 * found where rendered German plates carry their seals, and nowhere on
 * plates whose colour is their background, band or characters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blankColouredMarks, colouredMarkColumns } from '../../edge/vision/coloured-marks.js';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import { renderPlate } from '../../scenes/plate-renderer.js';
import { toStrip } from '../../training/crop-dataset.js';

const strip = async (style: PlateStyle, text: string, width = 300) =>
  toStrip((await renderPlate({ style, text }, width)).png, null);

describe('coloured marks', () => {
  it('finds the German seals, once, between district and letters', async () => {
    for (const [text, width] of [
      ['MZ Z 982', 300],
      ['WI T 16', 220],
      ['BAR AB 1234', 400],
    ] as const) {
      const crop = await strip('de', text, width);
      const marks = colouredMarkColumns(crop);
      assert.equal(marks.length, 1, `${text}: ${JSON.stringify(marks)}`);
      // the seals sit after the district: left of the middle of the strip
      const [from, to] = marks[0]!;
      assert.ok(to - from < crop.height, `${text}: mark ${from}-${to} wider than the strip is high`);
      assert.ok(from > 0.15 * crop.width && to < 0.6 * crop.width, `${text}: mark at ${from}-${to} of ${crop.width}`);
    }
  });

  it('finds none where colour is the background, a band, a frame or a character', async () => {
    const plates: Array<[PlateStyle, string]> = [
      ['cn-blue', '皖A12345'],
      ['cn-green', '粤BD12345'],
      ['cn-police', '粤A1234警'],
      ['cn-embassy', '使244040'],
      ['cn-emergency', '吉A4074应急'],
      ['cn-coach', '吉A0744学'],
      ['uk', 'AB12 CDE'],
      ['eu', 'BA 123XY'],
      ['fr', 'AB-123-CD'],
      ['es', '1234 BCD'],
      ['us', '7ABC123'],
      ['br-mercosur', 'ABC1D23'],
    ];
    for (const [style, text] of plates) {
      assert.deepEqual(colouredMarkColumns(await strip(style, text)), [], `${style} ${text}`);
    }
  });

  it('makes every step over a mark a certain blank and leaves the others', async () => {
    const crop = await strip('de', 'MZ Z 982');
    const [[from, to]] = colouredMarkColumns(crop) as [[number, number]];
    const steps = Math.ceil(crop.width / 8);
    const columns = 5;
    const probs = new Float32Array(steps * columns).fill(0.2);
    const blanked = blankColouredMarks({ probs, steps, columns }, crop);
    for (let t = 0; t < steps; t++) {
      const row = [...blanked.probs.subarray(t * columns, (t + 1) * columns)];
      const over = t >= Math.round(from / 8) && t < Math.round(to / 8);
      assert.deepEqual(row, over ? [1, 0, 0, 0, 0] : [0.2, 0.2, 0.2, 0.2, 0.2].map(Math.fround), `step ${t}`);
    }
    assert.ok(
      probs.every((p) => p === Math.fround(0.2)),
      'the input is unchanged',
    );
  });
});
