/**
 * Chooses, for one text strip, the plate format and read that best explain
 * it. Pure logic over a CTC matrix, no I/O.
 *
 * Each format's constrained decode costs some log-probability against the
 * unconstrained best path ("fit cost"). The model is over-confident, so the
 * cost is divided by a temperature before it is weighed against the priors:
 * a country's exact format is preferred to a generic rule, and a blue or
 * green plate background makes the Chinese formats likely and the others
 * unlikely; seals between the characters make the German formats likely,
 * and a blue band across the top the Mercosur formats.
 */
import type { CtcMatrix, CtcRead, PlateAlphabet } from './ctc-decoder.js';
import { decodeFormat, decodeGreedy } from './ctc-decoder.js';
import type { PlateColour } from './plate-colour.js';
import type { CompiledFormat, PlateFormat } from '../../proto/plate-syntax.js';
import { fitsFormat, provinces } from '../../proto/plate-syntax.js';
import { differsOnlyByLookAlikes } from '../../proto/look-alikes.js';

export interface FormatTuning {
  /** divides fit costs (nats) before they meet the priors */
  temperature: number;
  /** prior penalty of a generic format against a specific one */
  genericPenalty: number;
  /** prior shift for Chinese formats on a plate-coloured strip (and against the others) */
  colourBonus: number;
  /** plate colour evidence (blue fraction, or 1.5 x green fraction) from which a strip is a Chinese plate */
  colourStrong: number;
  /** below this evidence a strip is not a Chinese plate */
  colourWeak: number;
  /**
   * prior penalty of Chinese formats on a strip with no plate colour (Latin
   * letters read as CJK); a mostly yellow strip is not penalised
   */
  uncolouredCnPenalty: number;
  /**
   * bonus for a specific format whose read differs from the unconstrained
   * read only in look-alike characters (0/O, 1/I, 8/B, ...): there the
   * syntax, not the pixels, decides. Not for US formats: US series are too
   * many for one of them to make a character certain.
   */
  confusionBonus: number;
  /**
   * prior shift for German formats on a strip with seals between its
   * characters (plate-seals.ts): only German plates carry them, and without
   * it a German series weighs less than a US vanity plate
   */
  sealBonus: number;
  /**
   * prior shift for Mercosur formats on a strip with the Mercosur band
   * (mercosur-band.ts): without it Brazil's old series ABC1234 wins over the
   * Mercosur ABC1D23 wherever the fifth character is a look-alike (O read 0)
   */
  bandBonus: number;
  /**
   * plate colour counts only when some time step gives province characters
   * at least this probability (0: always)
   */
  colourNeedsProvince: number;
}

export const defaultFormatTuning: FormatTuning = {
  temperature: 3,
  genericPenalty: 1.5,
  colourBonus: 3,
  colourStrong: 0.4,
  colourWeak: 0.05,
  uncolouredCnPenalty: 3,
  confusionBonus: 1.5,
  sealBonus: 3.5,
  bandBonus: 2,
  colourNeedsProvince: 0.2,
};

export interface FormatChoice {
  read: CtcRead;
  format: PlateFormat;
  /** nats the format cost against the unconstrained best path */
  fitCost: number;
  /** the value the choice was made on (higher is better) */
  value: number;
}

/** What a strip shows besides its characters (each false when not looked for). */
export interface StripMarks {
  /** seals between the characters (plate-seals.ts): a German plate */
  seals: boolean;
  /** the blue band across the top (mercosur-band.ts): a Mercosur plate */
  mercosurBand: boolean;
}

export const NO_MARKS: StripMarks = { seals: false, mercosurBand: false };

export function chooseFormat(
  m: CtcMatrix,
  alphabet: PlateAlphabet,
  formats: readonly CompiledFormat[],
  colour: PlateColour | null,
  tuning: FormatTuning = defaultFormatTuning,
  marks: StripMarks = NO_MARKS,
): FormatChoice | null {
  const free = decodeGreedy(m, alphabet);
  // plate colour is evidence of a Chinese plate only where the model sees a province character somewhere:
  // blue and green also colour US and European plates (blue text, state artwork, the EU band)
  const colourCue = colour && provinceEvidence(m, alphabet) >= tuning.colourNeedsProvince ? colour : null;
  const freeFitsSpecific = formats.some((f) => f.format.specific && fitsFormat(free.text, f));
  let best: FormatChoice | null = null;
  for (const f of formats) {
    let shift = prior(f.format, colourCue, tuning);
    if (marks.seals && f.format.countries.includes('DE')) shift += tuning.sealBonus;
    if (marks.mercosurBand && f.format.mercosur) shift += tuning.bandBonus;
    const mayConfuse = f.format.specific && !f.format.countries.includes('US') && !freeFitsSpecific;
    // a fit costs at least nothing (no path beats the unconstrained best one), so a format whose priors
    // cannot beat the best value so far is not decoded: the same choice, fewer decodes
    if (best && shift + (mayConfuse ? tuning.confusionBonus : 0) + BOUND_SLACK <= best.value) continue;
    const read = decodeFormat(m, alphabet, f);
    if (!read) continue;
    const fitCost = free.logScore - read.logScore;
    let value = -fitCost / tuning.temperature + shift;
    if (mayConfuse && differsOnlyByLookAlikes(read.text, free.text)) value += tuning.confusionBonus;
    if (!best || value > best.value) best = { read, format: f.format, fitCost, value };
  }
  return best;
}

/** Rounding room for the bound above (a fit cost can come out a hair below zero in floating point). */
const BOUND_SLACK = 1e-9;

/** The highest probability any one time step gives the province characters together. */
function provinceEvidence(m: CtcMatrix, alphabet: PlateAlphabet): number {
  const cols = [...provinces].map((c) => alphabet.column(c));
  let best = 0;
  for (let t = 0; t < m.steps; t++) {
    let p = 0;
    for (const c of cols) p += m.probs[t * m.columns + c]!;
    if (p > best) best = p;
  }
  return best;
}

/** How much a strip looks like a Chinese plate by colour: its blue fraction, or 1.5 x its green fraction. */
function plateEvidence(colour: PlateColour): number {
  return Math.max(colour.blue, 1.5 * colour.green);
}

function prior(format: PlateFormat, colour: PlateColour | null, tuning: FormatTuning): number {
  let p = (format.specific ? 0 : -tuning.genericPenalty) - (format.extraPenalty ?? 0);
  if (colour) {
    const evidence = plateEvidence(colour);
    const isCn = format.countries.includes('CN');
    if (evidence >= tuning.colourStrong) p += isCn ? tuning.colourBonus : -tuning.colourBonus;
    // a yellow strip is not uncoloured: Chinese lorries, buses, coaches and trailers have yellow plates
    else if (evidence < tuning.colourWeak && (colour.yellow ?? 0) < tuning.colourStrong && isCn)
      p -= tuning.uncolouredCnPenalty;
  }
  return p;
}
