/**
 * The training inputs of the plate recogniser: labelled plate crops from
 * `train-*` dataset folders (shared/datasets format: labels.csv with
 * file,plate[,region] and images/) and plates the project renders
 * (scenes/plate-renderer.ts), each turned into the 48-px strip the
 * recogniser reads, with seeded augmentation (tilt, scale, blur, light,
 * night/IR grey, JPEG artefacts).
 *
 * INVARIANTS
 * - Only folders named `train-*` are read: an evaluation set (openalpr-us,
 *   openalpr-eu, ccpd, cn-plate-crops, or any other name) is refused with
 *   its name, so the figures measured on those stay honest.
 * - The validation split is by plate text (a plate photographed twice is
 *   wholly in training or wholly in validation), decided by a hash of the
 *   text and the seed: the same seed gives the same split.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import type { PlateAlphabet } from '../edge/vision/ctc-decoder.js';
import { loadDataset } from '../edge/vision/evaluation.js';
import type { TextCrop } from '../edge/vision/rectifier.js';
import { REC_HEIGHT } from '../edge/vision/rectifier.js';
import { isTwoRowStyle, plateStyles, renderPlate } from '../scenes/plate-renderer.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import { randomPlate } from '../scenes/random-scene.js';
import { SeededRandom } from '../scenes/seeded-random.js';

export class TrainingDataError extends Error {
  readonly code = 'TRAINING_DATA';
}

export interface CropSource {
  /** where it came from: `<folder>/<file>` or `render/<style>/<n>` */
  id: string;
  plate: string;
  load(): Promise<Buffer>;
}

/** The labelled crops of `train-*` folders; refuses any other folder. */
export async function trainingCrops(dirs: readonly string[], alphabet: PlateAlphabet): Promise<CropSource[]> {
  const out: CropSource[] = [];
  for (const dir of dirs) {
    const name = basename(resolve(dir));
    if (!name.startsWith('train-')) {
      throw new TrainingDataError(
        `${dir}: training reads only train-* folders; "${name}" is for measuring (platepay eval), never for training`,
      );
    }
    for (const row of await loadDataset(dir)) {
      // plates with symbols outside the plate alphabet (or none) cannot be a CTC target
      if (![...row.plate].every((ch) => alphabet.symbols.includes(ch))) continue;
      out.push({ id: `${name}/${row.file}`, plate: row.plate, load: () => sharp(join(dir, row.file)).toBuffer() });
    }
  }
  return out;
}

/**
 * The styles training renders by default: every one-row style. A two-row
 * plate is read row by row (edge/vision/two-row.ts), so no one strip the
 * reader cuts carries its whole text: it cannot be a CTC target.
 */
export const trainingStyles: readonly PlateStyle[] = plateStyles.filter((s) => !isTwoRowStyle(s));

/** The styles named in `list` (comma-separated); refuses an unknown or two-row one by name. */
export function parseTrainingStyles(list: string): PlateStyle[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new TrainingDataError('--styles names no style');
  for (const name of names) {
    if (!(plateStyles as readonly string[]).includes(name))
      throw new TrainingDataError(`--styles: unknown plate style "${name}"; the styles are ${plateStyles.join(', ')}`);
    if (isTwoRowStyle(name as PlateStyle))
      throw new TrainingDataError(
        `--styles: "${name}" is a two-row style, which the reader reads row by row; train on its rows' one-row styles instead`,
      );
  }
  return [...new Set(names)] as PlateStyle[];
}

/** `count` rendered plates of each style, seeded: the same seed and styles render the same plates. */
export function renderedPlates(count: number, seed: number, styles: readonly PlateStyle[]): CropSource[] {
  const random = new SeededRandom(seed);
  const out: CropSource[] = [];
  for (let i = 0; i < count; i++) {
    for (const style of styles) {
      const spec = randomPlate(style, random);
      const widthPx = random.int(150, 320);
      out.push({
        id: `render/${style}/${i}`,
        plate: spec.text.replace(/[^0-9A-Z\u4e00-\u9fff]/g, ''),
        load: async () => (await renderPlate(spec, widthPx)).png,
      });
    }
  }
  return out;
}

/** True for the plates held back for validation (about `share` of them, by text). */
export function isValidation(plate: string, seed: number, share = 0.1): boolean {
  const h = createHash('sha256').update(`${seed}:${plate}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < share;
}

/** The image changed by `random`: tilt, margin, squeeze, blur, light, night/IR grey, JPEG artefacts. */
export async function augmentImage(image: Buffer, random: SeededRandom): Promise<Buffer> {
  const meta = await sharp(image).metadata();
  const w = meta.width ?? 100;
  const h = meta.height ?? 30;
  let img = sharp(image)
    .removeAlpha()
    .rotate(random.between(-4, 4), { background: { r: 128, g: 128, b: 128 } });
  // a little more or less margin, and a horizontal squeeze or stretch
  const zoom = random.between(0.9, 1.1);
  img = sharp(
    await img
      .resize(Math.max(8, Math.round(w * zoom * random.between(0.9, 1.1))), Math.max(8, Math.round(h * zoom)), {
        fit: 'fill',
      })
      .toBuffer(),
  );
  if (random.next() < 0.4) img = img.blur(random.between(0.3, 1.4));
  img = img.modulate({ brightness: random.between(0.6, 1.4), saturation: random.between(0.5, 1.3) });
  if (random.next() < 0.2) img = img.grayscale(); // night, infrared
  return img.jpeg({ quality: Math.round(random.between(25, 90)) }).toBuffer();
}

/** One crop as the recogniser's 48-px strip, changed by `random` when given (augmentation). */
export async function toStrip(image: Buffer, random: SeededRandom | null): Promise<TextCrop> {
  const img = sharp(random ? await augmentImage(image, random) : image).removeAlpha();
  const { data, info } = await img
    .resize({ height: REC_HEIGHT, width: undefined })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  let width = info.width;
  let rgb = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (info.channels !== 3) {
    rgb = new Uint8Array(width * REC_HEIGHT * 3);
    for (let i = 0; i < width * REC_HEIGHT; i++)
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * info.channels + Math.min(c, info.channels - 1)]!;
  }
  if (width > 480) width = 480; // MAX_REC_WIDTH: very wide strips are cut, as the reader does
  return { data: width === info.width ? rgb : cropColumns(rgb, info.width, width), width, height: REC_HEIGHT };
}

function cropColumns(rgb: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to * REC_HEIGHT * 3);
  for (let y = 0; y < REC_HEIGHT; y++) out.set(rgb.subarray(y * from * 3, y * from * 3 + to * 3), y * to * 3);
  return out;
}

/** The seed of one augmented copy of one source: the same run seed, source and copy give the same image. */
export function augmentationSeed(seed: number, id: string, variant: number): number {
  let h = 2166136261;
  for (const ch of id) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0;
  return seed * 7919 + (h % 1_000_003) * 31 + variant;
}

/** The repository, commit and licence lines of a folder's SOURCE.md (the model card names them). */
export async function sourceSummary(dir: string): Promise<string[]> {
  try {
    const text = await readFile(join(dir, 'SOURCE.md'), 'utf8');
    return text
      .split('\n')
      .filter((l) => /repository|commit|licen[cs]e|counts/i.test(l))
      .map((l) => l.replace(/^[-#\s]+/, ''));
  } catch {
    return ['(no SOURCE.md)'];
  }
}
