/**
 * Synthetic licence plates: draws a flat, upright plate of a given style as
 * an SVG laid out in the real plate's millimetres, and renders it to PNG
 * through sharp (librsvg + fontconfig, so the system fonts "DejaVu Sans
 * Condensed" and "Noto Sans CJK SC" are used by name).
 *
 * Layouts follow the real plates closely enough for an OCR model: Chinese
 * plates (GA 36) with their 45 x 90 mm characters, the separator dot and
 * the new-energy green gradient; a US 12 x 6 inch plate with the state at
 * the top and a slogan at the bottom; an EU 520 x 110 mm plate with the
 * blue band, ring of stars and country code. Output is deterministic: the
 * same spec and width give the same bytes.
 */
import sharp from 'sharp';

export type PlateStyle =
  | 'cn-blue'
  | 'cn-green'
  | 'cn-police'
  | 'cn-coach'
  | 'cn-consulate'
  | 'cn-embassy'
  | 'cn-hk'
  | 'cn-macau'
  | 'cn-emergency'
  | 'cn-yellow-two-row'
  | 'cn-trailer-two-row'
  | 'us'
  | 'eu'
  | 'br-old'
  | 'br-mercosur'
  | 'ar-old'
  | 'ar-mercosur'
  | 'uk'
  | 'fr'
  | 'de'
  | 'es';

/** Every plate style, in the order `platepay scene` lists them. */
export const plateStyles: readonly PlateStyle[] = [
  'cn-blue',
  'cn-green',
  'cn-police',
  'cn-coach',
  'cn-consulate',
  'cn-embassy',
  'cn-hk',
  'cn-macau',
  'cn-emergency',
  'cn-yellow-two-row',
  'cn-trailer-two-row',
  'us',
  'eu',
  'br-old',
  'br-mercosur',
  'ar-old',
  'ar-mercosur',
  'uk',
  'fr',
  'de',
  'es',
];

const twoRowStyles: ReadonlySet<PlateStyle> = new Set<PlateStyle>(['cn-yellow-two-row', 'cn-trailer-two-row']);

/** True for the styles drawn on two rows (the reader reads each row, then joins them). */
export function isTwoRowStyle(style: PlateStyle): boolean {
  return twoRowStyles.has(style);
}

export interface PlateSpec {
  /** the characters drawn; Chinese plates get their separator dot added after the second character */
  text: string;
  style: PlateStyle;
  /** eu only: country code shown in the blue band, default 'SK' */
  country?: string;
  /** us only: state name printed at the top, default 'CALIFORNIA' */
  state?: string;
  /** us only: slogan at the bottom, default 'DMV.CA.GOV' */
  slogan?: string;
  /** br-old only: state and city on the top strip, default 'SP - SAO PAULO' */
  city?: string;
  /** uk only: the rear plate is yellow, the front one white (default rear) */
  rear?: boolean;
  /** uk only: the optional national band on the left, e.g. 'UK' (default none) */
  band?: string;
  /** fr only: department number in the right-hand band, default '75' */
  department?: string;
}

export interface RenderedPlate {
  png: Buffer;
  width: number;
  height: number;
}

/** Real plate sizes in millimetres (the US plate is 12 x 6 inches). */
export const plateSizeMm: Record<PlateStyle, { width: number; height: number }> = {
  'cn-blue': { width: 440, height: 140 },
  'cn-green': { width: 480, height: 140 },
  'cn-police': { width: 440, height: 140 },
  'cn-coach': { width: 440, height: 140 },
  'cn-consulate': { width: 440, height: 140 },
  'cn-embassy': { width: 440, height: 140 },
  'cn-hk': { width: 440, height: 140 },
  'cn-macau': { width: 440, height: 140 },
  'cn-emergency': { width: 480, height: 140 },
  'cn-yellow-two-row': { width: 440, height: 220 },
  'cn-trailer-two-row': { width: 440, height: 220 },
  us: { width: 305, height: 152 },
  eu: { width: 520, height: 110 },
  'br-old': { width: 400, height: 130 },
  'br-mercosur': { width: 400, height: 130 },
  'ar-old': { width: 294, height: 129 },
  'ar-mercosur': { width: 400, height: 130 },
  uk: { width: 520, height: 111 },
  fr: { width: 520, height: 110 },
  de: { width: 520, height: 110 },
  es: { width: 520, height: 110 },
};

