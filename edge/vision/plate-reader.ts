/**
 * PlateReader: frame in, plate reads out.
 *
 *   image -> TextDetector (text lines as rotated quads): on a large frame a
 *            coarse pass (long side 640) finds the likely plates and only
 *            their surroundings are detected again at full scale (960);
 *            the whole frame is detected at full scale only when that
 *            gives no confident read
 *         -> candidate lines (plate-like shapes; neighbours joined, since a
 *            detector often splits "ABC 1234" or "皖A·931Y9" at the gap;
 *            two lines stacked as a two-row plate's rows, two-row.ts)
 *         -> Rectifier (perspective warp to 48 px strips)
 *         -> TextRecognizer (CTC probabilities over the plate alphabet)
 *         -> constrained decoding against each plate format
 *         -> PlateCandidateScorer ranks them; overlapping reads are merged.
 *
 * Sessions are created once and shared by all calls; calls may overlap.
 */
import type { CompiledFormat, PlateFormat } from '../../proto/plate-syntax.js';
import { compileFormat, formatsFor } from '../../proto/plate-syntax.js';
import type { Country } from '../../proto/regions.js';
import { allCountries } from '../../proto/regions.js';
import type { CtcMatrix, CtcRead } from './ctc-decoder.js';
import { PlateAlphabet, decodeGreedy } from './ctc-decoder.js';
import type { FormatTuning } from './format-choice.js';
import { NO_MARKS, chooseFormat, defaultFormatTuning, type StripMarks } from './format-choice.js';
import { BAND_ROWS, bandRegion, isMercosurBand } from './mercosur-band.js';
import { plateColour } from './plate-colour.js';
import type { PlateColour } from './plate-colour.js';
import type { Quad, Rect } from './geometry.js';
import { growQuad, quadBounds, quadSize, rectIntersection, rectIou } from './geometry.js';
import type { ImageInput, ImageLimits, RgbImage } from './image-input.js';
import { decodeImage, defaultImageLimits } from './image-input.js';
import { ModelFiles } from './model-files.js';
import { createSession } from './onnx-session.js';
import { loadOpenCv } from './opencv.js';
import type { OpenCv } from './opencv.js';
import { rectify, resizeWhole } from './rectifier.js';
import { paintOutSeals } from './plate-seals.js';
import type { DetectorOptions, DetectorTimings, TextBox } from './text-detector.js';
import { TextDetector, clampRoi, defaultDetectorOptions } from './text-detector.js';
import { TextRecognizer, defaultRecognizerOptions } from './text-recognizer.js';
import { withGraphOutput } from './onnx-graph.js';
import { FEATURE_OUTPUT, PlateHead } from './plate-head.js';
import { neckModelFromFile } from './neck-model.js';
import type { RecognizerOptions } from './text-recognizer.js';
import { PlateOrNot } from './plate-or-not.js';
import { imageRows, isTopRow, joinRows, stackedRowPairs, twoRowQuad, twoRowSplit } from './two-row.js';

export interface PlateRead {
  /** normalised plate text: A-Z, 0-9 and, for Chinese plates, the province character first */
  text: string;
  /** 0..1: the weakest character's confidence */
  confidence: number;
  charConfidences: number[];
  /** corners in frame pixels: tl, tr, br, bl */
  box: Quad;
  /** the countries whose format the read fits, joined by / (e.g. "CN", "US", "FR/IT/SK") */
  region: string;
  /** the plate format the read fits, e.g. "CN blue", "SK/FR/IT", "US generic" */
  format: string;
}

export interface ReadOptions {
  /** only look inside this part of the frame (a lane's plate area) */
  roi?: Rect;
}

/**
 * which recogniser reads the text lines: `plate`, PP-OCRv4 with its last two
 * convolutions and last layer trained for plates (models/plate-neck.json);
 * `head`, only its last layer trained (models/plate-head.json); `generic`,
 * PP-OCRv4's own output
 */
