/**
 * Coloured marks between a plate's characters: the German inspection and
 * registration seals (a coloured sticker over the state seal, stacked
 * between district and letters), coats of arms, state emblems. The
 * recogniser has never seen them and reads a stacked pair of discs as 8 or
 * B. They are told from characters by colour and size: a mark is a run of
 * columns with strongly coloured, not dark, pixels that covers well under
 * the strip's height; characters span (nearly) its height, and a coloured
 * plate background fills every column. The CTC steps over a mark are set
 * to blank, so no character can be read there. Pure arithmetic over the
 * strip's RGB bytes, no I/O.
 */
import type { CtcMatrix } from './ctc-decoder.js';
import type { TextCrop } from './rectifier.js';

/** The recogniser's output step: one CTC step per 8 input columns. */
const STEP = 8;

export const colouredMarkShape = {
  /** a pixel is coloured from this saturation (chroma / max) */
  minSaturation: 0.4,
  /** and at least this bright (dark blue or red characters stay characters) */
  minBrightness: 110,
  /** a column belongs to a mark when at least this many of its pixels are coloured */
  minPixelsPerColumn: 3,
  /** a mark is at most this share of the strip's height tall (a character is taller) */
  maxHeight: 0.55,
  /** and between these shares of the strip's height wide */
  minWidth: 0.15,
  maxWidth: 0.7,
};

/** Column ranges [from, to) of the crop that hold a coloured mark. */
export function colouredMarkColumns(crop: TextCrop): Array<[number, number]> {
  const { width, height, data } = crop;
  const s = colouredMarkShape;
  const top = new Int32Array(width).fill(height);
  const bottom = new Int32Array(width).fill(-1);
  const count = new Int32Array(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const max = Math.max(data[i]!, data[i + 1]!, data[i + 2]!);
      const min = Math.min(data[i]!, data[i + 1]!, data[i + 2]!);
      if (max < s.minBrightness || (max - min) / max < s.minSaturation) continue;
      count[x]!++;
      top[x] = Math.min(top[x]!, y);
      bottom[x] = Math.max(bottom[x]!, y);
    }
  }
  const marks: Array<[number, number]> = [];
  let x = 0;
  while (x < width) {
    if (count[x]! < s.minPixelsPerColumn) {
      x++;
      continue;
    }
    const from = x;
    let y0 = height;
    let y1 = -1;
    while (x < width && count[x]! >= s.minPixelsPerColumn) {
      y0 = Math.min(y0, top[x]!);
      y1 = Math.max(y1, bottom[x]!);
      x++;
    }
    const runWidth = x - from;
    const runHeight = y1 - y0 + 1;
    if (
      runHeight <= s.maxHeight * height &&
      runWidth >= s.minWidth * height &&
      runWidth <= s.maxWidth * height &&
      // a mark sits between characters, never at either end of the line (a coloured band or frame)
      from > 0 &&
      x < width
    ) {
      marks.push([from, x]);
    }
  }
  return marks;
}

/**
 * The matrix with every step over a coloured mark of its crop made a
 * certain blank. The input is not changed.
 */
export function blankColouredMarks(matrix: CtcMatrix, crop: TextCrop): CtcMatrix {
  const marks = colouredMarkColumns(crop);
  if (marks.length === 0) return matrix;
  const probs = matrix.probs.slice();
  for (const [from, to] of marks) {
    // the steps whose 8 columns lie mostly over the mark
    for (let t = Math.round(from / STEP); t < Math.min(matrix.steps, Math.round(to / STEP)); t++) {
      probs.fill(0, t * matrix.columns, (t + 1) * matrix.columns);
      probs[t * matrix.columns] = 1;
    }
  }
  return { ...matrix, probs };
}