const LATIN_FONT = 'DejaVu Sans Condensed';
const CJK_FONT = 'Noto Sans CJK SC';

/** DejaVu Sans Condensed Bold: capital height and typical ink width of a digit, in em. */
const LATIN_CAP_HEIGHT_EM = 0.73;
const LATIN_INK_WIDTH_EM = 0.52;
/** Glyphs much wider than a digit (ink width in em); they are squeezed harder to stay in their box. */
const WIDE_GLYPH_EM: Record<string, number> = {
  A: 0.68,
  D: 0.62,
  G: 0.62,
  K: 0.64,
  M: 0.73,
  Q: 0.67,
  V: 0.68,
  W: 0.93,
  X: 0.65,
  Y: 0.67,
};
/** Glyphs that reach below the baseline (descent in em); plate fonts keep them on it, so they are squeezed vertically. */
const DESCENDING_GLYPH_EM: Record<string, number> = { J: 0.19, Q: 0.14 };
/** Noto Sans CJK SC Bold, province characters: ink top above the baseline, ink height and width, in em. */
const CJK_INK_TOP_EM = 0.85;
const CJK_INK_HEIGHT_EM = 0.93;
const CJK_INK_WIDTH_EM = 0.93;

/** PNG of a flat, upright plate of the given width in pixels (height follows the real aspect ratio). */
export async function renderPlate(spec: PlateSpec, widthPx: number): Promise<RenderedPlate> {
  if (!Number.isInteger(widthPx) || widthPx < 8)
    throw new RangeError(`plate width must be an integer >= 8 px, got ${widthPx}`);
  const size = plateSizeMm[spec.style];
  const width = widthPx;
  const height = Math.max(4, Math.round((widthPx * size.height) / size.width));
  const svg = plateSvg(spec, width, height);
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return { png, width, height };
}

/** The plate as an SVG document of width x height pixels (drawn in millimetres through the viewBox). */
export function plateSvg(spec: PlateSpec, width: number, height: number): string {
  const size = plateSizeMm[spec.style];
  let body: string;
  switch (spec.style) {
    case 'cn-blue':
      body = chineseBluePlate(spec.text);
      break;
    case 'cn-green':
      body = chineseGreenPlate(spec.text);
      break;
    case 'cn-police':
      body = chinesePolicePlate(spec.text);
      break;
    case 'cn-coach':
      body = chineseSeriesPlate(spec.text, { ...FOUR_LAYOUT, background: '#f2c200', colour: '#111111' });
      break;
    case 'cn-consulate':
    case 'cn-embassy': {
      const dotAfter = spec.style === 'cn-embassy' ? 4 : 2;
      body = chineseSeriesPlate(
        spec.text,
        { ...FOUR_LAYOUT, dotAfter, background: '#111111', colour: '#f5f5f5' },
        '#d0141c',
      );
      break;
    }
    case 'cn-hk':
    case 'cn-macau':
      body = chineseSeriesPlate(spec.text, { ...FOUR_LAYOUT, background: '#111111', colour: '#f5f5f5' });
      break;
    case 'cn-emergency':
      body = chineseSeriesPlate(
        spec.text,
        { plateWidth: 480, charWidth: 43, charGap: 9, dotGap: 49, background: '#f7f7f5', colour: '#111111' },
        '#d0141c',
      );
      break;
    case 'cn-yellow-two-row':
    case 'cn-trailer-two-row':
      body = chineseTwoRowPlate(spec.text);
      break;
    case 'br-old':
      body = brazilOldPlate(spec.text, spec.city ?? 'SP - SAO PAULO');
      break;
    case 'br-mercosur':
      body = mercosurPlate(spec.text, 'BRASIL');
      break;
    case 'ar-old':
      body = argentinaOldPlate(spec.text);
      break;
    case 'ar-mercosur':
      body = mercosurPlate(spec.text, 'REPUBLICA ARGENTINA');
      break;
    case 'uk':
      body = ukPlate(spec.text, spec.rear ?? true, spec.band);
      break;
    case 'fr':
      body = euPlate(spec.text, 'F', spec.department ?? '75');
      break;
    case 'de':
      body = euPlate(spec.text, 'D', undefined, true);
      break;
    case 'es':
      body = euPlate(spec.text, 'E');
      break;
    case 'us':
      body = usPlate(spec.text, spec.state ?? 'CALIFORNIA', spec.slogan ?? 'DMV.CA.GOV');
      break;
    case 'eu':
      body = euPlate(spec.text, spec.country ?? 'SK');
      break;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${size.width} ${size.height}" preserveAspectRatio="none">${body}</svg>`
  );
}

