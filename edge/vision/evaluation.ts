/**
 * Evaluation of a PlateReader on a labelled dataset in the shared format:
 * a folder with `labels.csv` (file,plate[,x1,y1,x2,y2,...]) and `images/`.
 * Rows with a box are full scenes; rows without one are plate crops, read
 * whole. Scoring: a read is right when its normalised text equals the label.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Rect } from './geometry.js';
import { quadBounds, rectIntersection, rectIou } from './geometry.js';
import { foldScriptTwins, normalisePlate } from '../../proto/plate-syntax.js';
import type { PlateReader } from './plate-reader.js';
import { newReadTrace } from './plate-reader.js';
import { percentile } from './percentile.js';

export { percentile };

export interface LabelledImage {
  file: string;
  plate: string;
  /** the labelled plate box, for full scenes */
  box: Rect | null;
}

export interface EvalError {
  file: string;
  expected: string;
  read: string;
}

export interface EvalReport {
  dataset: string;
  images: number;
  plateAccuracy: number;
  charAccuracy: number;
  detectionRecall: number | null;
  msPerImage: { median: number; p95: number; p99: number; mean: number };
  /** mean milliseconds per stage, for scenes */
  stages: { decode: number; detPre: number; detRun: number; detPost: number; rec: number } | null;
  errors: EvalError[];
}

