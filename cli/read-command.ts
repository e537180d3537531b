/** `platepay read IMAGE... [--json]`: plate reads for image files. */
import {
  nonNegativeNumber,
  parseCommandArgs,
  positiveInteger,
  recognizerOption,
  regionsOption,
  UsageError,
} from './args.js';
import { PlateReader, defaultRecognizerKind } from '../edge/vision/plate-reader.js';
import type { PlateRead } from '../edge/vision/plate-reader.js';
import type { Rect } from '../edge/vision/geometry.js';

const help = `usage: platepay read IMAGE... [--json] [--roi X,Y,W,H] [--threads N] [--regions R,...]
                     [--recognizer generic|plate|head] [--plate-or-not W]

Reads licence plates in image files (JPEG, PNG, WebP, ...), best read first.

  --json         print one JSON document: [{"file", "reads": [PlateRead...], "error"?}]
  --roi X,Y,W,H  only look in this region of each image (pixels)
  --threads N    ONNX threads per model (default 2)
  --regions R,.. read only these countries' plates: codes such as CN, US, BR, AR, FR, GB,
                 or groups EU, EUROPE, LATAM, UK (default all; README lists them)
  --recognizer K plate (neck and head trained for plates, default), head (only
                 the last layer trained) or generic
  --plate-or-not W  how much rank a text line the plate-or-not classifier
                 judges not a plate loses (default 3, 0: off)
`;

export const readCommand = {
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(argv, {
      json: { type: 'boolean' },
      roi: { type: 'string' },
      threads: { type: 'string' },
      regions: { type: 'string' },
      recognizer: { type: 'string' },
      'plate-or-not': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('give at least one image file\n\n' + help);
    const roi = values.roi ? parseRoi(values.roi) : undefined;
    const reader = await PlateReader.create({
      threads: positiveInteger(values.threads, '--threads') ?? 2,
      recognizerKind: recognizerOption(values.recognizer ?? defaultRecognizerKind),
      ...(values['plate-or-not'] !== undefined
        ? { plateOrNotWeight: nonNegativeNumber(values['plate-or-not'], '--plate-or-not') }
        : {}),
      ...(values.regions !== undefined ? { regions: regionsOption(values.regions) } : {}),
    });
    const results: Array<{ file: string; reads: PlateRead[]; error?: string }> = [];
    let failed = 0;
    for (const file of positionals) {
      try {
        const reads = await reader.read(file, roi ? { roi } : {});
        results.push({ file, reads });
        if (!values.json) {
          if (reads.length === 0) process.stdout.write(`${file}: no plate found\n`);
          for (const r of reads) {
            process.stdout.write(
              `${file}: ${r.text}  confidence ${r.confidence.toFixed(2)}  ${r.region} (${r.format})  box ${r.box.map((p) => `${Math.round(p.x)},${Math.round(p.y)}`).join(' ')}\n`,
            );
          }
        }
      } catch (err) {
        failed++;
        const message = (err as Error).message;
        results.push({ file, reads: [], error: message });
        if (!values.json) process.stderr.write(`${file}: error: ${message}\n`);
      }
    }
    if (values.json) process.stdout.write(JSON.stringify(results) + '\n');
    return failed > 0 ? 1 : 0;
  },
};

function parseRoi(text: string): Rect {
  const parts = text.split(',').map(Number);
  if (parts.length !== 4 || !parts.every((n) => Number.isFinite(n) && n >= 0)) {
    throw new UsageError(`--roi must be X,Y,W,H in pixels, got "${text}"`);
  }
  const [x, y, width, height] = parts as [number, number, number, number];
  if (width < 8 || height < 8) throw new UsageError('--roi width and height must be at least 8 pixels');
  return { x, y, width, height };
}
