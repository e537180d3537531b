/** `platepay eval --dataset DIR [--limit N] [--json]`: accuracy and speed on a labelled dataset. */
import {
  nonNegativeNumber,
  parseCommandArgs,
  positiveInteger,
  recognizerOption,
  regionsOption,
  UsageError,
} from './args.js';
import { ProgressBar } from './progress.js';
import { PlateReader, defaultRecognizerKind } from '../edge/vision/plate-reader.js';
import type { RecognizerKind } from '../edge/vision/plate-reader.js';
import { evaluateSideBySide as evaluate } from '../edge/vision/evaluation.js';
import type { EvalReport } from '../edge/vision/evaluation.js';

const help = `usage: platepay eval --dataset DIR [--limit N] [--json] [--threads N] [--regions R,...]
                     [--recognizer generic|plate|head] [--compare generic,plate[,head]] [--plate-or-not W]

Measures plate reading on a dataset folder (labels.csv + images/, as in
shared/datasets): whole-plate and per-character accuracy, detection recall
(scenes), and milliseconds per image.

  --dataset DIR  the dataset folder
  --limit N      only the first N images
  --json         print one JSON document with the figures and every error
  --threads N    ONNX threads per model (default 2)
  --regions R,.. read only these countries' plates: codes such as CN, US, BR, AR, FR, GB,
                 or groups EU, EUROPE, LATAM, UK (default all; README lists them)
  --recognizer K plate (its last two convolutions and last layer trained for
                 plates, models/plate-neck.json; default), head (only its last
                 layer trained, models/plate-head.json) or generic (PP-OCRv4's
                 own output)
  --plate-or-not W  how much rank a text line the plate-or-not classifier
                 (models/plate-or-not.json) judges not a plate loses (default 3, 0: off)
  --compare A,B[,C]  two or three recognisers on the same images in one run,
                 side by side (they take turns image by image, so machine noise
                 hits them alike); --json prints {"compare": [reportA, reportB, ...]}
`;

export const evalCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      dataset: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
      regions: { type: 'string' },
      recognizer: { type: 'string' },
      compare: { type: 'string' },
      'plate-or-not': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (!values.dataset) throw new UsageError('--dataset DIR is required\n\n' + help);
    const limit = positiveInteger(values.limit, '--limit');
    const kinds = values.compare
      ? values.compare.split(',').map((k) => recognizerOption(k.trim(), '--compare'))
      : [recognizerOption(values.recognizer ?? defaultRecognizerKind)];
    if (values.compare && (kinds.length < 2 || kinds.length > 3 || new Set(kinds).size !== kinds.length)) {
      throw new UsageError('--compare takes two or three different recognisers, e.g. generic,plate');
    }
    const readers = await Promise.all(
      kinds.map((recognizerKind) =>
        PlateReader.create({
          threads: positiveInteger(values.threads, '--threads') ?? 2,
          recognizerKind,
          ...(values['plate-or-not'] !== undefined
            ? { plateOrNotWeight: nonNegativeNumber(values['plate-or-not'], '--plate-or-not') }
            : {}),
          ...(values.regions !== undefined ? { regions: regionsOption(values.regions) } : {}),
        }),
      ),
    );
    const bar = new ProgressBar('eval');
    const reports = await evaluate(readers, values.dataset, {
      ...(limit !== undefined ? { limit } : {}),
      onProgress: (done, total, correct) => bar.update(done, total, `${((100 * correct) / done).toFixed(1)}% right`),
    });
    bar.finish();
    if (values.json) {
      process.stdout.write(JSON.stringify(values.compare ? { compare: reports } : reports[0]) + '\n');
      return 0;
    }
    if (values.compare) {
      process.stdout.write(sideBySide(kinds, reports));
      return 0;
    }
    const report = reports[0]!;
    const pct = (v: number | null): string => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
    const out = [
      `dataset          ${report.dataset}`,
      `images           ${report.images}`,
      `plate accuracy   ${pct(report.plateAccuracy)}`,
      `char accuracy    ${pct(report.charAccuracy)}`,
      `detection recall ${pct(report.detectionRecall)}`,
      `ms per image     median ${report.msPerImage.median}  p95 ${report.msPerImage.p95}  p99 ${report.msPerImage.p99}`,
    ];
    if (report.stages) {
      const s = report.stages;
      out.push(
        `stages (mean ms) decode ${s.decode}  det pre ${s.detPre} run ${s.detRun} post ${s.detPost}  rec ${s.rec}`,
      );
    }
    out.push(`errors           ${report.errors.length}`);
    for (const e of report.errors.slice(0, 30))
      out.push(`  ${e.expected.padEnd(10)} read ${e.read || '(nothing)'}  ${e.file}`);
    if (report.errors.length > 30) out.push(`  ... ${report.errors.length - 30} more (use --json for all)`);
    process.stdout.write(out.join('\n') + '\n');
    return 0;
  },
};

function sideBySide(kinds: readonly RecognizerKind[], reports: readonly EvalReport[]): string {
  const pct = (v: number | null): string => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  const rows: Array<[string, (r: EvalReport) => string]> = [
    ['plate accuracy', (r) => pct(r.plateAccuracy)],
    ['char accuracy', (r) => pct(r.charAccuracy)],
    ['detection recall', (r) => pct(r.detectionRecall)],
    ['median ms', (r) => String(r.msPerImage.median)],
    ['p99 ms', (r) => String(r.msPerImage.p99)],
    ['errors', (r) => String(r.errors.length)],
  ];
  const out = [
    `dataset ${reports[0]!.dataset}, ${reports[0]!.images} images`,
    `${''.padEnd(18)}${kinds.map((k) => k.padStart(10)).join('')}`,
  ];
  for (const [name, f] of rows) out.push(`${name.padEnd(18)}${reports.map((r) => f(r).padStart(10)).join('')}`);
  const wrong = reports.map((r) => new Set(r.errors.map((e) => e.file)));
  for (let k = 1; k < reports.length; k++) {
    const fixed = [...wrong[0]!].filter((f) => !wrong[k]!.has(f)).length;
    const broken = [...wrong[k]!].filter((f) => !wrong[0]!.has(f)).length;
    out.push(`fixed by ${kinds[k]}: ${fixed}, broken by ${kinds[k]}: ${broken} (against ${kinds[0]})`);
  }
  return out.join('\n') + '\n';
}