/** One character to draw, centred in a box. Units are the plate's millimetres. */
interface GlyphSlot {
  char: string;
  centreX: number;
  boxWidth: number;
}

function glyph(slot: GlyphSlot, top: number, inkHeight: number, colour: string): string {
  const char = escapeXml(slot.char);
  if (isCjk(slot.char)) {
    const fontSize = inkHeight / CJK_INK_HEIGHT_EM;
    const scaleX = Math.min(1, slot.boxWidth / (CJK_INK_WIDTH_EM * fontSize));
    const baseline = top + CJK_INK_TOP_EM * fontSize;
    return (
      `<text transform="translate(${num(slot.centreX)} ${num(baseline)}) scale(${num(scaleX)} 1)" text-anchor="middle" ` +
      `font-family="${CJK_FONT}" font-weight="bold" font-size="${num(fontSize)}" fill="${colour}">${char}</text>`
    );
  }
  const fontSize = inkHeight / LATIN_CAP_HEIGHT_EM;
  const inkWidthEm = Math.max(LATIN_INK_WIDTH_EM, WIDE_GLYPH_EM[slot.char] ?? 0);
  const scaleX = Math.min(1, slot.boxWidth / (inkWidthEm * fontSize));
  const descentEm = DESCENDING_GLYPH_EM[slot.char] ?? 0;
  const scaleY = LATIN_CAP_HEIGHT_EM / (LATIN_CAP_HEIGHT_EM + descentEm);
  const baseline = top + inkHeight * scaleY;
  return (
    `<text transform="translate(${num(slot.centreX)} ${num(baseline)}) scale(${num(scaleX)} ${num(scaleY)})" ` +
    `text-anchor="middle" font-family="${LATIN_FONT}" font-weight="bold" font-size="${num(fontSize)}" ` +
    `fill="${colour}">${char}</text>`
  );
}

/** Where a Chinese plate's characters go, in millimetres. */
interface ChineseLayout {
  plateWidth: number;
  charWidth: number;
  /** between neighbouring characters */
  charGap: number;
  /** between the second and third character (or those after `dotAfter`), where the dot is */
  dotGap: number;
  /** how many characters come before the dot (default 2; an embassy's 使 and number: 4) */
  dotAfter?: number;
  colour: string;
  /** colour of the special-series characters (the red 警 of a police plate, the red 使 of an embassy's), default `colour` */
  seriesColour?: string;
}

/** The characters that name a Chinese special series (drawn in `seriesColour`). */
const SERIES_CHARACTERS = '警学挂使领港澳应急';

/** The layout of the seven-character plates (blue, police, coach, consulate, embassy, Hong Kong and Macau). */
const FOUR_LAYOUT = { plateWidth: 440, charWidth: 45, charGap: 12, dotGap: 34 };

