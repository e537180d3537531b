/**
 * CTC decoding of the recognition model's output, restricted to the plate
 * alphabet and, when asked, to a plate format. Pure functions, no I/O.
 *
 * The rec model scores 6625 classes per time step. `PlateAlphabet.reduce`
 * folds them into the plate alphabet (0-9, A-Z, province characters, then
 * the characters of the Chinese special series: 警学挂使领港澳应急) plus a
 * blank: lower-case and full-width forms add to their upper-case letter,
 * separators (space, dash, dot) add to the blank, everything else is
 * dropped. `decodeGreedy` is the usual best-path decode; `decodeFormat` is
 * an exact Viterbi search for the best CTC path whose collapsed labels fit
 * a format position by position. Because it searches alignments too, a
 * syntax can fix a character (a digit where the model leaned to O) without
 * inventing or losing one.
 */
import type { CompiledFormat } from '../../proto/plate-syntax.js';
import { plateSeparators, provinces, specialSeriesCharacters } from '../../proto/plate-syntax.js';

const SEPARATORS = new Set(plateSeparators);

export class PlateAlphabet {
  /** symbol of each reduced column after the blank (column 0) */
  readonly symbols: string[];
  private readonly columnOf: Map<string, number>;
  /** for every model class: its reduced column, 0 for blank-like, -1 for dropped */
  private readonly mapping: Int32Array;

  /** `dictionary` lists the model's classes 1..n in order; class 0 is blank, class n+1 a space. */
  constructor(dictionary: readonly string[]) {
    this.symbols = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', ...provinces, ...specialSeriesCharacters];
    this.columnOf = new Map(this.symbols.map((s, i) => [s, i + 1]));
    const classes = ['<blank>', ...dictionary, ' '];
    this.mapping = new Int32Array(classes.length);
    classes.forEach((c, k) => {
      if (k === 0 || SEPARATORS.has(c)) {
        this.mapping[k] = 0;
        return;
      }
      const n = c.normalize('NFKC').toUpperCase();
      this.mapping[k] = this.columnOf.get(n) ?? (SEPARATORS.has(n) ? 0 : -1);
    });
  }

  get modelClasses(): number {
    return this.mapping.length;
  }

  get columns(): number {
    return this.symbols.length + 1;
  }

  has(symbol: string): boolean {
    return this.columnOf.has(symbol);
  }

  column(symbol: string): number {
    const c = this.columnOf.get(symbol);
    if (c === undefined) throw new Error(`"${symbol}" is not in the plate alphabet`);
    return c;
  }

  /** Folds one sequence of model probabilities [T, modelClasses] into [T, columns]. */
  reduce(probs: Float32Array, steps: number, offset = 0): Float32Array {
    const k = this.modelClasses;
    const cols = this.columns;
    const out = new Float32Array(steps * cols);
    for (let t = 0; t < steps; t++) {
      const base = offset + t * k;
      const row = t * cols;
      for (let c = 0; c < k; c++) {
        const m = this.mapping[c]!;
        if (m >= 0) out[row + m] += probs[base + c]!;
      }
    }
    return out;
  }
}

/** A reduced CTC matrix: `steps` rows of `columns` probabilities, column 0 the blank. */
export interface CtcMatrix {
  probs: Float32Array;
  steps: number;
  columns: number;
}

export interface CtcRead {
  text: string;
  /** log-probability of the best path */
  logScore: number;
  /** per character: probability of that character among the classes its position allows */
  charConfidences: number[];
  /** per character: first and last time step it occupies */
  spans: Array<[number, number]>;
}

const LOG_FLOOR = 1e-9;
const lg = (p: number): number => Math.log(p + LOG_FLOOR);

