/**
 * Two-row plates (Chinese yellow rear plates of lorries and buses, many
 * trailers): the detector finds each row as a text line of its own. Two
 * lines form a plate's rows when the shorter one sits just above the
 * taller one, centred over it and no wider; the rows are read as strips of
 * their own and their CTC matrices joined, top row first, with a blank step
 * between, so that one constrained decode reads the whole plate and gives
 * every character its confidence as for a one-row plate. A crop that is
 * already one plate (no detector boxes) is split where its horizontal
 * projection profile shows a gap between two rows. Pure geometry and
 * arithmetic, no I/O.
 */
import type { CtcMatrix } from './ctc-decoder.js';
import type { Quad } from './geometry.js';
import type { RgbImage } from './image-input.js';
import { provinces } from '../../proto/plate-syntax.js';
import { quadSize } from './geometry.js';

/** A detected text line: its corners (tl, tr, br, bl) and upright size. */
export interface RowLine {
  quad: Quad;
  width: number;
  height: number;
}

/** Limits on how two rows of one plate lie (measured on GA 36 plates: top characters 60 mm, bottom 110 mm). */
export const twoRowShape = {
  /** the top row's height as a share of the bottom row's */
  minHeightRatio: 0.35,
  maxHeightRatio: 0.85,
  /** the gap between the rows, as a share of the bottom row's height (negative: the boxes overlap) */
  minGap: -0.25,
  maxGap: 0.7,
  /**
   * the top row is at most this share of the bottom row's width (its two
   * characters take about 0.45; a US state name over the characters is wider)
   */
  maxWidthRatio: 0.65,
  /** the rows' centres differ horizontally by at most this share of the bottom row's width */
  maxCentreOffset: 0.2,
};

const centre = (q: Quad) => ({
  x: (q[0].x + q[1].x + q[2].x + q[3].x) / 4,
  y: (q[0].y + q[1].y + q[2].y + q[3].y) / 4,
});

/** True when `top` lies as the top row of a two-row plate whose bottom row is `bottom`. */
export function areStackedRows(top: RowLine, bottom: RowLine): boolean {
  const s = twoRowShape;
  const ratio = top.height / bottom.height;
  if (ratio < s.minHeightRatio || ratio > s.maxHeightRatio) return false;
  if (top.width > s.maxWidthRatio * bottom.width) return false;
  const a = centre(top.quad);
  const b = centre(bottom.quad);
  if (Math.abs(a.x - b.x) > s.maxCentreOffset * bottom.width) return false;
  // the gap measured along the line joining the centres, in the bottom row's height
  const gap = (b.y - a.y - (top.height + bottom.height) / 2) / bottom.height;
  return gap >= s.minGap && gap <= s.maxGap;
}

/**
 * True when a line's own read is a two-row plate's top row: a province
 * character and a letter (GA 36). Lines above a US plate's characters
 * (state names, stickers) lie like top rows too, but do not read so.
 */
export function isTopRow(text: string): boolean {
  const chars = [...text];
  return chars.length === 2 && provinces.includes(chars[0]!) && /^[A-Z]$/.test(chars[1]!);
}

/** Every pair of lines that lie as the two rows of one plate, top row first. */
export function stackedRowPairs<T extends RowLine>(lines: readonly T[]): Array<{ top: T; bottom: T }> {
  const pairs: Array<{ top: T; bottom: T }> = [];
  for (const top of lines)
    for (const bottom of lines) if (top !== bottom && areStackedRows(top, bottom)) pairs.push({ top, bottom });
  return pairs;
}

/**
 * The quad around both rows: the bottom row's corners below, its left and
 * right edges carried up to the top row's top edge.
 */
export function twoRowQuad(top: Quad, bottom: Quad): Quad {
  const rise = top[0].y - bottom[0].y; // < 0: how far above the bottom row's top edge the top row begins
  const riseRight = top[1].y - bottom[1].y;
  return [
    { x: bottom[0].x, y: bottom[0].y + rise },
    { x: bottom[1].x, y: bottom[1].y + riseRight },
    bottom[2],
    bottom[3],
  ];
}

/** The size of the quad around both rows. */
export function twoRowSize(top: Quad, bottom: Quad): { width: number; height: number } {
  return quadSize(twoRowQuad(top, bottom));
}

/**
 * The two rows' CTC matrices as one, top row first, with one step between
 * them that is all blank (so the last character of the top row and the
 * first of the bottom row stay two characters even when they are the same).
 */
export function joinRows(top: CtcMatrix, bottom: CtcMatrix): CtcMatrix {
  if (top.columns !== bottom.columns) throw new RangeError('joinRows: the rows have different columns');
  const columns = top.columns;
  const steps = top.steps + 1 + bottom.steps;
  const probs = new Float32Array(steps * columns);
  probs.set(top.probs.subarray(0, top.steps * columns), 0);
  probs[top.steps * columns] = 1; // column 0: the blank
  probs.set(bottom.probs.subarray(0, bottom.steps * columns), (top.steps + 1) * columns);
  return { probs, steps, columns };
}

/**
 * Plate crops at most this wide for their height may hold two rows (a GA 36
 * two-row plate is 2:1, a one-row Chinese or European plate 3:1 or wider;
 * US plates are 2:1 too, with one row of characters between bands of text).
 */
export const TWO_ROW_MAX_ASPECT = 2.6;

/**
 * Where a plate crop that holds two rows of characters divides: the image
 * row between them, found on the horizontal projection profile (per image
 * row, how much the brightness changes from pixel to pixel: high across
 * characters, low in the gap between rows). Null when the crop is too wide
 * to be a two-row plate or shows no clear gap in its middle band.
 */
export function twoRowSplit(image: RgbImage): number | null {
  const { width, height, data } = image;
  if (height < 12 || width / height > TWO_ROW_MAX_ASPECT) return null;
  const energy = new Float64Array(height);
  for (let y = 0; y < height; y++) {
    let sum = 0;
    let prev = -1;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const grey = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      if (prev >= 0) sum += Math.abs(grey - prev);
      prev = grey;
    }
    energy[y] = sum / width;
  }
  // smoothed over a few rows, so that one thin stroke or border line does not make or break a gap
  const radius = Math.max(1, Math.round(height / 40));
  const smooth = energy.map((_, y) => {
    let s = 0;
    let n = 0;
    for (let k = Math.max(0, y - radius); k <= Math.min(height - 1, y + radius); k++, n++) s += energy[k]!;
    return s / n;
  });
  // the gap of a GA 36 two-row plate is at 39% of its height (the top row 15-75 mm, the bottom 95-205 of 220)
  const from = Math.floor(0.25 * height);
  const to = Math.ceil(0.55 * height);
  let split = from;
  for (let y = from; y <= to; y++) if (smooth[y]! < smooth[split]!) split = y;
  const peak = (a: number, b: number) => Math.max(...smooth.slice(a, b));
  const above = peak(Math.floor(0.08 * height), split);
  const below = peak(split + 1, Math.ceil(0.92 * height));
  // both rows must carry characters, and the gap must be much quieter than either
  return smooth[split]! < 0.35 * Math.min(above, below) ? split : null;
}

/** Rows `from` (inclusive) to `to` (exclusive) of an image. */
export function imageRows(image: RgbImage, from: number, to: number): RgbImage {
  const rowBytes = image.width * 3;
  return { data: image.data.slice(from * rowBytes, to * rowBytes), width: image.width, height: to - from };
}