/**
 * Chinese plate characters (GA 36): 90 mm tall, the first two, a wider gap
 * holding the separator dot, then the rest, all at an even pitch.
 */
function chineseCharacters(text: string, layout: ChineseLayout): string {
  const { plateWidth, charWidth, charGap, dotGap, colour } = layout;
  const dotAfter = layout.dotAfter ?? 2;
  const chars = [...text.replace(/[\s·.•-]/g, '')];
  const total = chars.length * charWidth + (chars.length - 2) * charGap + dotGap;
  const left = (plateWidth - total) / 2;
  const slots: GlyphSlot[] = chars.map((char, i) => {
    const afterDot = i >= dotAfter ? dotGap - charGap : 0;
    return { char, centreX: left + i * (charWidth + charGap) + afterDot + charWidth / 2, boxWidth: charWidth };
  });
  const dotX = left + dotAfter * charWidth + (dotAfter - 1) * charGap + dotGap / 2;
  const seriesColour = layout.seriesColour ?? colour;
  const glyphs = slots
    .map((slot) => glyph(slot, 25, 90, SERIES_CHARACTERS.includes(slot.char) ? seriesColour : colour))
    .join('');
  return glyphs + `<circle cx="${num(dotX)}" cy="70" r="5" fill="${colour}"/>`;
}

function chineseBluePlate(text: string): string {
  return (
    `<defs><linearGradient id="sheen" x1="0" y1="0" x2="0" y2="1">` +
    `<stop offset="0" stop-color="#1a52c4"/><stop offset="1" stop-color="#0a3a9e"/></linearGradient></defs>` +
    `<rect width="440" height="140" rx="8" fill="url(#sheen)"/>` +
    `<rect x="5" y="5" width="430" height="130" rx="6" fill="none" stroke="#ffffff" stroke-width="2.5"/>` +
    chineseCharacters(text, { plateWidth: 440, charWidth: 45, charGap: 12, dotGap: 34, colour: '#ffffff' })
  );
}

function chineseGreenPlate(text: string): string {
  return (
    `<defs><linearGradient id="energy" x1="0" y1="0" x2="0" y2="1">` +
    `<stop offset="0" stop-color="#f1fbf3"/><stop offset="1" stop-color="#52c473"/></linearGradient></defs>` +
    `<rect width="480" height="140" rx="8" fill="url(#energy)"/>` +
    `<rect x="4" y="4" width="472" height="132" rx="6" fill="none" stroke="#2f6f44" stroke-width="2"/>` +
    chineseCharacters(text, { plateWidth: 480, charWidth: 43, charGap: 9, dotGap: 49, colour: '#101010' })
  );
}

/** Chinese police plate: white, black characters, the closing 警 in red, a black border. */
function chinesePolicePlate(text: string): string {
  return (
    `<rect width="440" height="140" rx="8" fill="#f7f7f5"/>` +
    `<rect x="5" y="5" width="430" height="130" rx="6" fill="none" stroke="#111111" stroke-width="2.5"/>` +
    chineseCharacters(text, {
      plateWidth: 440,
      charWidth: 45,
      charGap: 12,
      dotGap: 34,
      colour: '#111111',
      seriesColour: '#d0141c',
    })
  );
}

/**
 * A Chinese special-series plate on a plain background with a border in the
 * characters' colour: coach 学 (yellow, black), consulate 领 and embassy 使
 * (black, white, the series character red), Hong Kong 港 and Macau 澳
 * cross-boundary (black, white), emergency 应急 (white, black, 应急 red).
 */
function chineseSeriesPlate(
  text: string,
  layout: Omit<ChineseLayout, 'seriesColour'> & { background: string },
  seriesColour?: string,
): string {
  const { plateWidth, background, colour } = layout;
  return (
    `<rect width="${plateWidth}" height="140" rx="8" fill="${background}"/>` +
    `<rect x="5" y="5" width="${plateWidth - 10}" height="130" rx="6" fill="none" stroke="${colour}" stroke-width="2.5"/>` +
    chineseCharacters(text, { ...layout, ...(seriesColour ? { seriesColour } : {}) })
  );
}