/** Best-path decode over the plate alphabet. */
export function decodeGreedy(m: CtcMatrix, alphabet: PlateAlphabet): CtcRead {
  const { probs, steps, columns } = m;
  let text = '';
  let logScore = 0;
  const charConfidences: number[] = [];
  const spans: Array<[number, number]> = [];
  let prev = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = probs[t * columns]!;
    let total = bestP;
    for (let c = 1; c < columns; c++) {
      const p = probs[t * columns + c]!;
      total += p;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    logScore += lg(bestP);
    if (best !== 0 && best !== prev) {
      text += alphabet.symbols[best - 1];
      charConfidences.push(total > 0 ? bestP / total : 0);
      spans.push([t, t]);
    } else if (best !== 0 && best === prev) {
      const i = charConfidences.length - 1;
      charConfidences[i] = Math.max(charConfidences[i]!, total > 0 ? bestP / total : 0);
      spans[i]![1] = t;
    }
    prev = best;
  }
  return { text, logScore, charConfidences, spans };
}

/** Each matrix's log-probabilities, computed once: a strip is decoded once per plate format. */
const logCache = new WeakMap<CtcMatrix, Float64Array>();

function logProbabilities(m: CtcMatrix): Float64Array {
  let logs = logCache.get(m);
  if (!logs) {
    logs = new Float64Array(m.probs.length);
    for (let k = 0; k < logs.length; k++) logs[k] = lg(m.probs[k]!);
    logCache.set(m, logs);
  }
  return logs;
}

/**
 * Exact best CTC path whose labels fit `format`: each label i comes from
 * format.positions[i], the label count is between minLength and the
 * pattern's length, and equal neighbouring labels are separated by a blank
 * (the CTC rule). Returns null when no path fits (too few time steps).
 */
export function decodeFormat(m: CtcMatrix, alphabet: PlateAlphabet, format: CompiledFormat): CtcRead | null {
  const { steps: T, columns } = m;
  const L = format.positions.length;
  if (T < format.minLength) return null;
  const sets = format.positions.map((chars) => [...chars].map((ch) => alphabet.column(ch)));
  const logs = logProbabilities(m);
  const NEG = -Infinity;
  // lab[t][i][j]: best score with frame t emitting the j-th allowed symbol as label i
  // blk[t][i]: best score with frame t blank after i labels
  const lab: Float64Array[][] = [];
  const blk: Float64Array[] = [];
  // back pointers: for lab, how we got here: 0 = stayed, 1 = from blank, 2 = from previous label (store j' + 2)
  const labFrom: Int32Array[][] = [];
  const blkFrom: Int32Array[] = []; // -1 = stayed blank, j = came from label i (symbol j)
  for (let t = 0; t < T; t++) {
    const logRow = logs.subarray(t * columns, (t + 1) * columns);
    const labT: Float64Array[] = [];
    const fromT: Int32Array[] = [];
    const blkT = new Float64Array(L + 1).fill(NEG);
    const blkFromT = new Int32Array(L + 1).fill(-2);
    for (let i = 0; i < L; i++) {
      const set = sets[i]!;
      const row = new Float64Array(set.length).fill(NEG);
      const from = new Int32Array(set.length).fill(-1);
      // best and second-best previous label i-1 at t-1 (for "different symbol" transitions)
      let best1 = NEG;
      let best1j = -1;
      let best1col = -1;
      let best2 = NEG;
      let best2j = -1;
      if (t > 0 && i > 0) {
        const prevRow = lab[t - 1]![i - 1]!;
        const prevSet = sets[i - 1]!;
        for (let j = 0; j < prevRow.length; j++) {
          const v = prevRow[j]!;
          if (v > best1) {
            best2 = best1;
            best2j = best1j;
            best1 = v;
            best1j = j;
            best1col = prevSet[j]!;
          } else if (v > best2) {
            best2 = v;
            best2j = j;
          }
        }
      }
      for (let j = 0; j < set.length; j++) {
        const col = set[j]!;
        let score = NEG;
        let how = -1;
        if (t === 0) {
          if (i === 0) {
            score = 0;
            how = 1;
          }
        } else {
          const stay = lab[t - 1]![i]![j]!;
          if (stay > score) {
            score = stay;
            how = 0;
          }
          const fromBlank = blk[t - 1]![i]!;
          if (fromBlank > score) {
            score = fromBlank;
            how = 1;
          }
          if (i > 0) {
            const v = best1col !== col ? best1 : best2;
            const vj = best1col !== col ? best1j : best2j;
            if (v > score) {
              score = v;
              how = vj + 2;
            }
          }
        }
        if (score > NEG) {
          row[j] = score + logRow[col]!;
          from[j] = how;
        }
      }
      labT.push(row);
      fromT.push(from);
    }
    for (let i = 0; i <= L; i++) {
      let score = NEG;
      let how = -2;
      if (t === 0) {
        if (i === 0) {
          score = 0;
          how = -1;
        }
      } else {
        if (blk[t - 1]![i]! > score) {
          score = blk[t - 1]![i]!;
          how = -1;
        }
        if (i > 0) {
          const prevRow = lab[t - 1]![i - 1]!;
          for (let j = 0; j < prevRow.length; j++) {
            if (prevRow[j]! > score) {
              score = prevRow[j]!;
              how = j;
            }
          }
        }
      }
      if (score > NEG) {
        blkT[i] = score + logRow[0]!;
        blkFromT[i] = how;
      }
    }
    lab.push(labT);
    labFrom.push(fromT);
    blk.push(blkT);
    blkFrom.push(blkFromT);
  }
  // best end state with a label count in [minLength, L]
  let bestScore = NEG;
  let endLabel = -1; // number of labels
  let endKind: 'blank' | 'label' = 'blank';
  let endJ = -1;
  for (let n = format.minLength; n <= L; n++) {
    if (blk[T - 1]![n]! > bestScore) {
      bestScore = blk[T - 1]![n]!;
      endLabel = n;
      endKind = 'blank';
    }
    if (n === 0) continue; // no label state for an empty read
    const row = lab[T - 1]![n - 1]!;
    for (let j = 0; j < row.length; j++) {
      if (row[j]! > bestScore) {
        bestScore = row[j]!;
        endLabel = n;
        endKind = 'label';
        endJ = j;
      }
    }
  }
  if (bestScore === NEG) return null;
  const labels: number[] = new Array<number>(endLabel).fill(-1);
  const spans: Array<[number, number]> = Array.from({ length: endLabel }, () => [T, -1] as [number, number]);
  return traceBack(labFrom, blkFrom, sets, alphabet, m, endLabel, endKind, endJ, bestScore, labels, spans);
}