export class DatasetError extends Error {
  readonly code = 'BAD_DATASET';
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** Parses labels.csv: a header row naming at least `file` and `plate`; x1,y1,x2,y2 make a row a scene. */
export function parseLabels(csv: string, source = 'labels.csv'): LabelledImage[] {
  // keep each row's line number in the file (1-based), skipping blank lines
  const lines = csv
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((text, i) => ({ text, line: i + 1 }))
    .filter((l) => l.text.trim().length > 0);
  const header = (lines.shift()?.text ?? '').split(',').map((h) => h.trim());
  const col = (name: string): number => header.indexOf(name);
  if (col('file') < 0 || col('plate') < 0) {
    throw new DatasetError(`${source}: header must name the columns "file" and "plate" (got: ${header.join(',')})`);
  }
  const hasBox = ['x1', 'y1', 'x2', 'y2'].every((k) => col(k) >= 0);
  return lines.map(({ text, line }) => {
    const cells = text.split(',');
    const file = cells[col('file')]?.trim() ?? '';
    const label = cells[col('plate')]?.trim() ?? '';
    if (!file || !label) throw new DatasetError(`${source} line ${line}: needs a file and a plate`);
    // a label may write a Russian, Ukrainian or Greek plate in its own script: those letters are Latin twins
    const plate = normalisePlate(foldScriptTwins(label));
    if (!plate) {
      throw new DatasetError(
        `${source} line ${line}: plate "${label}" holds characters no plate alphabet has (letters A-Z, digits, the Chinese province and series characters)`,
      );
    }
    let box: Rect | null = null;
    if (hasBox && cells[col('x1')]?.trim()) {
      const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((k) => Number(cells[col(k)]));
      if (![x1, y1, x2, y2].every(Number.isFinite))
        throw new DatasetError(`${source} line ${line}: box is not numeric`);
      if (x2! <= x1! || y2! <= y1!) {
        throw new DatasetError(`${source} line ${line}: box has x2 <= x1 or y2 <= y1 (x1, y1 is the top-left corner)`);
      }
      box = { x: x1!, y: y1!, width: x2! - x1!, height: y2! - y1! };
    }
    return { file, plate, box };
  });
}

export async function loadDataset(dir: string): Promise<LabelledImage[]> {
  const path = join(dir, 'labels.csv');
  let csv: string;
  try {
    csv = await readFile(path, 'utf8');
  } catch (err) {
    throw new DatasetError(
      `${path}: cannot read (${(err as Error).message}); a dataset folder holds labels.csv and images/`,
    );
  }
  return parseLabels(csv, path);
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

export interface EvalOptions {
  limit?: number;
  onProgress?: (done: number, total: number, correct: number) => void;
}

export async function evaluate(reader: PlateReader, dir: string, options: EvalOptions = {}): Promise<EvalReport> {
  return (await evaluateSideBySide([reader], dir, options))[0]!;
}

/**
 * Several readers on the same images in one run, taking turns image by
 * image (so that the machine's drift and noise fall on all of them alike);
 * one report per reader, in order. `onProgress` counts the first reader's
 * right reads.
 */
export async function evaluateSideBySide(
  readers: readonly PlateReader[],
  dir: string,
  options: EvalOptions = {},
): Promise<EvalReport[]> {
  const all = await loadDataset(dir);
  const items = options.limit !== undefined ? all.slice(0, options.limit) : all;
  const tallies = readers.map(() => new Tally());
  for (const [i, item] of items.entries()) {
    const path = resolve(dir, item.file);
    for (const [r, reader] of readers.entries()) {
      const trace = newReadTrace();
      const t0 = performance.now();
      let text = '';
      try {
        const reads = item.box ? await reader.read(path, {}, trace) : await reader.readCrop(path);
        text = reads[0]?.text ?? '';
      } catch (err) {
        text = `<error: ${(err as Error).message}>`;
      }
      tallies[r]!.add(item, text, performance.now() - t0, trace);
    }
    options.onProgress?.(i + 1, items.length, tallies[0]!.correct);
  }
  return tallies.map((t) => t.report(dir, items.length));
}

/** One reader's figures over a dataset, image by image. */
class Tally {
  readonly times: number[] = [];
  readonly errors: EvalError[] = [];
  correct = 0;
  private charsRight = 0;
  private charsTotal = 0;
  private scenes = 0;
  private detected = 0;
  private readonly stages = { decode: 0, detPre: 0, detRun: 0, detPost: 0, rec: 0 };

  add(item: LabelledImage, text: string, ms: number, trace: ReturnType<typeof newReadTrace>): void {
    this.times.push(ms);
    if (item.box) {
      this.scenes++;
      this.stages.decode += trace.decodeMs;
      this.stages.detPre += trace.detPreMs;
      this.stages.detRun += trace.detRunMs;
      this.stages.detPost += trace.detPostMs;
      this.stages.rec += trace.recMs;
      if (trace.boxes.some((q) => findsPlate(quadBounds(q), item.box!))) this.detected++;
    }
    const expectedLength = [...item.plate].length;
    this.charsTotal += expectedLength;
    this.charsRight += Math.max(0, expectedLength - editDistance(item.plate, text));
    if (text === item.plate) this.correct++;
    else this.errors.push({ file: item.file, expected: item.plate, read: text });
  }

  report(dir: string, images: number): EvalReport {
    const sorted = [...this.times].sort((a, b) => a - b);
    const round = (v: number): number => Math.round(v * 10) / 10;
    const { scenes, stages } = this;
    return {
      dataset: dir,
      images,
      plateAccuracy: images ? this.correct / images : 0,
      charAccuracy: this.charsTotal ? this.charsRight / this.charsTotal : 0,
      detectionRecall: scenes ? this.detected / scenes : null,
      msPerImage: {
        median: round(percentile(sorted, 50)),
        p95: round(percentile(sorted, 95)),
        p99: round(percentile(sorted, 99)),
        mean: round(this.times.reduce((s, t) => s + t, 0) / Math.max(1, this.times.length)),
      },
      stages: scenes
        ? {
            decode: round(stages.decode / scenes),
            detPre: round(stages.detPre / scenes),
            detRun: round(stages.detRun / scenes),
            detPost: round(stages.detPost / scenes),
            rec: round(stages.rec / scenes),
          }
        : null,
      errors: this.errors,
    };
  }
}

/**
 * A detected text box finds the labelled plate when it overlaps it with
 * IoU >= 0.5, or when it is the plate's text line: almost all of it inside
 * the plate box and covering a quarter of it or more (on US plates the
 * characters' line is much smaller than the plate with its state name and
 * slogan, so its IoU with the plate box is often just under 0.5).
 */
export function findsPlate(box: Rect, plate: Rect): boolean {
  if (rectIou(box, plate) >= 0.5) return true;
  const inside = rectIntersection(box, plate);
  return inside >= 0.8 * box.width * box.height && inside >= 0.25 * plate.width * plate.height;
}