/**
 * Chinese two-row rear plate (GA 36, 440 x 220 mm; lorries, buses and,
 * with 挂 last, trailers): yellow, black characters; the province and
 * issuing-office letter small in the top row on either side of a dot, the
 * other five characters large in the bottom row.
 */
function chineseTwoRowPlate(text: string): string {
  const chars = [...text.replace(/[\s·.•-]/g, '')];
  const colour = '#111111';
  const top = chars
    .slice(0, 2)
    .map((char, i) => glyph({ char, centreX: 220 + (i === 0 ? -50 : 50), boxWidth: 80 }, 15, 60, colour));
  const pitch = 79;
  const bottom = chars
    .slice(2)
    .map((char, i) =>
      glyph({ char, centreX: 220 + (i - (chars.length - 3) / 2) * pitch, boxWidth: 65 }, 95, 110, colour),
    );
  return (
    `<rect width="440" height="220" rx="10" fill="#f2c200"/>` +
    `<rect x="5" y="5" width="430" height="210" rx="8" fill="none" stroke="${colour}" stroke-width="2.5"/>` +
    top.join('') +
    `<circle cx="220" cy="45" r="5" fill="${colour}"/>` +
    bottom.join('')
  );
}

/** Stands, in a row's text, for the German registration and inspection seals (drawn, never read). */
const SEALS = '\uE000';

/** Width of a character position on US/EU plates, relative to a full character's pitch. */
function pitchShare(char: string): number {
  if (char === ' ') return 0.55;
  if (char === '-' || char === '·') return 0.6;
  if (char === SEALS) return 0.8;
  return 1;
}

/** Where a row of Latin plate characters goes, in the plate's millimetres. */
interface LatinLayout {
  /** the row is centred between these */
  left: number;
  right: number;
  /** distance between character centres (shrunk when the text would not fit) */
  pitch: number;
  charWidth: number;
  /** top of the characters' ink and its height */
  top: number;
  inkHeight: number;
  colour: string;
}

/** Evenly pitched characters centred in the layout's span; spaces and dashes take a narrower position. */
function latinRow(text: string, layout: LatinLayout): string {
  const { left, right, pitch, charWidth, top, inkHeight, colour } = layout;
  const chars = [...text];
  const shares = chars.map(pitchShare);
  const totalShare = shares.reduce((sum, share) => sum + share, 0);
  const available = right - left;
  const scale = totalShare * pitch > available ? available / (totalShare * pitch) : 1;
  const step = pitch * scale;
  let x = left + (available - totalShare * step) / 2;
  const slots: GlyphSlot[] = [];
  chars.forEach((char, i) => {
    const share = shares[i]!;
    if (char !== ' ') slots.push({ char, centreX: x + (share * step) / 2, boxWidth: charWidth * scale });
    x += share * step;
  });
  return slots
    .map((slot) =>
      slot.char === '-'
        ? dash(slot, top, inkHeight, colour)
        : slot.char === SEALS
          ? seals(slot, top, inkHeight)
          : glyph(slot, top, inkHeight, colour),
    )
    .join('');
}

/** The two round German seals stacked between district and letters: inspection (top) and registration. */
function seals(slot: GlyphSlot, top: number, inkHeight: number): string {
  const r = Math.min(slot.boxWidth * 0.42, inkHeight * 0.2);
  const x = num(slot.centreX);
  return (
    `<circle cx="${x}" cy="${num(top + inkHeight * 0.27)}" r="${num(r)}" fill="#2a8fd6" stroke="#555" stroke-width="0.8"/>` +
    `<circle cx="${x}" cy="${num(top + inkHeight * 0.73)}" r="${num(r)}" fill="#c9c9c9" stroke="#555" stroke-width="0.8"/>`
  );
}