export type RecognizerKind = 'generic' | 'plate' | 'head';
export const recognizerKinds: readonly RecognizerKind[] = ['generic', 'plate', 'head'];
/** the neck and head trained for plates: on the dev sets it reads at least as well as the others (models/plate-neck.md) */
export const defaultRecognizerKind: RecognizerKind = 'plate';

export interface PlateReaderOptions {
  /** intra-op threads per ONNX session (default 2) */
  threads: number;
  /**
   * the recogniser (default `plate`: models/plate-neck.json, see plate-neck.ts; `head`: models/plate-head.json,
   * see plate-head.ts; `generic`: PP-OCRv4's own output)
   */
  recognizerKind: RecognizerKind;
  detector: Partial<DetectorOptions>;
  /**
   * weigh each text line by how much it looks like a plate rather than
   * other text on a car (models/plate-or-not.json, see plate-or-not.ts):
   * a line the classifier judges not a plate loses up to this much rank
   * score (see plateOrNotPenalty; 0: off, and the classifier is not loaded)
   */
  plateOrNotWeight: number;
  /** countries whose plate formats are accepted (default all; see proto/regions.ts) */
  regions: readonly Country[];
  /** at most this many text lines are read per frame (default 8) */
  maxCandidates: number;
  /** margins added around each text line before it is read, as fractions of its height */
  stripPadding: { x: number; y: number };
  /** text lines are read this many at a time, most plate-like first (default 1) */
  roundSize: number;
  /**
   * reading stops after a round that produced a read ranked at least this
   * high that fits a specific plate format (a generic fit may be part of a
   * plate, e.g. the digits of a split line)
   */
  confidentScore: number;
  /**
   * a first detection pass at this long side finds the likely plates, which
   * are then detected again at full scale on their own; only when that
   * gives no confident read is the whole frame detected at full scale
   * (0: always detect the whole frame at full scale)
   */
  coarseSide: number;
  /** the coarse pass's most plate-like lines that are looked at again */
  coarseRegions: number;
  /**
   * those of them at least this tall (pixels at the coarse scale) are first
   * read from the coarse boxes, before any full-scale detection (default 16;
   * measured: CCPD median 103 -> 69 ms, same reads)
   */
  coarseReadHeight: number;
  limits: ImageLimits;
  /** how formats are weighed against each other (see format-choice.ts) */
  formatTuning: FormatTuning;
  recognizer: Partial<RecognizerOptions>;
  modelFiles?: ModelFiles;
}

/** What one read did and how long each stage took; pass an empty one to collect it. */
export interface ReadTrace {
  decodeMs: number;
  detPreMs: number;
  detRunMs: number;
  detPostMs: number;
  recMs: number;
  /** every text box the detector found, in frame pixels */
  boxes: Quad[];
  /** the lines that were read, with their best read */
  candidates: Array<{
    quad: Quad;
    text: string;
    format: string;
    score: number;
    fitCost: number;
    colour: PlateColour;
    /** the plate-or-not classifier's probability that the line is a plate (null when it is off) */
    plateProbability: number | null;
  }>;
}

export const newReadTrace = (): ReadTrace => ({
  decodeMs: 0,
  detPreMs: 0,
  detRunMs: 0,
  detPostMs: 0,
  recMs: 0,
  boxes: [],
  candidates: [],
});

export const defaultPlateReaderOptions: PlateReaderOptions = {
  threads: 2,
  detector: {},
  regions: allCountries,
  maxCandidates: 8,
  stripPadding: { x: 0.08, y: -0.08 },
  roundSize: 1,
  confidentScore: 1.5,
  coarseSide: 640,
  coarseRegions: 3,
  coarseReadHeight: 16,
  limits: defaultImageLimits,
  formatTuning: defaultFormatTuning,
  recognizer: {},
  recognizerKind: defaultRecognizerKind,
  plateOrNotWeight: 3,
};

export class PlateReader {
  /** whether the regions' formats include a Mercosur series, so lines are looked at for the band */
  private readonly readsMercosur: boolean;

