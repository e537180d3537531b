/**
 * TextRecognizer: reads upright text strips with PP-OCRv4 rec and returns
 * the CTC probabilities folded into the plate alphabet.
 *
 * Strips of similar width are batched into one run (padded on the right,
 * as PaddleOCR does), which costs less than one run per strip; strips of
 * very different widths run apart so padding does not eat the gain.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { CtcMatrix, PlateAlphabet } from './ctc-decoder.js';
import { ort } from './onnx-session.js';
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

export const defaultRecognizerOptions: RecognizerOptions = { batchWidthRatio: 1.3, maxBatch: 6, minWidth: 320 };

/** The model reduces width by 8: one time step per 8 input columns. */
const STEP = 8;

export class TextRecognizer {
  constructor(
    private readonly session: InferenceSession,
    private readonly alphabet: PlateAlphabet,
    readonly options: RecognizerOptions = defaultRecognizerOptions,
  ) {}

  async recognize(crops: readonly TextCrop[]): Promise<CtcMatrix[]> {
    const results = new Array<CtcMatrix>(crops.length);
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

  private async runBatch(crops: readonly TextCrop[]): Promise<CtcMatrix[]> {
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
    const out = await this.session.run({
      [this.session.inputNames[0]!]: new ort.Tensor('float32', data, [n, 3, REC_HEIGHT, width]),
    });
    const tensor = out[this.session.outputNames[0]!]!;
    const [, steps, classes] = tensor.dims as [number, number, number];
    if (classes !== this.alphabet.modelClasses) {
      throw new Error(`rec model outputs ${classes} classes; the dictionary implies ${this.alphabet.modelClasses}`);
    }
    const probs = tensor.data as Float32Array;
    return crops.map((crop, b) => {
      // only the time steps that cover this crop's own pixels, not the padding
      const own = Math.min(steps, Math.ceil(crop.width / STEP));
      return {
        probs: this.alphabet.reduce(probs, own, b * steps * classes),
        steps: own,
        columns: this.alphabet.columns,
      };
    });
  }
}
