/**
 * TextRecognizer: reads upright text strips with PP-OCRv4 rec and returns
 * the CTC probabilities folded into the plate alphabet.
 *
 * The recognisers share this code: `generic` (the model's own 6,625-class
 * output, folded into the plate alphabet), and `head` and `plate` (a head
 * trained for plates, plate-head.ts, over the sequence features the model
 * exposes when its session was made with that extra output; for `plate` the
 * model's neck is the trained one, patched in by plate-neck.ts).
 *
 * Strips of similar width are batched into one run (padded on the right,
 * as PaddleOCR does), which costs less than one run per strip; strips of
 * very different widths run apart so padding does not eat the gain.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { CtcMatrix, PlateAlphabet } from './ctc-decoder.js';
import { ort } from './onnx-session.js';
import type { PlateHead } from './plate-head.js';
import { FEATURES, FEATURE_OUTPUT } from './plate-head.js';
import { NECK_INPUT } from './plate-neck.js';
import type { TextCrop } from './rectifier.js';
import { REC_HEIGHT } from './rectifier.js';

export interface RecognizerOptions {
  /** strips whose widths differ by at most this factor share a batch */
  batchWidthRatio: number;
  /** at most this many strips per run */
  maxBatch: number;
  /**
   * strips narrower than this are padded on the right to it: the model was
   * trained on 320-wide padded strips and reads short text better so
   */
  minWidth: number;
}

/** One strip's read: its CTC matrix, and its sequence features when the session exposes them. */
export interface RecognizedStrip {
  matrix: CtcMatrix;
  /** [steps, 120], the same steps as the matrix; null when the session has no feature output */
  features: Float32Array | null;
}

export const defaultRecognizerOptions: RecognizerOptions = { batchWidthRatio: 1.3, maxBatch: 6, minWidth: 320 };

/** The model reduces width by 8: one time step per 8 input columns. */
const STEP = 8;

export class TextRecognizer {
  constructor(
    private readonly session: InferenceSession,
    private readonly alphabet: PlateAlphabet,
    readonly options: RecognizerOptions = defaultRecognizerOptions,
    /** the plate head, or null for the generic model's own output */
    private readonly head: PlateHead | null = null,
  ) {
    if (head && head.columns !== alphabet.columns)
      throw new RangeError('the plate head does not fit the plate alphabet');
  }

  /** The sequence features [steps, 120] of each crop (what the plate head reads; for training). */
  async features(crops: readonly TextCrop[]): Promise<Array<{ features: Float32Array; steps: number }>> {
    const [{ tensors, steps }] = await this.run(crops, [FEATURE_OUTPUT]);
    return crops.map((crop, b) => {
      const own = Math.min(steps, Math.ceil(crop.width / STEP));
      return { features: tensors.slice(b * steps * FEATURES, (b * steps + own) * FEATURES), steps: own };
    });
  }

  /**
   * The neck's input (`p2o.Concat.8`, plate-neck.ts) of each crop,
   * [channels][columns] channel-major, for training the neck: the crop's own
   * steps plus, where the run had one, the padding column after them (the
   * neck's convolution reads one step ahead). The session must have been
   * made with that tensor as an extra output.
   */
  async neckInputs(
    crops: readonly TextCrop[],
  ): Promise<Array<{ input: Float32Array; columns: number; steps: number }>> {
    const [{ tensors, dims }] = await this.run(crops, [NECK_INPUT]);
    const channels = dims[1]!;
    const steps = dims[dims.length - 1]!;
    return crops.map((crop, b) => {
      const own = Math.min(steps, Math.ceil(crop.width / STEP));
      const columns = Math.min(steps, own + 1);
      const input = new Float32Array(channels * columns);
      for (let c = 0; c < channels; c++) {
        const from = (b * channels + c) * steps;
        input.set(tensors.subarray(from, from + columns), c * columns);
      }
      return { input, columns, steps: own };
    });
  }

  async recognize(crops: readonly TextCrop[]): Promise<CtcMatrix[]> {
    return (await this.recognizeStrips(crops)).map((s) => s.matrix);
  }