  private constructor(
    private readonly cv: OpenCv,
    private readonly detector: TextDetector,
    private readonly recognizer: TextRecognizer,
    private readonly alphabet: PlateAlphabet,
    private readonly formats: CompiledFormat[],
    private readonly plateOrNot: PlateOrNot | null,
    readonly options: PlateReaderOptions,
  ) {
    this.readsMercosur = formats.some((f) => f.format.mercosur);
  }

  static async create(options: Partial<PlateReaderOptions> = {}): Promise<PlateReader> {
    const opts: PlateReaderOptions = { ...defaultPlateReaderOptions, ...options };
    const files = opts.modelFiles ?? new ModelFiles();
    const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    const alphabet = new PlateAlphabet(dictionary);
    if (!recognizerKinds.includes(opts.recognizerKind)) {
      throw new RangeError(
        `recognizer must be one of ${recognizerKinds.join(', ')}, got ${String(opts.recognizerKind)}`,
      );
    }
    if (!(opts.plateOrNotWeight >= 0)) {
      throw new RangeError(`plateOrNotWeight must be a number >= 0, got ${String(opts.plateOrNotWeight)}`);
    }
    const json = (name: string): unknown => JSON.parse(files.bytes(name).toString('utf8'));
    // the plate recogniser's trained neck is written into the rec model's Constant nodes; its head runs here
    const neck = opts.recognizerKind === 'plate' ? neckModelFromFile(json('plate-neck'), alphabet) : null;
    const shippedHead =
      neck?.head ?? (opts.recognizerKind === 'head' ? PlateHead.fromFile(json('plate-head'), alphabet) : null);
    // a head trained before the special series' characters joined the alphabet reads them with the generic columns
    const head =
      shippedHead && shippedHead.columns < alphabet.columns
        ? shippedHead.completedFrom(PlateHead.fromGeneric(files.bytes('rec'), dictionary, alphabet))
        : shippedHead;
    const plateOrNot = opts.plateOrNotWeight > 0 ? PlateOrNot.fromFile(json('plate-or-not')) : null;
    const model = neck ? neck.neck.patch(files.bytes('rec')) : files.bytes('rec');
    // the sequence features are an extra output of the same run (the plate head and plate-or-not read them)
    const recBytes = head || plateOrNot ? withGraphOutput(model, FEATURE_OUTPUT) : model;
    const [cv, det, rec] = await Promise.all([
      loadOpenCv(),
      createSession(files.bytes('det'), { intraOp: opts.threads }),
      createSession(recBytes, { intraOp: opts.threads }),
    ]);
    // formats with a character the recogniser cannot output are left out (every known one can, since the special series' 警, 港, ... joined the alphabet)
    const formats = formatsFor(opts.regions)
      .map(compileFormat)
      .filter((f) => f.positions.every((set) => [...set].every((c) => alphabet.has(c))));
    if (formats.length === 0) throw new RangeError(`no plate formats for regions ${opts.regions.join(', ')}`);
    const detector = new TextDetector(det, cv, { ...defaultDetectorOptions, ...opts.detector });
    return new PlateReader(
      cv,
      detector,
      new TextRecognizer(rec, alphabet, { ...defaultRecognizerOptions, ...opts.recognizer }, head),
      alphabet,
      formats,
      plateOrNot,
      opts,
    );
  }

  /** Plate reads in a scene, best first. */
  async read(input: ImageInput, options: ReadOptions = {}, trace?: ReadTrace): Promise<PlateRead[]> {
    const t0 = performance.now();
    const image = await decodeImage(input, this.options.limits);
    if (trace) trace.decodeMs += performance.now() - t0;
    return this.readImage(image, options, trace);
  }

