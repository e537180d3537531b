/**
 * Two-row plates (edge/vision/two-row.ts): which stacked lines are a
 * plate's two rows, the quad around them, and the joined CTC matrix that
 * one constrained decode reads top row first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlateAlphabet, decodeFormat, decodeGreedy } from '../../edge/vision/ctc-decoder.js';
import type { Quad } from '../../edge/vision/geometry.js';
import type { RowLine } from '../../edge/vision/two-row.js';
import {
  areStackedRows,
  imageRows,
  isTopRow,
  joinRows,
  stackedRowPairs,
  twoRowQuad,
  twoRowSplit,
} from '../../edge/vision/two-row.js';
import { decodeImage } from '../../edge/vision/image-input.js';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import { renderPlate } from '../../scenes/plate-renderer.js';
import { compileFormat, plateFormats } from '../../proto/plate-syntax.js';
import { matrixOfRows, rowsOfText } from './ctc-helpers.js';

/** An upright line: left, top, width, height. */
function line(x: number, y: number, width: number, height: number): RowLine {
  const quad: Quad = [
    { x, y },
    { x: x + width, y },
    { x: x + width, y: y + height },
    { x, y: y + height },
  ];
  return { quad, width, height };
}

// a GA 36 two-row plate 220 px wide: top characters 30 px tall over 110 px, bottom ones 55 px tall over 195 px
const bottom = line(1012, 547, 195, 55);
const top = line(1070, 507, 80, 30);

describe('two-row plates', () => {
  it('takes a short, narrow line just above and centred over a taller one as its top row', () => {
    assert.ok(areStackedRows(top, bottom));
    assert.deepEqual(stackedRowPairs([bottom, top]), [{ top, bottom }]);
  });

  it('refuses lines that do not lie as a plate’s two rows', () => {
    assert.ok(!areStackedRows(bottom, top), 'the taller line on top');
    assert.ok(!areStackedRows(line(1100, 547, 80, 30), bottom), 'side by side');
    assert.ok(!areStackedRows(line(1150, 507, 80, 30), bottom), 'off centre');
    assert.ok(!areStackedRows(line(1070, 400, 80, 30), bottom), 'far above');
    assert.ok(!areStackedRows(line(1030, 507, 160, 30), bottom), 'as wide as a US state name over the characters');
    assert.ok(!areStackedRows(line(1070, 497, 80, 50), bottom), 'as tall as the bottom row (two lines of one size)');
    assert.ok(!areStackedRows(line(1090, 530, 40, 8), bottom), 'a speck (a screw, a seal) above the row');
  });

  it('the quad around both rows runs from the top row’s top edge to the bottom row’s bottom edge', () => {
    const q = twoRowQuad(top.quad, bottom.quad);
    assert.deepEqual(q, [
      { x: 1012, y: 507 },
      { x: 1207, y: 507 },
      { x: 1207, y: 602 },
      { x: 1012, y: 602 },
    ]);
  });

  it('joins the rows top first, with a blank step so that a repeated character stays two', () => {
    const alphabet = new PlateAlphabet([...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', '京', '挂']);
    const upper = matrixOfRows(rowsOfText('京A').slice(0, -1), alphabet); // no closing blank: ends on A
    const lower = matrixOfRows(rowsOfText('A234挂').slice(1), alphabet); // no opening blank: begins on A
    const joined = joinRows(upper, lower);
    assert.equal(joined.steps, upper.steps + 1 + lower.steps);
    assert.equal(joined.probs[upper.steps * joined.columns], 1);
    assert.equal(decodeGreedy(joined, alphabet).text, '京AA234挂');
    const trailer = compileFormat(plateFormats.find((f) => f.name === 'CN trailer')!);
    const read = decodeFormat(joined, alphabet, trailer)!;
    assert.equal(read.text, '京AA234挂');
    assert.equal(read.charConfidences.length, 7, 'one confidence per character, as for one row');
    assert.throws(() => joinRows(upper, { ...lower, columns: lower.columns + 1 }), /different columns/);
  });

  it('splits a two-row plate crop in the gap between its rows, and leaves one-row crops whole', async () => {
    for (const width of [90, 160, 300]) {
      for (const style of ['cn-yellow-two-row', 'cn-trailer-two-row'] as const) {
        const image = await decodeImage((await renderPlate({ style, text: '京A0744挂' }, width)).png);
        const split = twoRowSplit(image);
        // the rows' ink: top 15-75 mm, bottom 95-205 mm of 220
        assert.ok(split !== null, `${style} at ${width} px: no split`);
        const mm = (split / image.height) * 220;
        assert.ok(mm >= 73 && mm <= 97, `${style} at ${width} px: split at ${mm.toFixed(1)} mm`);
        const top = imageRows(image, 0, split);
        assert.deepEqual([top.width, top.height, top.data.length], [image.width, split, image.width * split * 3]);
      }
    }
    const oneRow: Array<[PlateStyle, string]> = [
      ['cn-blue', '皖A12345'],
      ['eu', 'BA 123XY'],
      ['uk', 'AB12 CDE'],
    ];
    for (const [style, text] of oneRow) {
      assert.equal(twoRowSplit(await decodeImage((await renderPlate({ style, text }, 200)).png)), null, style);
    }
  });

  it('a top row reads as a province character and a letter, and nothing else does', () => {
    for (const text of ['京A', '粤Z', '苏E']) assert.ok(isTopRow(text), text);
    for (const text of ['8', 'OHIO', 'A京', '京', '京AB', '京1', 'TX']) assert.ok(!isTopRow(text), text);
  });
});
