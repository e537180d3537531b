/**
 * Plate syntaxes: which characters a plate may hold at which position, for
 * the formats of every known country (listed per market in formats/). Pure
 * data and pure functions, no I/O.
 *
 * A format is a sequence of position classes. Formats marked `specific`
 * describe one country's plates exactly (e.g. Slovakia: two letters, three
 * digits, two letters); a read that fits one is trusted more than a read
 * that only fits a region's generic rule, and the constrained decoder uses
 * the position classes to fix what the syntax makes certain (O or 0, I or 1,
 * the province character). A two-row plate's text is its top row then its
 * bottom row (the Chinese yellow rear and trailer plates: province and
 * letter on top), so it fits the same formats as a one-row plate. Not
 * supported yet: US dealer and temporary tags.
 */
import type { Country } from './regions.js';
import { chinaFormats } from './formats/china.js';
import { canadaFormats, latinAmericaFormats, usFormats } from './formats/americas.js';
import { asiaPacificFormats } from './formats/asia-pacific.js';
import { europeFormats } from './formats/europe.js';
import type { PlateFormat } from './formats/plate-format.js';

export type { PlateFormat } from './formats/plate-format.js';

/** Chinese province (and municipality) characters that begin a civilian plate. */
export const provinces = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';

/**
 * Characters that name a Chinese special series: police 警, driving school 学,
 * trailer 挂, embassy 使, consulate 领, Hong Kong 港 and Macau 澳 cross-boundary,
 * emergency rescue 应急.
 */
export const specialSeriesCharacters = '警学挂使领港澳应急';

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Chinese plates never use I or O (they would be confused with 1 and 0). */
const CN_LETTERS = LETTERS.replace(/[IO]/g, '');
/**
 * US plates: most states never issue O or Q (they would read as 0), and
 * where they do the glyph is the digit's; the digit is the reading that
 * matches the registration. (I is issued, e.g. California's 4PCI264.)
 */
const US_LETTERS = LETTERS.replace(/[OQ]/g, '');
/** Russian plates: the twelve Cyrillic letters with Latin twins (А В Е К М Н О Р С Т У Х), as the twins. */
const RU_LETTERS = 'ABEKMHOPCTYX';
/** Ukrainian plates: the twelve Cyrillic letters with Latin twins (А В С Е Н І К М О Р Т Х), as the twins. */
const UA_LETTERS = 'ABCEHIKMOPTX';

/** Position classes, written one character each in a format's pattern. */
export const positionClasses: Record<string, string> = {
  P: provinces,
  N: DIGITS,
  L: LETTERS,
  X: DIGITS + LETTERS,
  C: CN_LETTERS,
  Y: DIGITS + CN_LETTERS,
  E: 'DF', // Chinese new-energy marker: D electric, F other
  M: US_LETTERS,
  U: DIGITS + US_LETTERS,
  R: RU_LETTERS,
  K: UA_LETTERS,
};

/**
 * Every known format, specific ones first (the first of two equally good
 * fits wins, so the order among them matters: a US read that also fits a
 * European or Brazilian series, such as ABC1234, is called US).
 */
export const plateFormats: readonly PlateFormat[] = [
  ...chinaFormats,
  ...usFormats,
  ...latinAmericaFormats,
  ...europeFormats,
  // after the others: where a series is also theirs (ABC1234), the older entries name it first
  ...canadaFormats,
  ...asiaPacificFormats,
].sort((a, b) => Number(b.specific) - Number(a.specific));

/** A format expanded to per-position character sets. */
export interface CompiledFormat {
  format: PlateFormat;
  /** allowed characters per position (longest length) */
  positions: string[];
  minLength: number;
}

export function compileFormat(format: PlateFormat): CompiledFormat {
  const m = /^([A-Z]*)([A-Z])\{(\d+),(\d+)\}$/.exec(format.pattern);
  let letters: string;
  let minLength: number;
  if (m) {
    const [, head, last, lo, hi] = m;
    letters = head! + last!.repeat(Number(hi));
    minLength = head!.length + Number(lo);
  } else {
    letters = format.pattern;
    minLength = letters.length;
  }
  const positions = [...letters].map((c) => {
    const set = positionClasses[c];
    // a character that is not a position class letter stands for itself (the 警 of a police plate)
    if (!set && /^[A-Z]$/.test(c)) throw new Error(`format ${format.name}: unknown position class ${c}`);
    return set ?? c;
  });
  return { format, positions, minLength };
}

/** True when `text` fits the format exactly. */
export function fitsFormat(text: string, compiled: CompiledFormat): boolean {
  const chars = [...text];
  if (chars.length < compiled.minLength || chars.length > compiled.positions.length) return false;
  return chars.every((c, i) => compiled.positions[i]!.includes(c));
}

/** Characters printed between plate groups (or read there by OCR); never part of a plate. */
export const plateSeparators: readonly string[] = [' ', '-', '·', '.', '•', '_', ':', '—', '–', '|', '・', '/'];

/** Invisible joiners and spaces that carry no glyph (zero-width space, non-joiner, joiner, word joiner, BOM). */
const ZERO_WIDTH = /^[\u200B-\u200D\u2060\uFEFF]$/;
/** Full-width forms of ASCII digits and letters (U+FF10-FF19, U+FF21-FF3A, U+FF41-FF5A). */
const FULL_WIDTH_ALNUM = /^[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]$/;
const ASCII_ALNUM = /^[A-Za-z0-9]$/;