  async readImage(image: RgbImage, options: ReadOptions = {}, trace?: ReadTrace): Promise<PlateRead[]> {
    const detTimings = { preMs: 0, runMs: 0, postMs: 0 };
    const session = new ReadSession(image, trace);
    const area = clampRoi(options.roi, image);
    // a region of interest crops, it does not zoom: text keeps the size it has in a full-frame pass
    const fineScale = Math.min(this.detector.scaleFor(area), this.detector.scaleFor(image));
    const coarseScale = this.detector.scaleFor(area, this.options.coarseSide);
    let confident = false;
    if (this.options.coarseSide > 0 && coarseScale < 0.8 * fineScale) {
      // a cheap pass finds where text is; the most plate-like places are then detected again at full scale
      const coarse = await this.detect(image, area, detTimings, coarseScale, trace);
      const lines = this.candidateLines(coarse);
      const likely = lines.slice(0, this.options.coarseRegions);
      // lines the coarse pass already sees large are read from its boxes; kept only if that is confident
      // (a line counts as read once, so a weaker read would shadow the full-scale one)
      const large = likely.filter((l) => l.height * coarseScale >= this.options.coarseReadHeight);
      if (large.length > 0) {
        const mark = session.mark();
        confident = await this.readLines(session, large);
        if (!confident) session.rollBack(mark);
      }
      for (const region of confident ? [] : plateRegions(likely, area)) {
        const boxes = await this.detect(image, region, detTimings, fineScale, trace);
        if (await this.readLines(session, this.candidateLines(boxes))) {
          confident = true;
          break;
        }
      }
    }
    if (!confident) {
      // the whole area at its own scale is stretched to multiples of 32 rather than padded (measured:
      // padding reads fewer plates); only a region that would be zoomed is detected at the frame's scale
      const zooms = this.detector.scaleFor(area) > fineScale;
      const boxes = await this.detect(image, area, detTimings, zooms ? fineScale : undefined, trace);
      await this.readLines(session, this.candidateLines(boxes));
    }
    if (trace) {
      trace.detPreMs += detTimings.preMs;
      trace.detRunMs += detTimings.runMs;
      trace.detPostMs += detTimings.postMs;
    }
    return session.best();
  }

  private async detect(image: RgbImage, area: Rect, timings: DetectorTimings, scale?: number, trace?: ReadTrace) {
    const boxes = await this.detector.detect(image, area, timings, scale);
    trace?.boxes.push(...boxes.map((b) => b.quad));
    return boxes;
  }

  /**
   * Reads candidate lines a few at a time, most plate-like first, skipping
   * lines already read; stops after a round that produced a read that fits
   * a specific format and is ranked at least `confidentScore`. Returns
   * whether it did.
   */
  private async readLines(session: ReadSession, candidates: CandidateLine[]): Promise<boolean> {
    const { image, trace } = session;
    const fresh = candidates.filter((c) => !session.hasRead(c.quad));
    const maxHeight = Math.max(session.maxHeight, ...fresh.map((c) => c.height));
    session.maxHeight = maxHeight;
    const { roundSize, confidentScore } = this.options;
    for (let start = 0; start < fresh.length; start += roundSize) {
      const round = fresh.slice(start, start + roundSize);
      const t0 = performance.now();
      // a two-row plate's rows are read as strips of their own, top row first
      const crops = rectify(
        this.cv,
        image,
        round.flatMap((c) => c.rows ?? [c.quad]),
      );
      // the region along each one-row line's top edge, where a Mercosur plate has its blue band
      const bands = this.readsMercosur
        ? rectify(
            this.cv,
            image,
            round.filter((c) => !c.rows).map((c) => bandRegion(c.line)),
            BAND_ROWS,
          )
        : [];
      // seals between characters (German plates) are painted out, or they are read as B or 8
      const painted = crops.map((c) => paintOutSeals(c));
      const strips = await this.recognizer.recognizeStrips(painted.map((p) => p.crop));
      if (trace) trace.recMs += performance.now() - t0;
      let next = 0;
      round.forEach((cand) => {
        session.readQuads.push(cand.quad);
        const rows = cand.rows ? 2 : 1;
        const own = strips.slice(next, next + rows);
        // colour and plate-or-not from the last (for two rows, the bottom) strip, which holds most characters
        const last = own[rows - 1]!;
        const colour = plateColour(crops[next + rows - 1]!.data);
        const marks: StripMarks = {
          seals: painted[next + rows - 1]!.seals.length > 0,
          mercosurBand: rows === 1 && this.readsMercosur && isMercosurBand(bands.shift()!, cand.line, colour),
        };
        next += rows;
        // a top row is a two-row plate's only when it reads as one: a province character and a letter
        if (rows === 2 && !isTopRow(decodeGreedy(own[0]!.matrix, this.alphabet).text)) return;
        const matrix = rows === 2 ? joinRows(own[0]!.matrix, last.matrix) : last.matrix;
        const best = this.choose(matrix, colour, marks);
        if (!best) return;
        const plateProbability =
          this.plateOrNot && last.features ? this.plateOrNot.probability(last.features, last.matrix.steps) : null;
        const score =
          rankScore(best.read, best.format, best.fitCost, cand.height / maxHeight, cand.detScore) +
          // seals between the characters are found on plates, not on signs, badges or stickers
          (marks.seals ? SEALS_RANK_BONUS : 0) -
          (looksLikeOverlay(best.read.text, cand.quad, image.height) ? 5 : 0) -
          plateOrNotPenalty(plateProbability, this.options.plateOrNotWeight);
        session.scored.push({
          score,
          specific: best.format.specific,
          read: toPlateRead(best.read, best.format, cand.quad),
        });
        trace?.candidates.push({
          quad: cand.quad,
          text: best.read.text,
          format: best.format.name,
          score,
          fitCost: best.fitCost,
          colour,
          plateProbability,
        });
      });
      if (session.scored.some((s) => s.specific && s.score >= confidentScore)) return true;
    }
    return false;
  }

