/**
 * Plate syntaxes by region: which characters a plate may hold at which
 * position. Pure data and pure functions, no I/O.
 *
 * A format is a sequence of position classes. Formats marked `specific`
 * describe one country's plates exactly (e.g. Slovakia: two letters, three
 * digits, two letters); a read that fits one is trusted more than a read
 * that only fits a region's generic rule, and the constrained decoder uses
 * the position classes to fix what the syntax makes certain (O or 0, I or 1,
 * the province character). Not supported yet: two-row plates (motorcycles,
 * Chinese yellow rear plates, many trailers) and special series (Chinese
 * police 警, embassy 使, coach 学 suffixes; US dealer and temporary tags).
 */

export type Region = 'CN' | 'US' | 'EU' | 'BR';

export const allRegions: readonly Region[] = ['CN', 'US', 'EU', 'BR'];

/**
 * The regions in a list such as ["CN"] or "US,EU" (a gate in one country reads only its plates:
 * fewer formats to mistake a plate for); throws naming the first entry that is not a region.
 */
export function parseRegions(value: unknown): Region[] {
  const items = typeof value === 'string' ? value.split(',').map((x) => x.trim()) : value;
  if (!Array.isArray(items) || items.length === 0)
    throw new RangeError(`expected a list of regions (${allRegions.join(', ')})`);
  const out: Region[] = [];
  for (const item of items) {
    if (typeof item !== 'string' || !allRegions.includes(item as Region)) {
      throw new RangeError(`${JSON.stringify(item)} is not a region (${allRegions.join(', ')})`);
    }
    if (!out.includes(item as Region)) out.push(item as Region);
  }
  return out;
}

/** Chinese province (and municipality) characters that begin a civilian plate. */
export const provinces = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';

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
};

export interface PlateFormat {
  region: Region;
  /** e.g. "CN blue", "SK", "US generic" */
  name: string;
  /** one position class letter per character; a trailing range {m,n} repeats the last class */
  pattern: string;
  /** true when the format describes one plate series exactly */
  specific: boolean;
  /** extra prior penalty (nats) on top of the generic one, for rules that fit too much */
  extraPenalty?: number;
}

/**
 * Prior penalty (nats) of the less common US series against the four most
 * widely issued ones: with sixteen US series, some read of almost any strip
 * fits one of them, so each weighs a little less.
 */
const LESS_COMMON = 0.3;

export const plateFormats: readonly PlateFormat[] = [
  { region: 'CN', name: 'CN blue', pattern: 'PCYYYYY', specific: true },
  { region: 'CN', name: 'CN green small', pattern: 'PCEYNNNN', specific: true },
  { region: 'CN', name: 'CN green large', pattern: 'PCNNNNNE', specific: true },
  { region: 'BR', name: 'BR Mercosur', pattern: 'LLLNLNN', specific: true },
  { region: 'EU', name: 'SK/FR/IT', pattern: 'LLNNNLL', specific: true },
  { region: 'EU', name: 'CZ', pattern: 'NLXNNNN', specific: true },
  { region: 'US', name: 'US 7 (AAA1234)', pattern: 'MMMNNNN', specific: true },
  { region: 'US', name: 'US 7 (1ABC234)', pattern: 'NMMMNNN', specific: true },
  { region: 'US', name: 'US 6 (ABC123)', pattern: 'MMMNNN', specific: true },
  { region: 'US', name: 'US 6 (123ABC)', pattern: 'NNNMMM', specific: true },
  // further current state series (e.g. Missouri AB1C2D, Colorado AB1234, Illinois A123456, California trucks 1A23456)
  { region: 'US', name: 'US 6 (AB1C2D)', pattern: 'MMNMNM', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 6 (AB1234)', pattern: 'MMNNNN', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 6 (1AB234)', pattern: 'NMMNNN', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 6 (ABCD12)', pattern: 'MMMMNN', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 6 (A123BC)', pattern: 'MNNNMM', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 7 (A123456)', pattern: 'MNNNNNN', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 7 (1A23456)', pattern: 'NMNNNNN', specific: true, extraPenalty: LESS_COMMON },
  { region: 'US', name: 'US 7 (12345A1)', pattern: 'NNNNNMN', specific: true, extraPenalty: LESS_COMMON },
  // two letters, five digits: Norway (BS 47040), Denmark, Poland's two-letter districts
  { region: 'EU', name: 'NO/DK/PL', pattern: 'LLNNNNN', specific: true },
  // three letters, four digits: Greece (in the Latin look-alike letters), old Czechoslovak plates;
  // after the US series, so that a US read that fits both (ABC1234) is called US
  { region: 'EU', name: 'GR', pattern: 'LLLNNNN', specific: true },
  { region: 'US', name: 'US generic', pattern: 'U{4,8}', specific: false },
  { region: 'EU', name: 'EU generic', pattern: 'X{4,8}', specific: false, extraPenalty: 1 },
];

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
    if (!set) throw new Error(`format ${format.name}: unknown position class ${c}`);
    return set;
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
 * Returns only A-Z, 0-9 and province characters; anything else makes it
 * return null.
 *
 * Each character that stays must be an ASCII letter or digit, its
 * full-width form, or a province character exactly. Every other character
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
    else if (provinces.includes(c)) kept += c;
    else return null;
  }
  return kept.length === 0 ? null : kept;
}

/** Regions whose formats `plate` fits, specific formats first. */
export function regionsOf(plate: string, formats: readonly PlateFormat[] = plateFormats): Region[] {
  const out: Region[] = [];
  for (const f of [...formats].sort((a, b) => Number(b.specific) - Number(a.specific))) {
    if (fitsFormat(plate, compileFormat(f)) && !out.includes(f.region)) out.push(f.region);
  }
  return out;
}