/** A dash drawn as a bar (the font's hyphen is too thin to survive a plate's scale). */
function dash(slot: GlyphSlot, top: number, inkHeight: number, colour: string): string {
  const barWidth = slot.boxWidth * 0.55;
  const barHeight = inkHeight * 0.11;
  return (
    `<rect x="${num(slot.centreX - barWidth / 2)}" y="${num(top + inkHeight / 2 - barHeight / 2)}" ` +
    `width="${num(barWidth)}" height="${num(barHeight)}" fill="${colour}"/>`
  );
}

/** US plate, 12 x 6 inches drawn as 305 x 152 mm: state on top, characters ~45 % of the height, slogan below. */
function usPlate(text: string, state: string, slogan: string): string {
  const bolt = (x: number, y: number) =>
    `<ellipse cx="${x}" cy="${y}" rx="6" ry="4" fill="#9aa0a8" stroke="#6b7079" stroke-width="1"/>`;
  return (
    `<defs><linearGradient id="paper" x1="0" y1="0" x2="0" y2="1">` +
    `<stop offset="0" stop-color="#fdfdfb"/><stop offset="0.75" stop-color="#f3f4f6"/><stop offset="1" stop-color="#dde6f2"/>` +
    `</linearGradient></defs>` +
    `<rect width="305" height="152" rx="10" fill="url(#paper)"/>` +
    `<rect x="2.5" y="2.5" width="300" height="147" rx="8" fill="none" stroke="#4a4f57" stroke-width="2"/>` +
    `<rect x="6" y="128" width="293" height="3" fill="#b9c9e4"/>` +
    bolt(40, 16) +
    bolt(265, 16) +
    bolt(40, 137) +
    bolt(265, 137) +
    `<text x="152.5" y="33" text-anchor="middle" font-family="DejaVu Serif" font-weight="bold" font-style="italic" ` +
    `font-size="25" fill="#c8202e">${escapeXml(state)}</text>` +
    // dark navy ink, as on California plates
    latinRow(text, { left: 14, right: 291, pitch: 39, charWidth: 32, top: 44, inkHeight: 70, colour: '#161d3d' }) +
    `<text x="152.5" y="146" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="12" ` +
    `fill="#16235e">${escapeXml(slogan)}</text>`
  );
}

/** EU plate, 520 x 110 mm: blue band with the ring of stars and the country code, black characters 75 mm tall. */
function euPlate(text: string, country: string, department?: string, germanSeals = false): string {
  const stars: string[] = [];
  for (let i = 0; i < 12; i++) {
    const angle = (i * Math.PI) / 6;
    stars.push(
      `<circle cx="${num(22 + 13 * Math.sin(angle))}" cy="${num(33 - 13 * Math.cos(angle))}" r="2.3" fill="#ffcc00"/>`,
    );
  }
  return (
    `<rect width="520" height="110" rx="6" fill="#ffffff"/>` +
    `<rect x="1.5" y="1.5" width="517" height="107" rx="5" fill="none" stroke="#111111" stroke-width="3"/>` +
    `<path d="M3 8 a5 5 0 0 1 5 -5 H44 V107 H8 a5 5 0 0 1 -5 -5 Z" fill="#003399"/>` +
    stars.join('') +
    `<text x="23.5" y="93" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="24" ` +
    `fill="#ffffff">${escapeXml(country)}</text>` +
    (department === undefined
      ? ''
      : `<path d="M476 3 H512 a5 5 0 0 1 5 5 V102 a5 5 0 0 1 -5 5 H476 Z" fill="#003399"/>` +
        `<text x="496.5" y="93" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="22" ` +
        `fill="#ffffff">${escapeXml(department)}</text>`) +
    latinRow(germanSeals ? text.replace(' ', SEALS) : text, {
      left: 52,
      right: department === undefined ? 512 : 470,
      pitch: 57,
      charWidth: 44,
      top: 17.5,
      inkHeight: 75,
      colour: '#111111',
    })
  );
}

