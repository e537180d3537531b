/**
 * Text on a car that is not its plate, rendered: the negatives the
 * plate-or-not classifier learns from. Badges and model names (JEEP,
 * PRIUS, 4X4), dealer frames and their web addresses and phone numbers,
 * state names and slogans, inspection and parking stickers, Chinese dealer
 * and taxi signs; drawn in many fonts, weights, sizes and colours on car
 * paint, chrome, sticker and plate-paper backgrounds. Also the top and
 * bottom bands of rendered US plates (state name, slogan), which sit right
 * next to the plate's characters in a real frame.
 *
 * Seeded: the same count and seed give the same images, byte for byte.
 */
import sharp from 'sharp';
import { renderPlate } from '../scenes/plate-renderer.js';
import { randomPlate } from '../scenes/random-scene.js';
import { SeededRandom } from '../scenes/seeded-random.js';

export interface TextSource {
  /** `nonplate/<n>` or `nonplate/us-band/<n>` */
  id: string;
  /** the words drawn (for the validation split and for reading the data) */
  text: string;
  load(): Promise<Buffer>;
}

const BRANDS = [
  'JEEP',
  'TOYOTA',
  'HONDA',
  'FORD',
  'CHEVROLET',
  'NISSAN',
  'SUBARU',
  'MAZDA',
  'LEXUS',
  'AUDI',
  'BMW',
  'KIA',
  'HYUNDAI',
  'VOLVO',
  'DODGE',
  'RAM',
  'GMC',
  'TESLA',
  'BUICK',
  'ACURA',
  'INFINITI',
  'CADILLAC',
  'SKODA',
  'PEUGEOT',
  'RENAULT',
  'CITROEN',
  'OPEL',
  'SEAT',
  'FIAT',
  'DACIA',
  'VOLKSWAGEN',
  'MERCEDES-BENZ',
  'PORSCHE',
];
const MODELS = [
  'PRIUS',
  'CAMRY',
  'COROLLA',
  'CIVIC',
  'ACCORD',
  'WRANGLER',
  'CHEROKEE',
  'OUTBACK',
  'FORESTER',
  'ALTIMA',
  'SENTRA',
  'ESCAPE',
  'FOCUS',
  'F-150',
  'SILVERADO',
  'TACOMA',
  'RAV4',
  'CR-V',
  'OCTAVIA',
  'GOLF',
  'PASSAT',
  'Model 3',
  'Sportage',
  'Tucson',
  'Highlander',
  'Grand Cherokee',
  'Rubicon',
  'Sahara',
  'Limited',
  'Touring',
];
const TRIMS = [
  '4X4',
  '4WD',
  'AWD',
  'HYBRID',
  'V6',
  'V8',
  'SPORT',
  'XLE',
  'LX',
  'EX-L',
  'SE',
  'GT',
  'TURBO',
  'TDI',
  'quattro',
  'xDrive',
  '2.0T',
];
const SURNAMES = [
  'PENSKE',
  'SMITH',
  'JOHNSON',
  'MILLER',
  'HERTZ',
  'CARMAX',
  'AUTONATION',
  'LITHIA',
  'HENDRICK',
  'SONIC',
  'LOPEZ',
  'NOVAK',
];
const DEALER_WORDS = [
  'MOTORS',
  'AUTO GROUP',
  'AUTO SALES',
  'TOYOTA',
  'HONDA',
  'FORD',
  'CHEVROLET',
  'AUTOMOTIVE',
  'CAR CENTER',
];
const STATES = [
  'CALIFORNIA',
  'TEXAS',
  'NEW YORK',
  'FLORIDA',
  'ARIZONA',
  'ILLINOIS',
  'OHIO',
  'GEORGIA',
  'NEVADA',
  'OREGON',
  'Washington',
  'Colorado',
  'Massachusetts',
  'New Jersey',
  'Pennsylvania',
  'Michigan',
  'Virginia',
  'Utah',
];
const SLOGANS = [
  'Sunshine State',
  'Land of Lincoln',
  'Live Free or Die',
  'Garden State',
  'EMPIRE STATE',
  'The Lone Star State',
  'Grand Canyon State',
  'Peach State',
  'dmv.ca.gov',
  'Great Lakes',
  'Beehive State',
  'Wild Wonderful',
  'Famous Potatoes',
  'Land of Enchantment',
  'Keystone State',
  'Heart of it all',
  'Pure Michigan',
  'Virginia is for lovers',
];
const STICKER_WORDS = [
  'PARKING PERMIT',
  'RESIDENT',
  'STAFF',
  'VISITOR',
  'EMISSIONS',
  'INSPECTED',
  'REGISTERED',
  'VALID THRU',
  'EXPIRES',
];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const CHINESE = [
  '出租',
  '出租汽车',
  '汽车销售服务有限公司',
  '驾校',
  '教练车',
  '学车热线',
  '大众',
  '丰田',
  '本田',
  '比亚迪',
  '吉利',
  '长安汽车',
  '4S店',
  '试驾车',
  '停车场',
  '月卡',
];
const WORDS = [
  'BABY ON BOARD',
  'THINK GREEN',
  'I LOVE NY',
  'HONK IF',
  'STUDENT DRIVER',
  'COEXIST',
  'TAXI',
  'UBER',
  'LYFT',
  'POLICE',
  'AMBULANCE',
  'SCHOOL BUS',
  'CAUTION',
  'CAR WASH',
  'EXIT',
  'NO PARKING',
  'SERVICE',
];

