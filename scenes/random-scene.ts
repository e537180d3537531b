/**
 * Random scene specs, seeded and reproducible: a plate of a style with a
 * plausible number (Chinese provinces and police series, US state series,
 * Slovak districts, Brazilian and Argentine old and Mercosur series, British,
 * French, German and Spanish series), its place, size, tilt and lighting in a 1280x720
 * frame, and text around it that is not the plate (dealer frames, badges,
 * stickers). `renderScene` (scene-renderer.ts) draws a spec.
 */
import type { PlateSpec, PlateStyle } from './plate-renderer.js';
import { plateSizeMm } from './plate-renderer.js';
import { SeededRandom } from './seeded-random.js';
import type { SceneSpec } from './scene-renderer.js';

// ---------------------------------------------------------------------------
// Random scene specs. The plate syntaxes are written out here rather than
// taken from edge/vision/plate-syntax, so scenes do not inherit the reader's
// assumptions about what a plate may say.

/** Province characters that begin a Chinese civilian plate. */
export const CN_PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';

const DIGITS = '0123456789';

/** Chinese plates never use I or O. */
const CN_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Provinces of the cities with foreign consulates (Shanghai, Guangzhou, Chengdu, Shenyang, Wuhan, Kunming, Nanning, Xiamen). */
const CONSULATE_PROVINCES = '沪粤川辽鄂云桂闽';

/** Most US states never issue I, O or Q. */
const US_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

const LATIN_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** British series letters: never I or Q; Z only among the three random letters at the end. */
const UK_LETTERS = 'ABCDEFGHJKLMNOPRSTUVWXY';

/** French series skip I, O and U (and the SS, WW pairs, which this generator does not draw). */
const FR_LETTERS = 'ABCDEFGHJKLMNPQRSTVWXYZ';

/** Spanish series use consonants only, without Ñ and Q. */
const ES_LETTERS = 'BCDFGHJKLMNPRSTVWXYZ';

/** German district codes (Unterscheidungszeichen) of one to three letters. */
const DE_DISTRICTS = ['B', 'M', 'K', 'F', 'S', 'HH', 'HB', 'DD', 'KA', 'MZ', 'WI', 'OF', 'BAR', 'LDS', 'MYK'];

/** Brazilian state and city strips of the old grey plates. */
const BR_CITIES = ['SP - SAO PAULO', 'RJ - RIO DE JANEIRO', 'MG - BELO HORIZONTE', 'PR - CURITIBA', 'SP - CAMPINAS'];

/** Slovak district codes (the first two letters of a Slovak plate). */
const SK_DISTRICTS = [
  'BA',
  'BB',
  'BJ',
  'BL',
  'BN',
  'BR',
  'BS',
  'BY',
  'CA',
  'DK',
  'DS',
  'DT',
  'GA',
  'GL',
  'HC',
  'HE',
  'IL',
  'KA',
  'KE',
  'KK',
  'KM',
  'KN',
  'KS',
  'LC',
  'LE',
  'LM',
  'LV',
  'MA',
  'MI',
  'ML',
  'MT',
  'MY',
  'NM',
  'NO',
  'NR',
  'NZ',
  'PB',
  'PD',
  'PE',
  'PK',
  'PN',
  'PO',
  'PP',
  'PT',
  'PU',
  'RA',
  'RK',
  'RS',
  'RV',
  'SA',
  'SB',
  'SC',
  'SE',
  'SI',
  'SK',
  'SL',
  'SN',
  'SO',
  'SP',
  'SV',
  'TN',
  'TO',
  'TR',
  'TS',
  'TT',
  'TV',
  'VK',
  'VT',
  'ZA',
  'ZC',
  'ZH',
  'ZM',
  'ZV',
];

/** US states drawn by the generator, with their plate slogan and how the characters are grouped. */
const US_STATES: ReadonlyArray<{
  state: string;
  slogan: string;
  layout: 'digit-first' | 'letters-dash' | 'letters-space';
}> = [
  { state: 'CALIFORNIA', slogan: 'DMV.CA.GOV', layout: 'digit-first' },
  { state: 'TEXAS', slogan: 'THE LONE STAR STATE', layout: 'letters-dash' },
  { state: 'NEW YORK', slogan: 'EXCELSIOR', layout: 'letters-dash' },
  { state: 'ARIZONA', slogan: 'GRAND CANYON STATE', layout: 'letters-space' },
];

const DISTRACTOR_TEXTS = [
  'PARKING P2',
  'EXIT',
  'AUTO CENTRUM',
  'MAX 3.5 t',
  'TEL 0905 123 456',
  'OPEN 24H',
  'NO PARKING',
  'SERVICE',
  'LEVEL -1',
  'CAR WASH',
  'SPEED 10',
  'ZONE B7',
];