/** Old Brazilian plate (until 2018), 400 x 130 mm: grey, black characters with a dash, state and city on top. */
function brazilOldPlate(text: string, city: string): string {
  return (
    `<rect width="400" height="130" rx="6" fill="#b9bcc0"/>` +
    `<rect x="2" y="2" width="396" height="126" rx="5" fill="none" stroke="#222222" stroke-width="3"/>` +
    `<line x1="4" y1="27" x2="396" y2="27" stroke="#222222" stroke-width="2"/>` +
    `<text x="200" y="21" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="17" ` +
    `fill="#222222">${escapeXml(city)}</text>` +
    latinRow(text, { left: 12, right: 388, pitch: 50, charWidth: 42, top: 38, inkHeight: 75, colour: '#151515' })
  );
}

/** Mercosur plate (Brazil since 2018, Argentina since 2016), 400 x 130 mm: white, a blue band naming the country. */
function mercosurPlate(text: string, country: string): string {
  return (
    `<rect width="400" height="130" rx="6" fill="#fbfbfb"/>` +
    `<path d="M3 9 a6 6 0 0 1 6 -6 H391 a6 6 0 0 1 6 6 V28 H3 Z" fill="#1e3f9a"/>` +
    `<rect x="1.5" y="1.5" width="397" height="127" rx="6" fill="none" stroke="#111111" stroke-width="3"/>` +
    `<text x="200" y="22" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="16" ` +
    `fill="#ffffff">${escapeXml(country)}</text>` +
    `<rect x="362" y="8" width="24" height="16" fill="#ffffff" stroke="#1e3f9a" stroke-width="1"/>` +
    `<circle cx="374" cy="16" r="5" fill="#2f9e44"/>` +
    latinRow(text, { left: 12, right: 388, pitch: 50, charWidth: 42, top: 40, inkHeight: 72, colour: '#111111' })
  );
}

/** Old Argentine plate (1995-2016), 294 x 129 mm: black, white characters, ARGENTINA on top. */
function argentinaOldPlate(text: string): string {
  return (
    `<rect width="294" height="129" rx="8" fill="#141414"/>` +
    `<rect x="3" y="3" width="288" height="123" rx="6" fill="none" stroke="#e8e8e8" stroke-width="2.5"/>` +
    `<text x="147" y="24" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="15" ` +
    `fill="#e8e8e8">ARGENTINA</text>` +
    latinRow(text, { left: 10, right: 284, pitch: 44, charWidth: 36, top: 36, inkHeight: 70, colour: '#f2f2f2' })
  );
}

/** UK plate, 520 x 111 mm: yellow at the rear, white at the front, black characters 79 mm tall, an optional band. */
function ukPlate(text: string, rear: boolean, band: string | undefined): string {
  const bandSvg =
    band === undefined
      ? ''
      : `<path d="M3 8 a5 5 0 0 1 5 -5 H44 V108 H8 a5 5 0 0 1 -5 -5 Z" fill="#00247d"/>` +
        `<text x="23.5" y="94" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="22" ` +
        `fill="#ffffff">${escapeXml(band)}</text>`;
  return (
    `<rect width="520" height="111" rx="6" fill="${rear ? '#f6c800' : '#fcfcfa'}"/>` +
    `<rect x="1.5" y="1.5" width="517" height="108" rx="5" fill="none" stroke="#111111" stroke-width="3"/>` +
    bandSvg +
    latinRow(text, {
      left: band === undefined ? 12 : 52,
      right: 508,
      pitch: 57,
      charWidth: 44,
      top: 16,
      inkHeight: 79,
      colour: '#111111',
    })
  );
}

function isCjk(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code >= 0x3400 && code <= 0x9fff;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A coordinate for SVG, rounded to 1/100 (mm or px), so documents stay short and stable. */
function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}
