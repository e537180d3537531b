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

export type PlateStyle = 'cn-blue' | 'cn-green' | 'us' | 'eu';

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
  us: { width: 305, height: 152 },
  eu: { width: 520, height: 110 },
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

/** A row of characters of one height whose ink tops sit on `top`. */
function glyphRow(slots: GlyphSlot[], top: number, inkHeight: number, colour: string): string {
  return slots.map((slot) => glyph(slot, top, inkHeight, colour)).join('');
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
  /** between the second and third character, where the dot is */
  dotGap: number;
  colour: string;
}

/**
 * Chinese plate characters (GA 36): 90 mm tall, the first two, a wider gap
 * holding the separator dot, then the rest, all at an even pitch.
 */
function chineseCharacters(text: string, layout: ChineseLayout): string {
  const { plateWidth, charWidth, charGap, dotGap, colour } = layout;
  const chars = [...text.replace(/[\s·.•-]/g, '')];
  const total = chars.length * charWidth + (chars.length - 2) * charGap + dotGap;
  const left = (plateWidth - total) / 2;
  const slots: GlyphSlot[] = chars.map((char, i) => {
    const afterDot = i >= 2 ? dotGap - charGap : 0;
    return { char, centreX: left + i * (charWidth + charGap) + afterDot + charWidth / 2, boxWidth: charWidth };
  });
  const dotX = left + 2 * charWidth + charGap + dotGap / 2;
  return glyphRow(slots, 25, 90, colour) + `<circle cx="${num(dotX)}" cy="70" r="5" fill="${colour}"/>`;
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

/** Width of a character position on US/EU plates, relative to a full character's pitch. */
function pitchShare(char: string): number {
  if (char === ' ') return 0.55;
  if (char === '-' || char === '·') return 0.6;
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
    .map((slot) => (slot.char === '-' ? dash(slot, top, inkHeight, colour) : glyph(slot, top, inkHeight, colour)))
    .join('');
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
function euPlate(text: string, country: string): string {
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
    latinRow(text, { left: 52, right: 512, pitch: 57, charWidth: 44, top: 17.5, inkHeight: 75, colour: '#111111' })
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