const FRAME_WIDTH = 1280;

const FRAME_HEIGHT = 720;

/**
 * Deterministic pseudo-random scene for a style, from an integer seed: text
 * that fits the style's real syntax, size, position, tilt and lighting.
 * 'easy' keeps the plate frontal, large and clean; 'varied' (default) spans
 * plates 110..260 px wide, tilts of -10..10 degrees, dim to bright light,
 * blur, noise and distractor signs.
 */
export function randomSceneSpec(style: PlateStyle, seed: number, difficulty: 'easy' | 'varied' = 'varied'): SceneSpec {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const random = new SeededRandom(seed);
  const plate = randomPlate(style, random);
  const easy = difficulty === 'easy';
  const plateWidth = easy ? random.int(200, 260) : random.int(110, 260);
  const plateHeight = (plateWidth * plateSizeMm[style].height) / plateSizeMm[style].width;
  // room for the plate at any tilt, plus a little
  const margin = Math.ceil(Math.hypot(plateWidth, plateHeight) / 2) + 10;
  const centre = easy
    ? { x: random.int(440, FRAME_WIDTH - 440), y: random.int(360, 500) }
    : { x: random.int(margin, FRAME_WIDTH - margin), y: random.int(260, FRAME_HEIGHT - margin) };
  const spec: SceneSpec = { plate, width: FRAME_WIDTH, height: FRAME_HEIGHT, plateWidth, centre, seed };
  if (easy) {
    spec.brightness = round2(random.between(0.92, 1.08));
    return spec;
  }
  spec.rotationDeg = round2(random.between(-10, 10));
  spec.brightness = round2(random.between(0.55, 1.25));
  spec.contrast = round2(random.between(0.55, 1));
  spec.blurSigma = random.chance(0.4) ? round2(random.between(0.4, 1.2)) : 0;
  spec.noise = random.int(0, 12);
  const distractorCount = random.int(0, 2);
  spec.distractors = [];
  for (let i = 0; i < distractorCount; i++) spec.distractors.push(random.pick(DISTRACTOR_TEXTS));
  return spec;
}