  /**
   * The CTC matrix of each crop and, when the session exposes them (a
   * session made with the feature output, as for the plate head or the
   * plate-or-not classifier), its sequence features [steps, 120] from the
   * same run.
   */
  async recognizeStrips(crops: readonly TextCrop[]): Promise<RecognizedStrip[]> {
    const results = new Array<RecognizedStrip>(crops.length);
    const order = crops.map((c, i) => i).sort((a, b) => crops[a]!.width - crops[b]!.width);
    const runs: Promise<void>[] = [];
    let batch: number[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      const ids = batch;
      batch = [];
      runs.push(
        this.runBatch(ids.map((i) => crops[i]!)).then((ms) => {
          ids.forEach((id, k) => (results[id] = ms[k]!));
        }),
      );
    };
    for (const i of order) {
      const first = batch[0];
      if (
        first !== undefined &&
        (batch.length >= this.options.maxBatch || crops[i]!.width > crops[first]!.width * this.options.batchWidthRatio)
      ) {
        flush();
      }
      batch.push(i);
    }
    flush();
    // runs are queued on the same session; onnxruntime serialises or parallelises them safely
    await Promise.all(runs);
    return results;
  }

  private async runBatch(crops: readonly TextCrop[]): Promise<RecognizedStrip[]> {
    // only the time steps that cover each crop's own pixels, not the padding
    const ownSteps = (crop: TextCrop, steps: number): number => Math.min(steps, Math.ceil(crop.width / STEP));
    if (this.head) {
      const head = this.head;
      const [{ tensors, steps }] = await this.run(crops, [FEATURE_OUTPUT]);
      return crops.map((crop, b) => {
        const own = ownSteps(crop, steps);
        return {
          matrix: { probs: head.probs(tensors, own, b * steps * FEATURES), steps: own, columns: head.columns },
          features: tensors.slice(b * steps * FEATURES, (b * steps + own) * FEATURES),
        };
      });
    }
    const outputs = [this.session.outputNames[0]!, ...(this.exposesFeatures ? [FEATURE_OUTPUT] : [])];
    const [{ tensors: probs, steps, width: classes }, features] = await this.run(crops, outputs);
    if (classes !== this.alphabet.modelClasses) {
      throw new Error(`rec model outputs ${classes} classes; the dictionary implies ${this.alphabet.modelClasses}`);
    }
    return crops.map((crop, b) => {
      const own = ownSteps(crop, steps);
      return {
        matrix: {
          probs: this.alphabet.reduce(probs, own, b * steps * classes),
          steps: own,
          columns: this.alphabet.columns,
        },
        features: features ? features.tensors.slice(b * steps * FEATURES, (b * steps + own) * FEATURES) : null,
      };
    });
  }

  /** Whether the session was made with the sequence features as an extra output. */
  private get exposesFeatures(): boolean {
    return this.session.outputNames.includes(FEATURE_OUTPUT);
  }

  /** One run of the model over `crops` (padded to one width); each named output [N, steps, width] (`dims`: as it is). */
  private async run(
    crops: readonly TextCrop[],
    outputs: readonly string[],
  ): Promise<Array<{ tensors: Float32Array; steps: number; width: number; dims: readonly number[] }>> {
    const width = Math.ceil(Math.max(this.options.minWidth, ...crops.map((c) => c.width)) / STEP) * STEP;
    const n = crops.length;
    const plane = REC_HEIGHT * width;
    const data = new Float32Array(n * 3 * plane); // zero = mid grey after normalisation, as PaddleOCR pads
    crops.forEach((crop, b) => {
      if (crop.height !== REC_HEIGHT)
        throw new RangeError(`text crop must be ${REC_HEIGHT} px high, got ${crop.height}`);
      const px = crop.data;
      for (let c = 0; c < 3; c++) {
        const srcChannel = 2 - c; // RGB in, BGR to the model
        const base = (b * 3 + c) * plane;
        for (let y = 0; y < REC_HEIGHT; y++) {
          const rowIn = y * crop.width * 3 + srcChannel;
          const rowOut = base + y * width;
          for (let x = 0; x < crop.width; x++) data[rowOut + x] = px[rowIn + x * 3]! / 127.5 - 1;
        }
      }
    });
    const out = await this.session.run(
      { [this.session.inputNames[0]!]: new ort.Tensor('float32', data, [n, 3, REC_HEIGHT, width]) },
      [...outputs],
    );
    return outputs.map((name) => {
      const tensor = out[name];
      if (!tensor) throw new Error(`rec model has no output ${name} (was the session made with the feature output?)`);
      const [, steps, last] = tensor.dims as [number, number, number];
      return { tensors: tensor.data as Float32Array, steps, width: last, dims: tensor.dims };
    });
  }
}