  /**
   * Reads an image that is already one plate (a crop), e.g. from a
   * plate-crop dataset. A crop shaped like a two-row plate, with a gap
   * between two rows, is also read row by row (two-row.ts); that read is
   * kept when it fits a specific format and the whole crop's read does not,
   * or fits better.
   */
  async readCrop(input: ImageInput): Promise<PlateRead[]> {
    const image = await decodeImage(input, this.options.limits);
    const { crop, seals } = paintOutSeals(resizeWhole(this.cv, image));
    const split = twoRowSplit(image);
    const rows = split === null ? [] : [imageRows(image, 0, split), imageRows(image, split, image.height)];
    const [matrix, top, bottom] = await this.recognizer.recognize([crop, ...rows.map((r) => resizeWhole(this.cv, r))]);
    let best = this.choose(matrix!, plateColour(crop.data), { ...NO_MARKS, seals: seals.length > 0 });
    if (top && bottom) {
      // two rows that fit a plate series exactly explain the crop better than the squeezed whole unless that
      // fits one too (a US plate's state name over its characters splits as well, into a read that fits none)
      const twoRows = this.choose(joinRows(top, bottom), plateColour(crop.data));
      const wholeSpecific = best?.format.specific ?? false;
      if (twoRows?.format.specific && (!wholeSpecific || twoRows.value > best!.value)) best = twoRows;
    }
    if (!best) return [];
    const quad: Quad = [
      { x: 0, y: 0 },
      { x: image.width, y: 0 },
      { x: image.width, y: image.height },
      { x: 0, y: image.height },
    ];
    return [toPlateRead(best.read, best.format, quad)];
  }

  private choose(m: CtcMatrix, colour: PlateColour, marks: StripMarks = NO_MARKS) {
    return chooseFormat(m, this.alphabet, this.formats, colour, this.options.formatTuning, marks);
  }