/** Follows the back pointers from the best end state and fills in labels, spans and confidences. */
function traceBack(
  labFrom: Int32Array[][],
  blkFrom: Int32Array[],
  sets: number[][],
  alphabet: PlateAlphabet,
  m: CtcMatrix,
  count: number,
  endKind: 'blank' | 'label',
  endJ: number,
  logScore: number,
  labels: number[],
  spans: Array<[number, number]>,
): CtcRead {
  const T = m.steps;
  // state: blank after `n` labels, or label index `i` with symbol `j`
  let inBlank = endKind === 'blank';
  let n = count; // used when inBlank
  let i = count - 1; // used when in label
  let j = endJ;
  for (let t = T - 1; t >= 0; t--) {
    if (inBlank) {
      const how = blkFrom[t]![n]!;
      if (how >= 0) {
        // frame t-1 was label n-1 with symbol `how`
        inBlank = false;
        i = n - 1;
        j = how;
      }
      continue;
    }
    labels[i] = sets[i]![j]!;
    const span = spans[i]!;
    span[0] = Math.min(span[0], t);
    span[1] = Math.max(span[1], t);
    const how = labFrom[t]![i]![j]!;
    if (how === 0) continue; // same label at t-1
    if (how === 1) {
      inBlank = true;
      n = i;
      continue;
    }
    // from previous label with symbol how-2
    i -= 1;
    j = how - 2;
  }
  const { probs, columns } = m;
  const charConfidences = labels.map((col, k) => {
    const [a, b] = spans[k]!;
    const allowed = sets[k]!;
    let best = 0;
    for (let t = a; t <= b; t++) {
      let total = probs[t * columns]!;
      for (const c of allowed) total += probs[t * columns + c]!;
      const p = probs[t * columns + col]!;
      if (total > 0) best = Math.max(best, p / total);
    }
    return best;
  });
  const text = labels.map((col) => alphabet.symbols[col - 1]).join('');
  return { text, logScore, charConfidences, spans };
}
