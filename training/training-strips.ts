/**
 * The labelled strips the recogniser trains on: every training crop
 * (`train-*` folders) and rendered plate, split by plate text into training
 * and validation (crop-dataset.ts), each training source also in
 * `augment` augmented copies, cut as the gate cuts (`reader`: the line the
 * gate's reader reads as the plate, reader-strips.ts) or whole (`whole`:
 * the crop resized to 48 px). Sources whose plate the reader does not find
 * (within two edits) give no strip.
 *
 * Shared by the head's and the neck's training, which then compute what
 * each needs from the strips (the sequence features, or the neck's input);
 * a strip the reader cut keeps the sequence features the reader computed.
 */
import type { PlateAlphabet } from '../edge/vision/ctc-decoder.js';
import type { ModelFiles } from '../edge/vision/model-files.js';
import type { TextCrop } from '../edge/vision/rectifier.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import { SeededRandom } from '../scenes/seeded-random.js';
import type { CropSource } from './crop-dataset.js';
import {
  augmentImage,
  augmentationSeed,
  isValidation,
  renderedPlates,
  toStrip,
  trainingCrops,
} from './crop-dataset.js';
import { ReaderStrips } from './reader-strips.js';

export interface StripOptions {
  data: string[];
  seed: number;
  /** rendered plates per style */
  renders: number;
  /** the plate styles rendered (one-row ones) */
  styles: readonly PlateStyle[];
  /** augmented copies of each training crop (besides the plain one) */
  augment: number;
  cut: 'whole' | 'reader';
  threads: number;
  progress(stage: string, done: number, total: number, detail?: string): void;
}

export interface LabelledStrip {
  crop: TextCrop;
  /** plate alphabet columns of the plate's text */
  labels: number[];
  /** the recogniser's sequence features [steps][120], when the reader cut the strip (it computed them) */
  read?: { features: Float32Array; steps: number };
}

export async function trainingStrips(
  o: StripOptions,
  alphabet: PlateAlphabet,
  files: ModelFiles,
): Promise<{ train: LabelledStrip[]; validation: LabelledStrip[] }> {
  const sources = [...(await trainingCrops(o.data, alphabet)), ...renderedPlates(o.renders, o.seed, o.styles)];
  const train: LabelledStrip[] = [];
  const validation: LabelledStrip[] = [];
  const jobs: Array<{ source: CropSource; variant: number; into: LabelledStrip[] }> = [];
  for (const source of sources) {
    if (isValidation(source.plate, o.seed)) jobs.push({ source, variant: 0, into: validation });
    else for (let v = 0; v <= o.augment; v++) jobs.push({ source, variant: v, into: train });
  }
  const strips = o.cut === 'reader' ? await ReaderStrips.create(o.threads, files) : null;
  const labelsOf = (plate: string): number[] => [...plate].map((ch) => alphabet.column(ch));
  let done = 0;
  for (const j of jobs) {
    const random = j.variant === 0 ? null : new SeededRandom(augmentationSeed(o.seed, j.source.id, j.variant));
    if (strips) {
      const bytes = await j.source.load();
      const set = await strips.strips(random ? await augmentImage(bytes, random) : bytes, j.source.plate);
      // the plate's own line, read right or nearly so; at most one per image (the reader's overlapping cuts agree)
      const line = set.plates[0] ?? set.nearPlates[0];
      if (line)
        j.into.push({
          crop: line.crop,
          labels: labelsOf(j.source.plate),
          read: { features: line.features, steps: line.steps },
        });
    } else {
      j.into.push({ crop: await toStrip(await j.source.load(), random), labels: labelsOf(j.source.plate) });
    }
    o.progress('strips', ++done, jobs.length);
  }
  return { train, validation };
}