  /** Text lines worth reading: plate-like shapes, plus neighbouring lines joined. */
  private candidateLines(boxes: TextBox[]): CandidateLine[] {
    const lines = boxes
      .map((b) => ({ quad: b.quad, detScore: b.score, ...quadSize(b.quad) }))
      .filter((l) => l.height >= 6 && l.width / l.height >= 0.8 && l.width / l.height <= 16);
    const joined: typeof lines = [];
    for (const a of lines) {
      for (const b of lines) {
        if (a === b) continue;
        const gap = b.quad[0].x - a.quad[1].x;
        const hRatio = Math.max(a.height, b.height) / Math.min(a.height, b.height);
        const dy = Math.abs((a.quad[0].y + a.quad[3].y) / 2 - (b.quad[0].y + b.quad[3].y) / 2);
        if (gap > -0.3 * a.height && gap < 1.2 * a.height && hRatio < 1.4 && dy < 0.35 * a.height) {
          const quad: Quad = [a.quad[0], b.quad[1], b.quad[2], a.quad[3]];
          joined.push({ quad, detScore: Math.min(a.detScore, b.detScore), ...quadSize(quad) });
        }
      }
    }
    const { x: padX, y: padY } = this.options.stripPadding;
    const strip = (quad: Quad, height: number) => growQuad(quad, padX * height, padY * height);
    const all: CandidateLine[] = [...lines, ...joined]
      .filter((l) => l.width / l.height >= 1.2 && l.width / l.height <= 16)
      .map((l) => ({ quad: strip(l.quad, l.height), line: l.quad, height: l.height, detScore: l.detScore }));
    // two lines stacked as a two-row plate's rows: ranked by the bottom row, whose characters are the plate's largest
    for (const { top, bottom } of stackedRowPairs(lines)) {
      const quad = twoRowQuad(top.quad, bottom.quad);
      all.push({
        quad,
        line: quad,
        height: bottom.height,
        detScore: Math.min(top.detScore, bottom.detScore),
        rows: [strip(top.quad, top.height), strip(bottom.quad, bottom.height)],
      });
    }
    all.sort((a, b) => b.height * b.detScore - a.height * a.detScore);
    return all.slice(0, this.options.maxCandidates);
  }

  async close(): Promise<void> {
    // sessions are released with the process; kept for interface symmetry with I/O owners
  }
}

/**
 * A text line worth reading: its strip (the line with margins), the line
 * itself, height and detector score; for a two-row plate the strip and line
 * are around both rows, `rows` the strips of its top and bottom rows.
 */
interface CandidateLine {
  quad: Quad;
  line: Quad;
  height: number;
  detScore: number;
  rows?: [Quad, Quad];
}

/** What one call to readImage has read so far. */
class ReadSession {
  readonly scored: Array<{ read: PlateRead; score: number; specific: boolean }> = [];
  readonly readQuads: Quad[] = [];
  /** the tallest candidate line seen so far (heights are ranked relative to it) */
  maxHeight = 1;

  constructor(
    readonly image: RgbImage,
    readonly trace: ReadTrace | undefined,
  ) {}

  /** What has been read so far, to roll back to. */
  mark(): { scored: number; quads: number; maxHeight: number } {
    return { scored: this.scored.length, quads: this.readQuads.length, maxHeight: this.maxHeight };
  }

  /** Forgets what was read since `mark`. */
  rollBack(mark: { scored: number; quads: number; maxHeight: number }): void {
    this.scored.length = mark.scored;
    this.readQuads.length = mark.quads;
    this.maxHeight = mark.maxHeight;
  }

  /** A line counts as read when a strip read before covers nearly the same place. */
  hasRead(q: Quad): boolean {
    const b = quadBounds(q);
    return this.readQuads.some((r) => rectIou(quadBounds(r), b) > 0.8);
  }

  /** One read per place in the frame, best first: reads whose boxes overlap a better one are dropped. */
  best(): PlateRead[] {
    const sorted = [...this.scored].sort((a, b) => b.score - a.score);
    const kept: typeof sorted = [];
    for (const s of sorted) {
      const b = quadBounds(s.read.box);
      if (!kept.some((k) => rectIou(quadBounds(k.read.box), b) > 0.3 || sameLine(k.read.box, s.read.box))) kept.push(s);
    }
    return kept.map((k) => k.read);
  }
}

/**
 * Where to look again at full scale after a coarse pass: around each
 * candidate line, a margin of one line height above and below and of 1.5
 * at each end (where a split plate's other half may be); clipped to the
 * area, overlapping regions merged, in the order of the lines given.
 */
