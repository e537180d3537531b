/** `platepay train recognizer ...`: fine-tunes the plate recogniser (training/recognizer-training.ts). */
import { parseCommandArgs, positiveInteger, UsageError } from './args.js';
import { ProgressBar } from './progress.js';
import { trainRecognizer } from '../training/recognizer-training.js';

const help = `usage: platepay train recognizer --data DIR [--data DIR]... [--out FILE] [--plot FILE]
         [--epochs N] [--seed N] [--renders N] [--augment N] [--learning-rate X] [--l2 X]
         [--threads N] [--resume] [--json]

Fine-tunes the plate head of the PP-OCRv4 recogniser (its last layer, over
the plate alphabet) on labelled plate crops and rendered plates; the
backbone stays the package's. Only train-* dataset folders are read.

  --data DIR         a train-* folder (labels.csv: file,plate[,region] + images/); repeat for several
  --out FILE         the head file to write (default models/plate-head.json)
  --plot FILE        the loss / validation accuracy plot, PNG (default: FILE with .png)
  --epochs N         training epochs (default 30); the best by validation accuracy is kept
  --seed N           seed of the split, the augmentation, the renders and the order (default 1)
  --renders N        rendered plates per style (cn-blue, cn-green, us, eu; default 300)
  --augment N        augmented copies of each training crop besides the plain one (default 2)
  --learning-rate X  Adam's step (default 0.002)
  --l2 X             pull towards the generic head (default 0.001)
  --threads N        ONNX threads (default 2)
  --resume           continue from FILE.checkpoint.json
  --json             print the figures as one JSON document
`;

export const trainCommand = {
  summary: 'fine-tune the plate recogniser on train-* crops and rendered plates',
  async run(argv: string[]): Promise<number> {
    const [what, ...rest] = argv;
    if (what === '--help' || what === '-h' || what === undefined) {
      process.stdout.write(help);
      return what === undefined ? 2 : 0;
    }
    if (what !== 'recognizer') throw new UsageError(`unknown training target "${what}"; try "recognizer"\n\n${help}`);
    const { values } = parseCommandArgs(rest, {
      data: { type: 'string', multiple: true },
      out: { type: 'string' },
      plot: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      renders: { type: 'string' },
      augment: { type: 'string' },
      'learning-rate': { type: 'string' },
      l2: { type: 'string' },
      threads: { type: 'string' },
      resume: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    const data = values.data ?? [];
    if (data.length === 0) throw new UsageError('--data DIR is required (a train-* folder)\n\n' + help);
    const number = (v: string | undefined, name: string, fallback: number): number => {
      if (v === undefined) return fallback;
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0) throw new UsageError(`${name} must be a non-negative number, got "${v}"`);
      return x;
    };
    const count = (v: string | undefined, name: string, fallback: number): number => {
      if (v === '0') return 0;
      return positiveInteger(v, name) ?? fallback;
    };
    const out = values.out ?? 'models/plate-head.json';
    const bars = new Map<string, ProgressBar>();
    const result = await trainRecognizer({
      data,
      out,
      plot: values.plot ?? out.replace(/\.json$/, '') + '.png',
      epochs: count(values.epochs, '--epochs', 30),
      seed: count(values.seed, '--seed', 1),
      renders: count(values.renders, '--renders', 300),
      augment: count(values.augment, '--augment', 2),
      learningRate: number(values['learning-rate'], '--learning-rate', 0.002),
      l2ToStart: number(values.l2, '--l2', 0.001),
      threads: positiveInteger(values.threads, '--threads') ?? 2,
      resume: Boolean(values.resume),
      progress: (stage, done, total, detail) => {
        if (!bars.has(stage)) bars.set(stage, new ProgressBar(stage));
        bars.get(stage)!.update(done, total, detail);
        if (done === total) bars.get(stage)!.finish();
      },
      log: (line) => {
        if (!values.json) process.stdout.write(line + '\n');
      },
    });
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      process.stdout.write(
        `kept epoch ${result.best.epoch}: validation ${(100 * result.best.validationAccuracy).toFixed(1)}% read exactly ` +
          `(generic head ${(100 * result.generic.validationAccuracy).toFixed(1)}%); wrote ${out} in ${result.seconds} s\n`,
      );
    }
    return 0;
  },
};
