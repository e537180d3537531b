/**
 * Seals between a plate's characters, painted out before the strip is read.
 *
 * German plates carry two round stickers between the district and the
 * letters (M ◎ AB 1234): the inspection seal on top, in one of six bright
 * colours, and the state's registration seal below it. The recogniser reads
 * the pair, two circles stacked, as B or 8 (KLI612 read KBLI612, FAS2 read
 * FBAS2), and a B among the letters fits the German series, so the syntax
 * cannot take it out again. Other plates put emblems between characters too
 * (coats of arms, state artwork).
 *
 * What counts as a seal, in a rectified strip (48 px high): a run of
 * columns holding no ink (nothing as dark as the characters) but bright,
 * saturated colour in the upper half of the strip, about a disc wide, with
 * ink close on both sides (so it sits between characters: the EU band at a
 * plate's edge and artwork beside the characters are left alone). Strips
 * that are coloured all over (Chinese blue, green and yellow plates), strips
 * on a tinted background (yellow plates, whose gaps between characters are
 * coloured too), strips with light characters on a darker plate and strips
 * without contrast are returned as they are. The run, widened over the
 * ink-free columns around it, is painted with the plate's background, whole
 * columns high, so the lower seal goes with the upper one and the recogniser
 * sees the gap that separates district and letters.
 *
 * Pure arithmetic over RGB bytes, no I/O.
 */
import type { TextCrop } from './rectifier.js';

export interface SealOptions {
  /** a pixel is coloured at this saturation (chroma / max) or more, and this brightness (max, 0-255) or more */
  minSaturation: number;
  minBrightness: number;
  /**
   * a column is part of a seal when the upper half's coloured pixels are one solid run (a disc's chord) at
   * least this fraction of the half long; a coloured character's strokes (警) cross a column several times
   */
  minColouredRows: number;
  /** the upper seal's coloured run ends above this fraction of the strip's height */
  maxSealBottom: number;
  /** ink: luminance below dark + this fraction of (background - dark) */
  inkLevel: number;
  /** a column holds ink when at least this many of its pixels are ink (fewer are noise or a seal's rim) */
  minInkPixels: number;
  /** a seal run is at least / at most this wide, as fractions of the strip's height */
  minWidth: number;
  maxWidth: number;
  /** ink must be found within this many strip heights on each side of the run */
  maxGap: number;
  /** strips with more coloured pixels than this fraction are coloured plates: left alone */
  maxColouredFraction: number;
  /** strips whose background and ink luminance differ by less than this are left alone */
  minContrast: number;
  /**
   * strips whose median luminance is below dark + this fraction of (background - dark) have light
   * characters on a darker plate: left alone
   */
  minBackgroundLevel: number;
  /** strips whose background is at least this saturated (a tinted plate: yellow, blue) are left alone */
  maxBackgroundSaturation: number;
}

export const defaultSealOptions: SealOptions = {
  minSaturation: 0.4,
  minBrightness: 100,
  minColouredRows: 0.25,
  maxSealBottom: 0.6,
  inkLevel: 0.35,
  minInkPixels: 3,
  minWidth: 0.2,
  maxWidth: 0.7,
  maxGap: 0.6,
  maxColouredFraction: 0.2,
  minContrast: 60,
  minBackgroundLevel: 0.6,
  maxBackgroundSaturation: 0.2,
};

/** A run of columns painted over (or of rows), [from, to) in strip pixels. */
export interface SealSpan {
  from: number;
  to: number;
}

export interface SealResult {
  /** the strip with its seals painted out (the input itself when there were none) */
  crop: TextCrop;
  seals: SealSpan[];
}

