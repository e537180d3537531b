/**
 * The strips the gate's reader actually reads, cut from a training image:
 * the image goes through the PlateReader (generic recogniser, no
 * plate-or-not), and every text line it read is cut out again exactly as
 * the reader cut it (the same quads, the same rectifier), with the
 * recogniser's sequence features. A line whose read is the labelled plate
 * is a plate; a line whose read shares no three characters in a row with
 * the plate (a city name on a Brazilian plate, a sign in a rendered scene)
 * is other text; a line read within two edits of the plate is the plate,
 * misread (kept apart: the head can learn from it, the plate-or-not
 * classifier does not need it); anything else (half a plate) is left out.
 *
 * Why: a classifier or head trained on whole crops resized to 48 px learns
 * what a whole crop looks like, not what the reader hands it (tighter text
 * lines from the detector, neighbours joined, real margins and context).
 */
import { PlateAlphabet } from '../edge/vision/ctc-decoder.js';
import { decodeImage } from '../edge/vision/image-input.js';
import { ModelFiles } from '../edge/vision/model-files.js';
import { withGraphOutput } from '../edge/vision/onnx-graph.js';
import { createSession } from '../edge/vision/onnx-session.js';
import { loadOpenCv } from '../edge/vision/opencv.js';
import type { OpenCv } from '../edge/vision/opencv.js';
import { FEATURE_OUTPUT } from '../edge/vision/plate-head.js';
import { newReadTrace, PlateReader } from '../edge/vision/plate-reader.js';
import { rectify } from '../edge/vision/rectifier.js';
import type { TextCrop } from '../edge/vision/rectifier.js';
import { TextRecognizer } from '../edge/vision/text-recognizer.js';

export interface StripFeatures {
  /** what the generic recogniser read there */
  text: string;
  /** [steps, 120] */
  features: Float32Array;
  steps: number;
  /** the strip itself, as the reader cut it */
  crop: TextCrop;
}

export interface ReaderStripSet {
  /** lines read exactly as the labelled plate */
  plates: StripFeatures[];
  /** lines read within two edits of the plate: the plate, misread (what a head can learn to read better) */
  nearPlates: StripFeatures[];
  /** lines that are not the plate */
  others: StripFeatures[];
}

export class ReaderStrips {
  private constructor(
    private readonly reader: PlateReader,
    private readonly cv: OpenCv,
    private readonly recognizer: TextRecognizer,
  ) {}

  static async create(threads: number, files = new ModelFiles()): Promise<ReaderStrips> {
    const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    const alphabet = new PlateAlphabet(dictionary);
    const [reader, cv, session] = await Promise.all([
      PlateReader.create({ threads, plateOrNotWeight: 0, recognizerKind: 'generic', modelFiles: files }),
      loadOpenCv(),
      createSession(withGraphOutput(files.bytes('rec'), FEATURE_OUTPUT), { intraOp: threads }),
    ]);
    return new ReaderStrips(reader, cv, new TextRecognizer(session, alphabet));
  }

  /** The lines the reader reads in `image`, sorted into the labelled plate and other text. */
  async strips(image: Buffer, plate: string): Promise<ReaderStripSet> {
    const trace = newReadTrace();
    await this.reader.read(image, {}, trace);
    const rgb = await decodeImage(image);
    const set: ReaderStripSet = { plates: [], nearPlates: [], others: [] };
    const kept = trace.candidates.filter((c) => isNearPlate(c.text, plate) || isOtherText(c.text, plate));
    if (kept.length === 0) return set;
    const crops = rectify(
      this.cv,
      rgb,
      kept.map((c) => c.quad),
    );
    const features = await this.recognizer.features(crops);
    kept.forEach((c, i) => {
      const strip = { text: c.text, features: features[i]!.features, steps: features[i]!.steps, crop: crops[i]! };
      if (isPlateRead(c.text, plate)) set.plates.push(strip);
      else if (isNearPlate(c.text, plate)) set.nearPlates.push(strip);
      else set.others.push(strip);
    });
    return set;
  }
}

/** The read is the plate (the province character of a Chinese plate may be missed). */
export function isPlateRead(read: string, plate: string): boolean {
  return read === plate || (read.length >= 5 && read === plate.slice(1) && /^[\u4e00-\u9fff]/.test(plate));
}

/** The read is the plate or within two edits of it (a misread plate, not a fragment of one). */
export function isNearPlate(read: string, plate: string): boolean {
  return isPlateRead(read, plate) || (read.length >= plate.length - 2 && editDistance(read, plate) <= 2);
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[y.length]!;
}

/** The read is text, not near the plate, and shares no three characters in a row with it. */
export function isOtherText(read: string, plate: string): boolean {
  if (read.length < 2 || isNearPlate(read, plate)) return false;
  for (let i = 0; i + 3 <= read.length; i++) if (plate.includes(read.slice(i, i + 3))) return false;
  return true;
}
