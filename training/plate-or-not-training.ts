/**
 * `platepay train plate-or-not`: fits the plate-or-not classifier
 * (edge/vision/plate-or-not.ts) on the recogniser's pooled sequence
 * features of plate crops (`train-*` folders and rendered plates) against
 * rendered non-plate text (training/non-plate-text.ts). Plates and the
 * text around them are cut as the reader cuts them (training/reader-strips.ts).
 *
 * What it guarantees, as `train recognizer` does: only `train-*` folders
 * are read; seeded and reproducible (same data, seed and options, same
 * bytes); a validation split of its own by text (never trained on) whose
 * figures go into the file's card; a progress report while features are
 * computed, the slow part (a fit of a few seconds follows).
 */
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { PlateAlphabet } from '../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../edge/vision/model-files.js';
import { withGraphOutput } from '../edge/vision/onnx-graph.js';
import { createSession } from '../edge/vision/onnx-session.js';
import { FEATURE_OUTPUT } from '../edge/vision/plate-head.js';
import { PlateOrNot, poolFeatures } from '../edge/vision/plate-or-not.js';
import { TextRecognizer } from '../edge/vision/text-recognizer.js';
import { SeededRandom } from '../scenes/seeded-random.js';
import { augmentImage, augmentationSeed, isValidation, sourceSummary, toStrip, trainingCrops } from './crop-dataset.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import { randomSceneSpec } from '../scenes/random-scene.js';
import { plainText, renderScene } from '../scenes/scene-renderer.js';
import { ReaderStrips } from './reader-strips.js';
import type { ClassifierFigures, LabelledVector } from './logistic-trainer.js';
import { classifierFigures, fitLogistic } from './logistic-trainer.js';
import { nonPlateTexts } from './non-plate-text.js';

export interface PlateOrNotTrainingOptions {
  data: string[];
  out: string;
  seed: number;
  /** rendered scenes per plate style */
  renders: number;
  /** rendered non-plate text lines */
  others: number;
  /** augmented copies of each training image besides the plain one */
  augment: number;
  iterations: number;
  l2: number;
  threads: number;
  progress(stage: string, done: number, total: number): void;
  log(line: string): void;
}

export interface PlateOrNotTrainingResult {
  train: ClassifierFigures;
  validation: ClassifierFigures;
  seconds: number;
}

/** An image with one labelled plate (a train-* crop or a rendered scene). */
interface Job {
  id: string;
  /** the labelled plate, which also decides the validation split */
  split: string;
  load(): Promise<Buffer>;
}

/** `count` rendered scenes of each plate style, with signs and other text around the plate; seeded. */
function renderedScenes(count: number, seed: number): Job[] {
  const styles: PlateStyle[] = ['cn-blue', 'cn-green', 'us', 'eu'];
  const out: Job[] = [];
  for (let i = 0; i < count; i++) {
    for (const style of styles) {
      // scene seeds far from the ones the tests and the scene benchmark use
      const spec = randomSceneSpec(style, 7_000_000 + seed * 100_000 + i);
      out.push({
        id: `scene/${style}/${i}`,
        split: plainText(spec.plate.text),
        load: async () => (await renderScene(spec)).jpeg,
      });
    }
  }
  return out;
}

export async function trainPlateOrNot(o: PlateOrNotTrainingOptions): Promise<PlateOrNotTrainingResult> {
  const started = Date.now();
  const files = new ModelFiles();
  const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
  if (dictionary[dictionary.length - 1] === '') dictionary.pop();
  const alphabet = new PlateAlphabet(dictionary);
  const session = await createSession(withGraphOutput(files.bytes('rec'), FEATURE_OUTPUT), { intraOp: o.threads });
  const recognizer = new TextRecognizer(session, alphabet);

  const strips = await ReaderStrips.create(o.threads, files);

  // plates and the other text around them, as the reader cuts them from train-* crops and rendered scenes
  const images: Job[] = [
    ...(await trainingCrops(o.data, alphabet)).map((s) => ({ id: s.id, split: s.plate, load: s.load })),
    ...renderedScenes(o.renders, o.seed),
  ];
  // rendered text that is not a plate: badges, dealer frames, state names, stickers
  const texts = nonPlateTexts(o.others, o.seed);
  const train: LabelledVector[] = [];
  const validation: LabelledVector[] = [];
  const jobs: Array<{ run: () => Promise<void> }> = [];
  for (const image of images) {
    const into = isValidation(image.split, o.seed) ? validation : train;
    for (let v = 0; v <= (into === validation ? 0 : o.augment); v++) {
      jobs.push({
        run: async () => {
          const bytes = await image.load();
          const random = v === 0 ? null : new SeededRandom(augmentationSeed(o.seed, image.id, v));
          const set = await strips.strips(random ? await augmentImage(bytes, random) : bytes, image.split);
          for (const s of [...set.plates, ...set.nearPlates]) into.push({ x: poolFeatures(s.features, s.steps), y: 1 });
          for (const s of set.others) into.push({ x: poolFeatures(s.features, s.steps), y: 0 });
        },
      });
    }
  }
  for (let i = 0; i < texts.length; i += 16) {
    const part = texts.slice(i, i + 16);
    jobs.push({
      run: async () => {
        const crops = await Promise.all(
          part.map(async (t) => {
            const random = new SeededRandom(augmentationSeed(o.seed, t.id, 1));
            return toStrip(await t.load(), random.chance(0.5) ? random : null);
          }),
        );
        const features = await recognizer.features(crops);
        part.forEach((t, k) => {
          const into = isValidation(t.text + t.id, o.seed) ? validation : train;
          into.push({ x: poolFeatures(features[k]!.features, features[k]!.steps), y: 0 });
        });
      },
    });
  }
  for (let i = 0; i < jobs.length; i++) {
    await jobs[i]!.run();
    o.progress('features', i + 1, jobs.length);
  }
  o.log(
    `${train.length} training vectors (${o.augment} augmented copies each), ${validation.length} validation vectors`,
  );

  const model = fitLogistic(train, { iterations: o.iterations, learningRate: 0.05, l2: o.l2 });
  const figures = { train: classifierFigures(model, train), validation: classifierFigures(model, validation) };
  const classifier = new PlateOrNot(model.mean, model.std, model.weights, model.bias);
  const card = {
    base: 'PP-OCRv4 rec sequence features (transpose_51.tmp_0), mean and maximum over the time steps',
    data: await Promise.all(
      o.data.map(async (dir) => ({ folder: basename(resolve(dir)), source: await sourceSummary(dir) })),
    ),
    renders: { scenesPerStyle: o.renders, otherText: o.others },
    recipe: {
      seed: o.seed,
      augmentedCopies: o.augment,
      fit: `logistic, balanced classes, Adam 0.05, ${o.iterations} full-batch iterations, L2 ${o.l2}`,
      validation: 'about 10% of the texts (by text hash and seed), never trained on',
    },
    figures: {
      train: roundFigures(figures.train),
      validation: roundFigures(figures.validation),
    },
  };
  await writeFile(o.out, JSON.stringify(classifier.toFile(card)) + '\n');
  return { ...figures, seconds: Math.round((Date.now() - started) / 1000) };
}

function roundFigures(f: ClassifierFigures): ClassifierFigures {
  const r = (x: number): number => Math.round(x * 10000) / 10000;
  return {
    ...f,
    plateRecall: r(f.plateRecall),
    otherRejected: r(f.otherRejected),
    balancedAccuracy: r(f.balancedAccuracy),
  };
}
