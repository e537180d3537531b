/**
 * The Mercosur band: the blue strip across the top of the plates Brazil,
 * Argentina, Uruguay and Paraguay issue since 2016-2018 (a white plate, a
 * blue band with the country's name and flag above the characters). Brazil's
 * older grey plates have no band, and the two series share every character
 * but the fifth (ABC1234 old, ABC1D23 Mercosur), where the recogniser's
 * look-alikes (0/O, 1/I, 8/B) leave the syntax unable to choose: UDU8O07
 * was read UDU8007. The band chooses (format-choice.ts).
 *
 * Where it is looked for: a region along the top edge of the text line, from
 * `above` line heights above it to `below` under it (the detector's box
 * takes in part of the band, whose lettering joins the line), reaching
 * `side` line heights past the line's ends on both sides. It is a band when
 * at least `minRows` of its rows are mostly plate blue (plate-colour.ts)
 * over the line and not beyond the plate: a blue car's paint above a plate
 * is blue past the plate's ends too.
 *
 * Pure geometry and arithmetic; the cutting is the rectifier's.
 */
import type { Point, Quad } from './geometry.js';
import { distance, quadSize } from './geometry.js';
import type { TextCrop } from './rectifier.js';
import type { PlateColour } from './plate-colour.js';
import { plateColour } from './plate-colour.js';

export interface BandOptions {
  /** the region starts this many line heights above the line's top edge ... */
  above: number;
  /** ... and ends this many below it */
  below: number;
  /** and reaches this many line heights past the line's ends; the outer `outside` of that is beyond the plate */
  side: number;
  outside: number;
  /** a band row is at least this fraction plate blue over the line ... */
  minBlue: number;
  /** ... and at most this fraction beyond the plate */
  maxOutsideBlue: number;
  /** a band is at least this many of the region's rows */
  minRows: number;
  /** a strip bluer than this is a blue plate (Chinese), blue along its top edge too */
  maxStripBlue: number;
}

export const defaultBandOptions: BandOptions = {
  above: 0.35,
  below: 0.15,
  side: 1.2,
  outside: 0.4,
  minBlue: 0.6,
  maxOutsideBlue: 0.3,
  minRows: 2,
  maxStripBlue: 0.4,
};

/** Rows of the cut region (bandRegion, rectified). */
export const BAND_ROWS = 12;

/** A line's height (mean of its left and right edges) and the length of its top edge, which the band runs along. */
function lineShape(line: Quad): { height: number; length: number } {
  return { height: quadSize(line).height, length: distance(line[0], line[1]) };
}

/** The region along a text line's top edge where a Mercosur band would be (tl, tr, br, bl). */
export function bandRegion(line: Quad, options: BandOptions = defaultBandOptions): Quad {
  const [tl, tr, br, bl] = line;
  const lerp = (a: Point, b: Point, k: number): Point => ({ x: a.x + (b.x - a.x) * k, y: a.y + (b.y - a.y) * k });
  const { height, length } = lineShape(line);
  const reach = (options.side * height) / Math.max(1, length);
  // k line heights down from the top edge (negative: up), along the left and right edges; lengthened past both ends
  const left = (k: number) => lerp(lerp(tl, bl, k), lerp(tr, br, k), -reach);
  const right = (k: number) => lerp(lerp(tl, bl, k), lerp(tr, br, k), 1 + reach);
  return [left(-options.above), right(-options.above), right(options.below), left(options.below)];
}

/**
 * Whether a cut region (bandRegion, rectified) holds a Mercosur band over the line and not beyond it;
 * `stripColour` is the colour of the line's own strip.
 */
export function isMercosurBand(
  region: TextCrop,
  line: Quad,
  stripColour: PlateColour,
  options: BandOptions = defaultBandOptions,
): boolean {
  const { width, height, data } = region;
  if (width < 4 || height < 1 || data.length < width * height * 3) return false;
  if (stripColour.blue > options.maxStripBlue) return false;
  const { height: lineHeight, length } = lineShape(line);
  // columns of the region per line height along the line
  const perHeight = width / (length / lineHeight + 2 * options.side);
  const lineFrom = Math.round(options.side * perHeight);
  const lineTo = width - lineFrom;
  const outside = Math.max(1, Math.round(options.outside * perHeight));
  const blueOf = (y: number, from: number, to: number) =>
    to > from ? plateColour(data.subarray(3 * (y * width + from), 3 * (y * width + to))).blue : 0;
  let bandRows = 0;
  for (let y = 0; y < height; y++) {
    const over = blueOf(y, lineFrom, lineTo);
    const beyond = (blueOf(y, 0, outside) + blueOf(y, width - outside, width)) / 2;
    if (over >= options.minBlue && beyond <= options.maxOutsideBlue) bandRows++;
  }
  return bandRows >= options.minRows;
}
