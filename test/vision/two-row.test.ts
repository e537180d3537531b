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
import { areStackedRows, joinRows, stackedRowPairs, twoRowQuad } from '../../edge/vision/two-row.js';
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
});
