/** `platepay train recognizer ...`: fine-tunes the plate recogniser (training/recognizer-training.ts). */
import { parseCommandArgs, positiveInteger, UsageError } from './args.js';
import { ProgressBar } from './progress.js';
import { trainRecognizer } from '../training/recognizer-training.js';
import { trainNeck } from '../training/neck-training.js';
import { trainPlateOrNot } from '../training/plate-or-not-training.js';
import { parseTrainingStyles, trainingStyles, TrainingDataError } from '../training/crop-dataset.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';

const help = `usage: platepay train recognizer | plate-or-not ...

  platepay train recognizer --help     the plate head (and neck) of the recogniser
  platepay train plate-or-not --help   the classifier that tells plates from other text
`;

const recognizerHelp = `usage: platepay train recognizer --data DIR [--data DIR]... [--train head|neck] [--out FILE]
         [--plot FILE] [--epochs N] [--seed N] [--renders N] [--styles LIST] [--augment N] [--learning-rate X]
         [--neck-learning-rate X] [--patience N] [--l2 X] [--cut whole|reader] [--blend X]
         [--threads N] [--resume] [--json]

Fine-tunes the plate head of the PP-OCRv4 recogniser (its last layer, over
the plate alphabet) on labelled plate crops and rendered plates; the
backbone stays the package's. With --train neck, its last two convolutions
(the neck) train with the head. Only train-* dataset folders are read.

  --data DIR         a train-* folder (labels.csv: file,plate[,region] + images/); repeat for several
  --train K          head: the last layer only (default); neck: the last two convolutions and the
                     head (training/neck-training.ts; writes models/plate-neck.json by default)
  --out FILE         the file to write (default models/plate-head.json, or models/plate-neck.json)
  --plot FILE        the loss / validation accuracy plot, PNG (default: FILE with .png)
  --epochs N         training epochs (default 25; neck: 12); the best by validation accuracy is kept
  --patience N       neck: stop after N epochs without a better validation accuracy (default 3)
  --neck-learning-rate X  neck: Adam's step for the neck's weights (default 0.00003)
  --seed N           seed of the split, the augmentation, the renders and the order (default 1)
  --renders N        rendered plates per style (default 150)
  --styles LIST      the plate styles rendered, comma-separated (default: every one-row style of
                     platepay scene; two-row plates are read row by row, so they cannot be trained on)
  --augment N        augmented copies of each training crop besides the plain one (default 1)
  --learning-rate X  Adam's step (default 0.002)
  --l2 X             pull towards the generic head (default 0.001)
  --cut K            reader: the text line the gate's reader cuts from each crop, as
                     the gate sees it (default); whole: each crop resized whole (faster)
  --blend X          the head written is (1 - X) x the generic head + X x the trained one
                     (default 0.3; 1: the trained head as it is); neck: every weight, neck and head
  --threads N        ONNX threads (default 2)
  --resume           continue from FILE.checkpoint.json
  --json             print the figures as one JSON document
`;

const plateOrNotHelp = `usage: platepay train plate-or-not --data DIR [--data DIR]... [--out FILE] [--seed N]
         [--renders N] [--others N] [--augment N] [--iterations N] [--l2 X] [--threads N] [--json]

Fits the plate-or-not classifier (a logistic classifier on the recogniser's
pooled sequence features) on plate crops and rendered plates against
rendered text that is not a plate (badges, dealer frames, state names,
stickers, phone numbers). Only train-* dataset folders are read.

  --data DIR       a train-* folder (labels.csv: file,plate[,region] + images/); repeat for several
  --out FILE       the classifier file to write (default models/plate-or-not.json)
  --seed N         seed of the split, the augmentation and the renders (default 1)
  --renders N      rendered scenes per plate style (default 150)
  --others N       rendered non-plate text lines (default 2000)
  --augment N      augmented copies of each training image besides the plain one (default 1)
  --iterations N   full-batch iterations of the fit (default 400)
  --l2 X           L2 penalty on the weights (default 0.001)
  --threads N      ONNX threads (default 2)
  --json           print the figures as one JSON document
`;