/**
 * Normalises text from any source (an OCR read, an API body, a label) to
 * the plate alphabet: full-width letters and digits become ASCII, lower
 * case becomes upper case, whitespace, zero-width and separator characters
 * (also their full-width and other compatibility forms) are removed.
 * Returns only A-Z, 0-9, province and special-series characters; anything else makes it
 * return null.
 *
 * Each character that stays must be an ASCII letter or digit, its
 * full-width form, or a province or special-series character exactly. Every other character
 * is refused rather than folded, even when NFKC would fold it to a plate
 * character: circled, superscript, mathematical and other styled letters
 * (Ⓐ, ², 𝐀), Roman numerals (Ⅳ -> IV), ligatures (ﬁ), squared units (㎏),
 * ß, dotless ı, long ſ, the Kelvin sign, compatibility ideographs (⽢, 冀),
 * homoglyphs from other scripts (Cyrillic А, Greek Ο), combining marks,
 * direction marks and overrides (U+200E, U+202E, which can make a plate
 * display as another), NUL and other controls. So a stored plate is always
 * what its input shows, and no differently drawn input can reach (or be
 * linked as) another plate.
 */
export function normalisePlate(text: string): string | null {
  let kept = '';
  for (const c of text) {
    if (/^\s$/.test(c) || ZERO_WIDTH.test(c)) continue;
    const folded = c.normalize('NFKC');
    // separators (and their full-width or compatibility forms, e.g. "．", "…") never carry a plate character
    if ([...folded].every((f) => plateSeparators.includes(f) || /^\s$/.test(f))) continue;
    if (ASCII_ALNUM.test(c) || FULL_WIDTH_ALNUM.test(c)) kept += folded.toUpperCase();
    else if (provinces.includes(c) || specialSeriesCharacters.includes(c)) kept += c;
    else return null;
  }
  return kept.length === 0 ? null : kept;
}

/**
 * Cyrillic and Greek letters drawn exactly as a Latin letter (А В Е К М Н О Р
 * С Т У Х І Ј Ѕ; Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ), either case, as that Latin
 * letter: Russian, Ukrainian, Bulgarian, Serbian and Greek plates use only
 * these, and a dataset's labels may write them in their own script.
 */
const SCRIPT_TWINS: Record<string, string> = Object.fromEntries(
  [
    ['АВЕКМНОРСТУХІЈЅ', 'ABEKMHOPCTYXIJS'],
    ['авекмнорстухіјѕ', 'ABEKMHOPCTYXIJS'],
    ['ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ', 'ABEZHIKMNOPTYX'],
    ['αβεζηικμνορτυχ', 'ABEZHIKMNOPTYX'],
  ].flatMap(([from, to]) => [...from!].map((c, i) => [c, to![i]!])),
);

/**
 * `text` with its Cyrillic and Greek twins of Latin letters written as the
 * Latin letters, for ground-truth labels (a dataset of Russian plates
 * labelled А123ВС77), before normalisePlate. Never for what drivers type:
 * there a homoglyph is refused (normalisePlate).
 */
export function foldScriptTwins(text: string): string {
  return [...text].map((c) => SCRIPT_TWINS[c] ?? c).join('');
}

/** Countries whose formats `plate` fits, those of specific formats first. */
export function regionsOf(plate: string, formats: readonly PlateFormat[] = plateFormats): Country[] {
  const out: Country[] = [];
  for (const f of [...formats].sort((a, b) => Number(b.specific) - Number(a.specific))) {
    if (!fitsFormat(plate, compileFormat(f))) continue;
    for (const c of f.countries) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * The formats a gate that reads `countries` tries, each naming only those
 * countries. Formats with the same pattern and prior are merged into one
 * (FR, IT and SK are all AB123CD): one decode instead of three, in the
 * place of the first.
 */
export function formatsFor(
  countries: readonly Country[],
  formats: readonly PlateFormat[] = plateFormats,
): PlateFormat[] {
  const merged = new Map<string, PlateFormat[]>();
  for (const f of formats) {
    const mine = f.countries.filter((c) => countries.includes(c));
    if (mine.length === 0) continue;
    const key = `${f.pattern} ${f.specific} ${f.extraPenalty ?? 0}`;
    merged.set(key, [...(merged.get(key) ?? []), { ...f, countries: mine }]);
  }
  return [...merged.values()].map((group) => (group.length === 1 ? group[0]! : mergeFormats(group)));
}

function mergeFormats(group: readonly PlateFormat[]): PlateFormat {
  const countries = [...new Set(group.flatMap((f) => f.countries))];
  // "AT generic", "DE generic" -> "AT/DE generic"; otherwise the names side by side ("FR/IT/AR Mercosur")
  const rests = new Set(group.map((f) => f.name.split(' ').slice(1).join(' ')));
  const [rest] = rests;
  const name =
    rests.size === 1 && rest && group.every((f) => f.name.split(' ')[0] === f.countries[0])
      ? `${countries.join('/')} ${rest}`
      : [...new Set(group.map((f) => f.name))].join('/');
  const mercosur = group.some((f) => f.mercosur);
  return { ...group[0]!, countries, name, ...(mercosur ? { mercosur } : {}) };
}