function plateRegions(lines: readonly CandidateLine[], area: Rect): Rect[] {
  const regions: Rect[] = [];
  for (const l of lines) {
    const b = quadBounds(l.line);
    const mx = 1.5 * l.height;
    const my = 1.0 * l.height;
    const x0 = Math.max(area.x, Math.floor(b.x - mx));
    const y0 = Math.max(area.y, Math.floor(b.y - my));
    const x1 = Math.min(area.x + area.width, Math.ceil(b.x + b.width + mx));
    const y1 = Math.min(area.y + area.height, Math.ceil(b.y + b.height + my));
    if (x1 - x0 < 8 || y1 - y0 < 8) continue;
    let r: Rect = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    const overlapping = regions.findIndex((o) => rectIntersection(o, r) > 0);
    if (overlapping >= 0) {
      const o = regions[overlapping]!;
      const ux = Math.min(o.x, r.x);
      const uy = Math.min(o.y, r.y);
      r = {
        x: ux,
        y: uy,
        width: Math.max(o.x + o.width, r.x + r.width) - ux,
        height: Math.max(o.y + o.height, r.y + r.height) - uy,
      };
      regions[overlapping] = r;
    } else regions.push(r);
  }
  return regions;
}

function toPlateRead(read: CtcRead, format: PlateFormat, box: Quad): PlateRead {
  return {
    text: read.text,
    confidence: read.charConfidences.length ? Math.min(...read.charConfidences) : 0,
    charConfidences: read.charConfidences,
    box,
    region: format.countries.join('/'),
    format: format.name,
  };
}

/** Rank gained by a line with seals between its characters (plate-seals.ts), as much as a specific format's. */
const SEALS_RANK_BONUS = 1;

/** Ranks a candidate line's best read among the other lines of the same frame. */
function rankScore(read: CtcRead, format: PlateFormat, fitCost: number, relHeight: number, detScore: number): number {
  const n = Math.max(1, read.text.length);
  const meanLogConf = read.charConfidences.reduce((s, c) => s + Math.log(c + 1e-6), 0) / n;
  let score = meanLogConf - 0.3 * fitCost;
  if (format.specific) score += 1;
  score += 1.5 * relHeight + 0.5 * detScore;
  if (!/[0-9]/.test(read.text)) score -= 1.5; // plates without any digit are rare (vanity plates)
  if (/^[0-9]+$/.test(read.text) && n >= 7) score -= 1; // dates and phone numbers
  return score;
}

/**
 * Rank lost by a line the plate-or-not classifier doubts: nothing at a
 * plate probability of 0.5 or more, rising to `weight` at 0. Only clear
 * evidence counts, because real plates unlike the training data (US plates
 * with state artwork, measured) get probabilities near 0.5 while badges and
 * dealer names get nearly 0.
 */
export function plateOrNotPenalty(plateProbability: number | null, weight: number): number {
  return plateProbability === null ? 0 : weight * Math.max(0, 1 - 2 * plateProbability);
}

/**
 * Camera overlays (date and time burned into a top or bottom band) are
 * digits-only text hugging the frame's top or bottom edge, or a date.
 */
function looksLikeOverlay(text: string, quad: Quad, frameHeight: number): boolean {
  const b = quadBounds(quad);
  const nearEdge = b.y < 0.07 * frameHeight || b.y + b.height > 0.93 * frameHeight;
  const digitsOnly = /^[0-9]+$/.test(text);
  const dateLike = /^(19|20)[0-9]{2}(0[1-9]|1[0-2])/.test(text);
  return (nearEdge && digitsOnly) || dateLike;
}

/** Two boxes on the same text line (one contains the other's centre). */
function sameLine(a: Quad, b: Quad): boolean {
  const inside = (q: Quad, p: { x: number; y: number }): boolean => {
    const r = quadBounds(q);
    return p.x >= r.x && p.x <= r.x + r.width && p.y >= r.y && p.y <= r.y + r.height;
  };
  const centre = (q: Quad) => ({ x: (q[0].x + q[2].x) / 2, y: (q[0].y + q[2].y) / 2 });
  return inside(a, centre(b)) || inside(b, centre(a));
}