export const trainCommand = {
  async run(argv: string[]): Promise<number> {
    const [what, ...rest] = argv;
    if (what === '--help' || what === '-h' || what === undefined) {
      process.stdout.write(help);
      return what === undefined ? 2 : 0;
    }
    if (what === 'plate-or-not') return trainPlateOrNotCommand(rest);
    if (what !== 'recognizer')
      throw new UsageError(`unknown training target "${what}"; try "recognizer" or "plate-or-not"\n\n${help}`);
    const { values } = parseCommandArgs(rest, {
      data: { type: 'string', multiple: true },
      out: { type: 'string' },
      plot: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      renders: { type: 'string' },
      styles: { type: 'string' },
      augment: { type: 'string' },
      'learning-rate': { type: 'string' },
      l2: { type: 'string' },
      threads: { type: 'string' },
      resume: { type: 'boolean' },
      cut: { type: 'string' },
      blend: { type: 'string' },
      train: { type: 'string' },
      patience: { type: 'string' },
      'neck-learning-rate': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(recognizerHelp);
      return 0;
    }
    const data = values.data ?? [];
    if (data.length === 0) throw new UsageError('--data DIR is required (a train-* folder)\n\n' + recognizerHelp);
    if (values.train !== undefined && values.train !== 'head' && values.train !== 'neck')
      throw new UsageError(`--train must be head or neck, got "${values.train}"`);
    const log = (line: string): void => {
      if (!values.json) process.stdout.write(line + '\n');
    };
    const neck = values.train === 'neck';
    const out = values.out ?? (neck ? 'models/plate-neck.json' : 'models/plate-head.json');
    const common = {
      data,
      out,
      plot: values.plot ?? out.replace(/\.json$/, '') + '.png',
      epochs: count(values.epochs, '--epochs', neck ? 12 : 25),
      seed: count(values.seed, '--seed', 1),
      renders: count(values.renders, '--renders', 150),
      styles: values.styles === undefined ? trainingStyles : stylesOption(values.styles),
      augment: count(values.augment, '--augment', 1),
      learningRate: number(values['learning-rate'], '--learning-rate', 0.002),
      l2ToStart: number(values.l2, '--l2', 0.001),
      threads: positiveInteger(values.threads, '--threads') ?? 2,
      resume: Boolean(values.resume),
      cut: cutOption(values.cut),
      blend: blendOption(values.blend),
      progress: progressBars(),
      log,
    };
    const pct = (figures: { validationAccuracy: number }) => `${(100 * figures.validationAccuracy).toFixed(1)}%`;
    if (neck) {
      const result = await trainNeck({
        ...common,
        patience: count(values.patience, '--patience', 3),
        neckLearningRate: number(values['neck-learning-rate'], '--neck-learning-rate', 0.00003),
      });
      if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
      else
        process.stdout.write(
          `kept epoch ${result.best.epoch}: validation ${pct(result.best)} read exactly (generic ${pct(result.generic)}, ` +
            `plate head ${pct(result.plateHead)}, shipped blend ${pct(result.shipped)}); wrote ${out} in ${result.seconds} s\n`,
        );
      return 0;
    }
    const result = await trainRecognizer(common);
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else
      process.stdout.write(
        `kept epoch ${result.best.epoch}: validation ${pct(result.best)} read exactly (generic head ${pct(result.generic)}, ` +
          `shipped blend ${pct(result.shipped)}); wrote ${out} in ${result.seconds} s\n`,
      );
    return 0;
  },
};

function stylesOption(list: string): PlateStyle[] {
  try {
    return parseTrainingStyles(list);
  } catch (e) {
    if (e instanceof TrainingDataError) throw new UsageError(e.message);
    throw e;
  }
}

function number(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0) throw new UsageError(`${name} must be a non-negative number, got "${v}"`);
  return x;
}

function count(v: string | undefined, name: string, fallback: number): number {
  if (v === '0') return 0;
  return positiveInteger(v, name) ?? fallback;
}

function progressBars(): (stage: string, done: number, total: number, detail?: string) => void {
  const bars = new Map<string, ProgressBar>();
  return (stage, done, total, detail) => {
    if (!bars.has(stage)) bars.set(stage, new ProgressBar(stage));
    bars.get(stage)!.update(done, total, detail);
    if (done === total) bars.get(stage)!.finish();
  };
}

async function trainPlateOrNotCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    data: { type: 'string', multiple: true },
    out: { type: 'string' },
    seed: { type: 'string' },
    renders: { type: 'string' },
    others: { type: 'string' },
    augment: { type: 'string' },
    iterations: { type: 'string' },
    l2: { type: 'string' },
    threads: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(plateOrNotHelp);
    return 0;
  }
  const data = values.data ?? [];
  if (data.length === 0) throw new UsageError('--data DIR is required (a train-* folder)\n\n' + plateOrNotHelp);
  const out = values.out ?? 'models/plate-or-not.json';
  const result = await trainPlateOrNot({
    data,
    out,
    seed: count(values.seed, '--seed', 1),
    renders: count(values.renders, '--renders', 150),
    others: count(values.others, '--others', 2000),
    augment: count(values.augment, '--augment', 1),
    iterations: count(values.iterations, '--iterations', 400),
    l2: number(values.l2, '--l2', 0.001),
    threads: positiveInteger(values.threads, '--threads') ?? 2,
    progress: progressBars(),
    log: (line) => {
      if (!values.json) process.stdout.write(line + '\n');
    },
  });
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const v = result.validation;
    process.stdout.write(
      `validation: ${(100 * v.plateRecall).toFixed(1)}% of ${v.plates} plates called plates, ` +
        `${(100 * v.otherRejected).toFixed(1)}% of ${v.others} other texts rejected; wrote ${out} in ${result.seconds} s\n`,
    );
  }
  return 0;
}

function cutOption(value: string | undefined): 'whole' | 'reader' {
  if (value === undefined || value === 'whole' || value === 'reader') return value ?? 'reader';
  throw new UsageError(`--cut must be whole or reader, got "${value}"`);
}

function blendOption(value: string | undefined): number {
  if (value === undefined) return 0.3;
  const x = Number(value);
  if (value.trim() === '' || !(x >= 0 && x <= 1))
    throw new UsageError(`--blend must be a number from 0 to 1, got "${value}"`);
  return x;
}