/** One line of non-plate text. */
export function nonPlateText(random: SeededRandom): string {
  const digits = (n: number) => Array.from({ length: n }, () => random.int(0, 9)).join('');
  switch (random.int(0, 11)) {
    case 0:
      return random.pick(BRANDS);
    case 1:
      return random.pick(MODELS) + (random.chance(0.4) ? ' ' + random.pick(TRIMS) : '');
    case 2:
      return random.pick(TRIMS);
    case 3:
      return `${random.pick(SURNAMES)} ${random.pick(DEALER_WORDS)}`;
    case 4:
      return `www.${random.pick(SURNAMES).toLowerCase()}${random.pick(['auto', 'motors', 'cars', 'ford'])}.${random.pick(['com', 'net', 'de', 'cz'])}`;
    case 5:
      return random.pick([
        `(${digits(3)}) ${digits(3)}-${digits(4)}`,
        `${digits(3)}-${digits(3)}-${digits(4)}`,
        `TEL ${digits(4)} ${digits(3)} ${digits(3)}`,
        `${digits(3)}-${digits(8)}`,
        `1-800-${digits(3)}-${digits(4)}`,
      ]);
    case 6:
      return random.pick(STATES);
    case 7:
      return random.pick(SLOGANS);
    case 8:
      return random.pick([
        `${random.pick(MONTHS)} ${digits(2)}`,
        `20${random.int(10, 29)}`,
        `${random.pick(STICKER_WORDS)}`,
        `${random.pick(STICKER_WORDS)} ${random.int(1, 12)}/${random.int(20, 29)}`,
        `${random.pick(MONTHS)}`,
      ]);
    case 9:
      return random.pick(CHINESE) + (random.chance(0.3) ? ' ' + digits(11) : '');
    case 10:
      return random.pick(WORDS);
    default:
      return `${random.pick(SURNAMES)} ${random.pick(BRANDS)}`;
  }
}

const FONTS = [
  { family: 'DejaVu Sans', weight: 'bold', style: 'normal' },
  { family: 'DejaVu Sans', weight: 'normal', style: 'normal' },
  { family: 'DejaVu Sans Condensed', weight: 'bold', style: 'normal' },
  { family: 'DejaVu Sans', weight: 'bold', style: 'italic' },
  { family: 'DejaVu Serif', weight: 'bold', style: 'normal' },
  { family: 'DejaVu Serif', weight: 'normal', style: 'italic' },
  { family: 'DejaVu Sans Mono', weight: 'bold', style: 'normal' },
  { family: 'Noto Sans CJK SC', weight: 'bold', style: 'normal' },
  { family: 'Noto Serif CJK SC', weight: 'normal', style: 'normal' },
];