export function paintOutSeals(crop: TextCrop, options: SealOptions = defaultSealOptions): SealResult {
  const { width, height, data } = crop;
  if (width < 2 || height < 2 || data.length < width * height * 3) return { crop, seals: [] };
  const luminance = new Float32Array(width * height);
  const coloured = new Uint8Array(width * height);
  let colouredCount = 0;
  for (let p = 0; p < width * height; p++) {
    const r = data[3 * p]!;
    const g = data[3 * p + 1]!;
    const b = data[3 * p + 2]!;
    luminance[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    const max = Math.max(r, g, b);
    const chroma = max - Math.min(r, g, b);
    if (max >= options.minBrightness && chroma >= options.minSaturation * max) {
      coloured[p] = 1;
      colouredCount++;
    }
  }
  // most strips have no colour at all: nothing to look for
  if (colouredCount === 0 || colouredCount > options.maxColouredFraction * width * height) return { crop, seals: [] };
  const levels = luminanceLevels(luminance);
  const dark = levels(0.05);
  const background = levels(0.9);
  if (background - dark < options.minContrast) return { crop, seals: [] };
  // dark characters on a light plate: most of the strip (its median) is the light background; on a plate with
  // light characters (a Chinese blue plate, washed out) the median is the plate's colour, and nothing is ink
  const median = levels(0.5);
  if (median < dark + options.minBackgroundLevel * (background - dark)) return { crop, seals: [] };
  const inkBelow = dark + options.inkLevel * (background - dark);
  const fill = backgroundColour(data, luminance, median);
  const fillMax = Math.max(...fill);
  if (fillMax > 0 && (fillMax - Math.min(...fill)) / fillMax >= options.maxBackgroundSaturation)
    return { crop, seals: [] };

  // per column: ink anywhere in the middle 80% of the rows; the coloured runs of the upper half
  const top = Math.floor(0.1 * height);
  const bottom = Math.ceil(0.9 * height);
  const half = Math.floor(height / 2);
  const hasInk = new Uint8Array(width);
  const sealColumn = new Uint8Array(width);
  for (let x = 0; x < width; x++) {
    let inkPixels = 0;
    for (let y = top; y < bottom; y++) if (luminance[y * width + x]! < inkBelow) inkPixels++;
    if (inkPixels >= options.minInkPixels) hasInk[x] = 1;
    else {
      // one solid run starting in the upper half and ending above 60% of the height: the upper seal's chord.
      // A coloured character (the red 警 of Chinese police plates) crosses the column several times, or, blurred
      // at a small size, is one run down to the bottom of the line.
      const upper = colouredRuns(coloured, width, x, height).filter((r) => r.from < half);
      const run = upper[0];
      if (
        upper.length === 1 &&
        run!.to - run!.from >= options.minColouredRows * half &&
        run!.to < options.maxSealBottom * height
      )
        sealColumn[x] = 1;
    }
  }

  const seals: SealSpan[] = [];
  const maxGap = options.maxGap * height;
  for (let x = 0; x < width;) {
    if (!sealColumn[x]) {
      x++;
      continue;
    }
    let end = x;
    while (end < width && sealColumn[end]) end++;
    const runWidth = end - x;
    // widen over the ink-free columns on both sides: the gap the seal sits in
    let from = x;
    while (from > 0 && !hasInk[from - 1]) from--;
    let to = end;
    while (to < width && !hasInk[to]) to++;
    const between = from > 0 && to < width && x - from <= maxGap && to - end <= maxGap;
    if (between && runWidth >= options.minWidth * height && runWidth <= options.maxWidth * height) {
      seals.push({ from, to });
    }
    x = Math.max(end, to);
  }
  if (seals.length === 0) return { crop, seals };

  const out = new Uint8Array(data);
  for (const { from, to } of seals) {
    for (let y = 0; y < height; y++) {
      for (let x = from; x < to; x++) out.set(fill, 3 * (y * width + x));
    }
  }
  return { crop: { data: out, width, height }, seals };
}

/** Quantiles of the luminance (0-255), from a histogram of whole levels. */
function luminanceLevels(luminance: Float32Array): (fraction: number) => number {
  const histogram = new Uint32Array(256);
  for (const l of luminance) histogram[Math.min(255, Math.round(l))]!++;
  return (fraction) => {
    const wanted = fraction * (luminance.length - 1);
    let seen = 0;
    for (let level = 0; level < 256; level++) {
      seen += histogram[level]!;
      if (seen > wanted) return level;
    }
    return 255;
  };
}

/**
 * The runs of coloured pixels in column `x`, rows 0 to `rows`, [from, to) each, top first; a one-pixel gap
 * does not end a run (noise), and single pixels are not runs.
 */
function colouredRuns(coloured: Uint8Array, width: number, x: number, rows: number): SealSpan[] {
  const runs: SealSpan[] = [];
  let start = -1;
  let last = -1;
  for (let y = 0; y < rows; y++) {
    if (!coloured[y * width + x]) continue;
    if (start >= 0 && y - last > 2) {
      if (last > start) runs.push({ from: start, to: last + 1 });
      start = y;
    } else if (start < 0) start = y;
    last = y;
  }
  if (start >= 0 && last > start) runs.push({ from: start, to: last + 1 });
  return runs;
}

/** The mean colour of the strip's brighter half: the plate's background. */
function backgroundColour(data: Uint8Array, luminance: Float32Array, median: number): Uint8Array {
  let r = 0;
  let g = 0;
  let b = 0;
  let n = 0;
  for (let p = 0; p < luminance.length; p++) {
    if (luminance[p]! < median) continue;
    r += data[3 * p]!;
    g += data[3 * p + 1]!;
    b += data[3 * p + 2]!;
    n++;
  }
  return Uint8Array.from([Math.round(r / n), Math.round(g / n), Math.round(b / n)]);
}
