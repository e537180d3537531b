/** `platepay eval --dataset DIR [--limit N] [--json]`: accuracy and speed on a labelled dataset. */
import { parseCommandArgs, positiveInteger, regionsOption, UsageError } from './args.js';
import { ProgressBar } from './progress.js';
import { PlateReader } from '../edge/vision/plate-reader.js';
import { evaluate } from '../edge/vision/evaluation.js';

const help = `usage: platepay eval --dataset DIR [--limit N] [--json] [--threads N] [--regions R,...]

Measures plate reading on a dataset folder (labels.csv + images/, as in
shared/datasets): whole-plate and per-character accuracy, detection recall
(scenes), and milliseconds per image.

  --dataset DIR  the dataset folder
  --limit N      only the first N images
  --json         print one JSON document with the figures and every error
  --threads N    ONNX threads per model (default 2)
  --regions R,.. read only these plate regions: CN, US, EU, BR (default all)
`;

export const evalCommand = {
  summary: 'measure accuracy and speed on a labelled dataset',
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      dataset: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
      regions: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (!values.dataset) throw new UsageError('--dataset DIR is required\n\n' + help);
    const limit = positiveInteger(values.limit, '--limit');
    const reader = await PlateReader.create({
      threads: positiveInteger(values.threads, '--threads') ?? 2,
      ...(values.regions !== undefined ? { regions: regionsOption(values.regions) } : {}),
    });
    const bar = new ProgressBar('eval');
    const report = await evaluate(reader, values.dataset, {
      ...(limit !== undefined ? { limit } : {}),
      onProgress: (done, total, correct) => bar.update(done, total, `${((100 * correct) / done).toFixed(1)}% right`),
    });
    bar.finish();
    if (values.json) {
      process.stdout.write(JSON.stringify(report) + '\n');
      return 0;
    }
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