/** A plausible plate of `style`: its text, and for US and EU plates the state or country drawn. */
export function randomPlate(style: PlateStyle, random: SeededRandom): PlateSpec {
  switch (style) {
    case 'cn-blue': {
      // five characters, at most two of them letters
      const letterCount = random.pick([0, 0, 0, 1, 1, 2]);
      const letterPositions = new Set<number>();
      while (letterPositions.size < letterCount) letterPositions.add(random.int(0, 4));
      let tail = '';
      for (let i = 0; i < 5; i++) tail += random.pick(letterPositions.has(i) ? CN_LETTERS : DIGITS);
      return { style, text: random.pick(CN_PROVINCES) + random.pick(CN_LETTERS) + tail };
    }
    case 'cn-green': {
      const province = random.pick(CN_PROVINCES);
      const issuer = random.pick(CN_LETTERS);
      const energyMarker = random.pick('DF'); // D electric, F other new energy
      let serial = random.pick(DIGITS + CN_LETTERS);
      for (let i = 0; i < 4; i++) serial += random.pick(DIGITS);
      return { style, text: province + issuer + energyMarker + serial };
    }
    case 'cn-police': {
      let serial = '';
      for (let i = 0; i < 4; i++) serial += random.pick(DIGITS);
      return { style, text: random.pick(CN_PROVINCES) + random.pick(CN_LETTERS) + serial + '警' };
    }
    case 'cn-coach': {
      // driving-school cars: province, office letter, four digits (a letter now and then), 学
      return { style, text: random.pick(CN_PROVINCES) + random.pick(CN_LETTERS) + cnSerial(random, 4) + '学' };
    }
    case 'cn-consulate': {
      // the cities with consulates, office A, four digits, 领
      return { style, text: random.pick(CONSULATE_PROVINCES) + 'A' + digits(random, 4) + '领' };
    }
    case 'cn-embassy': {
      // 使, the embassy's number (101-299 for the first embassies), the car's serial
      return { style, text: '使' + String(random.int(101, 299)) + digits(random, 3) };
    }
    case 'cn-hk':
    case 'cn-macau': {
      // Guangdong's Z office: four characters, then 港 or 澳
      return { style, text: '粤Z' + cnSerial(random, 4) + (style === 'cn-hk' ? '港' : '澳') };
    }
    case 'cn-emergency': {
      // fire and rescue: province, team code letter, four digits, 应急
      return { style, text: random.pick(CN_PROVINCES) + random.pick(CN_LETTERS) + digits(random, 4) + '应急' };
    }
    case 'cn-yellow-two-row': {
      // lorries and buses: province, office letter, five characters (a letter now and then)
      return { style, text: random.pick(CN_PROVINCES) + random.pick(CN_LETTERS) + cnSerial(random, 5) };
    }
    case 'cn-trailer-two-row': {
      return { style, text: random.pick(CN_PROVINCES) + random.pick(CN_LETTERS) + cnSerial(random, 4) + '挂' };
    }
    case 'br-old': {
      // LLL-NNNN, every letter issued
      return { style, text: `${letters(random, LATIN_LETTERS, 3)}-${digits(random, 4)}`, city: random.pick(BR_CITIES) };
    }
    case 'br-mercosur': {
      // LLL NLNN: the old number with its second digit turned into a letter
      const text =
        letters(random, LATIN_LETTERS, 3) + digits(random, 1) + letters(random, LATIN_LETTERS, 1) + digits(random, 2);
      return { style, text };
    }
    case 'ar-old':
      return { style, text: `${letters(random, LATIN_LETTERS, 3)} ${digits(random, 3)}` };
    case 'ar-mercosur': {
      // issued from AA 000 AA on: the first letter is still early in the alphabet
      const text = `${random.pick('AB')}${random.pick(LATIN_LETTERS)} ${digits(random, 3)} ${letters(random, LATIN_LETTERS, 2)}`;
      return { style, text };
    }
    case 'uk': {
      // area code, age identifier (March: the year, September: the year + 50), three random letters
      const year = random.int(2, 25);
      const age = String(random.chance(0.5) ? year : year + 50).padStart(2, '0');
      const text = `${letters(random, UK_LETTERS, 2)}${age} ${letters(random, UK_LETTERS + 'Z', 3)}`;
      const band = random.chance(0.4) ? random.pick(['UK', 'GB']) : undefined;
      return { style, text, rear: random.chance(0.6), ...(band ? { band } : {}) };
    }
    case 'fr': {
      const text = `${letters(random, FR_LETTERS, 2)}-${digits(random, 3)}-${letters(random, FR_LETTERS, 2)}`;
      const department = String(random.int(1, 95)).padStart(2, '0');
      return { style, text, department };
    }
    case 'de': {
      // district, one or two letters, one to four digits: four to eight characters (the reader's
      // generic rule; three-character plates such as "F M 2" exist but are not drawn)
      const district = random.pick(DE_DISTRICTS);
      const letterCount = random.int(1, 2);
      const minDigits = Math.max(1, 4 - district.length - letterCount);
      const digitCount = random.int(minDigits, Math.min(4, 8 - district.length - letterCount));
      const number = String(random.int(digitCount === 1 ? 1 : 10 ** (digitCount - 1), 10 ** digitCount - 1));
      return { style, text: `${district} ${letters(random, LATIN_LETTERS, letterCount)} ${number}` };
    }
    case 'es':
      return { style, text: `${digits(random, 4)} ${letters(random, ES_LETTERS, 3)}` };
    case 'us': {
      const { state, slogan, layout } = random.pick(US_STATES);
      const letters = (n: number) => Array.from({ length: n }, () => random.pick(US_LETTERS)).join('');
      const digits = (n: number) => Array.from({ length: n }, () => random.pick(DIGITS)).join('');
      const text =
        layout === 'digit-first'
          ? String(random.int(1, 9)) + letters(3) + digits(3)
          : letters(3) + (layout === 'letters-dash' ? '-' : ' ') + digits(4);
      return { style, text, state, slogan };
    }
    case 'eu': {
      const digits = String(random.int(0, 999)).padStart(3, '0');
      const text = `${random.pick(SK_DISTRICTS)} ${digits}${random.pick(LATIN_LETTERS)}${random.pick(LATIN_LETTERS)}`;
      return { style, text, country: 'SK' };
    }
  }
}

/** `n` Chinese serial characters: digits, with one letter one time in four. */
function cnSerial(random: SeededRandom, n: number): string {
  const letterAt = random.chance(0.25) ? random.int(0, n - 1) : -1;
  return Array.from({ length: n }, (_, i) => random.pick(i === letterAt ? CN_LETTERS : DIGITS)).join('');
}

function letters(random: SeededRandom, alphabet: string, n: number): string {
  return Array.from({ length: n }, () => random.pick(alphabet)).join('');
}

function digits(random: SeededRandom, n: number): string {
  return Array.from({ length: n }, () => random.pick(DIGITS)).join('');
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