/** Background and ink pairs: chrome, car paint, stickers, plate paper, dealer frames. */
const PALETTES: ReadonlyArray<{ background: string; ink: string[] }> = [
  { background: '#c9ccd1', ink: ['#1c1f24', '#f4f5f7'] }, // chrome badge
  { background: '#202225', ink: ['#e9e9e9', '#c9ccd1', '#d8b24a'] }, // black frame
  { background: '#f4f4f0', ink: ['#c8202e', '#16235e', '#161d3d', '#111111'] }, // plate paper, white sticker
  { background: '#e7c12a', ink: ['#111111'] }, // yellow sticker
  { background: '#8e1b1b', ink: ['#f1f1f1'] }, // red paint
  { background: '#1d3f8c', ink: ['#ffffff', '#f2d05a'] }, // blue paint, blue sign
  { background: '#5b6168', ink: ['#f0f0f0', '#111111'] }, // grey paint
  { background: '#1f6f3a', ink: ['#ffffff'] }, // green sticker
];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The line drawn as an image: one text on one background, with a little margin above and below. */
export async function renderTextLine(text: string, random: SeededRandom): Promise<Buffer> {
  const font = /[\u4e00-\u9fff]/.test(text) ? random.pick(FONTS.slice(7)) : random.pick(FONTS);
  const palette = random.pick(PALETTES);
  const ink = random.pick(palette.ink);
  const size = random.int(18, 40);
  const height = Math.round(size * random.between(1.15, 1.6));
  const wide = /[\u4e00-\u9fff]/.test(text) ? 1.0 : 0.66;
  const width = Math.max(height + 4, Math.round([...text].length * size * wide * random.between(0.85, 1.1) + size));
  const baseline = Math.round((height + size * 0.72) / 2);
  const frame = random.chance(0.3)
    ? `<rect x="1" y="1" width="${width - 2}" height="${height - 2}" rx="3" fill="none" stroke="${ink}" stroke-width="${random.int(1, 3)}"/>`
    : '';
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="${width}" height="${height}" fill="${palette.background}"/>${frame}` +
    `<text x="${width / 2}" y="${baseline}" text-anchor="middle" textLength="${Math.round(width - size * 0.8)}" ` +
    `lengthAdjust="spacingAndGlyphs" font-family="${font.family}" font-weight="${font.weight}" font-style="${font.style}" ` +
    `font-size="${size}" fill="${ink}">${escapeXml(text)}</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A band of a rendered US plate: the state name on top or the slogan below the characters. */
async function usPlateBand(random: SeededRandom): Promise<{ text: string; png: Buffer }> {
  const spec = randomPlate('us', random);
  const widthPx = random.int(160, 320);
  const plate = await renderPlate(spec, widthPx);
  const top = random.chance(0.5);
  const bandHeight = Math.max(8, Math.round(plate.height * (top ? 0.27 : 0.18)));
  const png = await sharp(plate.png)
    .extract({ left: 0, top: top ? 0 : plate.height - bandHeight, width: plate.width, height: bandHeight })
    .png()
    .toBuffer();
  return { text: top ? spec.state! : spec.slogan!, png };
}

/** `count` non-plate text lines, seeded; about one in six is a US plate's state or slogan band. */
export function nonPlateTexts(count: number, seed: number): TextSource[] {
  const random = new SeededRandom(seed * 131 + 7);
  const out: TextSource[] = [];
  for (let i = 0; i < count; i++) {
    const lineSeed = random.int(0, 2 ** 30);
    if (random.chance(1 / 6)) {
      out.push({
        id: `nonplate/us-band/${i}`,
        text: `us-band-${i}`,
        load: async () => (await usPlateBand(new SeededRandom(lineSeed))).png,
      });
      continue;
    }
    const text = nonPlateText(random);
    out.push({ id: `nonplate/${i}`, text, load: () => renderTextLine(text, new SeededRandom(lineSeed)) });
  }
  return out;
}
