/**
 * Helpers for the CTC tests (not a test file itself): CTC alignments of a
 * text, reduced probability matrices that follow a path, and an
 * independent brute-force reference for the constrained decoder.
 */
import fc from 'fast-check';
import type { CtcMatrix, PlateAlphabet } from '../../edge/vision/ctc-decoder.js';
import type { CompiledFormat, PlateFormat } from '../../proto/plate-syntax.js';

/** One character of an alignment: `gap` blank frames before it, then `repeat` frames of it. */
export interface AlignedChar {
  ch: string;
  gap: number;
  repeat: number;
}

export interface Alignment {
  chars: AlignedChar[];
  trailing: number;
}

/** Random CTC alignment of `text`: random blank gaps and repetition lengths, a blank wherever a character repeats. */
export function alignmentOf(text: string): fc.Arbitrary<Alignment> {
  const chars = [...text];
  return fc
    .record({
      gaps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: chars.length, maxLength: chars.length }),
      repeats: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: chars.length, maxLength: chars.length }),
      trailing: fc.integer({ min: 0, max: 2 }),
    })
    .map(({ gaps, repeats, trailing }) => ({
      chars: chars.map((ch, i) => ({
        ch,
        // CTC: two equal labels in a row need a blank between them
        gap: i > 0 && chars[i - 1] === ch ? Math.max(1, gaps[i]!) : gaps[i]!,
        repeat: repeats[i]!,
      })),
      trailing,
    }));
}

/** The frame-by-frame column path of an alignment (0 = blank). */
export function pathOf(alignment: Alignment, alphabet: PlateAlphabet): number[] {
  const path: number[] = [];
  for (const { ch, gap, repeat } of alignment.chars) {
    for (let k = 0; k < gap; k++) path.push(0);
    for (let k = 0; k < repeat; k++) path.push(alphabet.column(ch));
  }
  for (let k = 0; k < alignment.trailing; k++) path.push(0);
  return path;
}

/** A matrix putting `main` on the path's column at each step and spreading the rest evenly over the other columns. */
export function matrixOfPath(path: readonly number[], columns: number, main = 0.9): CtcMatrix {
  const probs = new Float32Array(path.length * columns);
  const rest = (1 - main) / (columns - 1);
  path.forEach((col, t) => {
    for (let c = 0; c < columns; c++) probs[t * columns + c] = c === col ? main : rest;
  });
  return { probs, steps: path.length, columns };
}

/**
 * A matrix from explicit rows: each row maps symbols ('' for the blank) to
 * probabilities; what is left of 1 is spread evenly over the columns the row
 * does not name.
 */
export function matrixOfRows(rows: ReadonlyArray<Record<string, number>>, alphabet: PlateAlphabet): CtcMatrix {
  const columns = alphabet.columns;
  const probs = new Float32Array(rows.length * columns);
  rows.forEach((row, t) => {
    const named = new Map<number, number>();
    for (const [sym, p] of Object.entries(row)) named.set(sym === '' ? 0 : alphabet.column(sym), p);
    const used = [...named.values()].reduce((s, p) => s + p, 0);
    if (used > 1 + 1e-9) throw new Error(`row ${t} sums to ${used}`);
    const rest = (1 - used) / (columns - named.size);
    for (let c = 0; c < columns; c++) probs[t * columns + c] = named.get(c) ?? rest;
  });
  return { probs, steps: rows.length, columns };
}

/** Rows for `text`: each character `frames` frames at probability `p`, a blank frame between characters. */
export function rowsOfText(text: string, frames = 2, p = 0.9): Array<Record<string, number>> {
  const rows: Array<Record<string, number>> = [{ '': 0.9 }];
  for (const ch of text) {
    for (let k = 0; k < frames; k++) rows.push({ [ch]: p });
    rows.push({ '': 0.9 });
  }
  return rows;
}

/** A compiled format built directly from position sets (not through a pattern). */
export function customFormat(positions: string[], minLength = positions.length, name = 'test'): CompiledFormat {
  const format: PlateFormat = { countries: ['FR'], name, pattern: 'X'.repeat(positions.length), specific: false };
  return { format, positions, minLength };
}

/** Same floor as any probability-to-log conversion must use to score a zero-probability step. */
export const logOf = (p: number): number => Math.log(p + 1e-9);

/** Log-score of a frame-by-frame column path. */
export function pathScore(m: CtcMatrix, path: readonly number[]): number {
  let s = 0;
  path.forEach((col, t) => {
    s += logOf(m.probs[t * m.columns + col]!);
  });
  return s;
}

/** CTC collapse: merge repeats, drop blanks. */
export function collapse(path: readonly number[]): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const c of path) {
    if (c !== 0 && c !== prev) out.push(c);
    prev = c;
  }
  return out;
}

/**
 * Brute force: every CTC path over the blank and `columnsUsed`, collapsed,
 * kept when it fits the format; the best path score per collapsed text.
 */
export function bruteForceBest(
  m: CtcMatrix,
  alphabet: PlateAlphabet,
  format: CompiledFormat,
  columnsUsed: readonly number[],
): Map<string, number> {
  const best = new Map<string, number>();
  const sets = format.positions.map((s) => new Set([...s].map((ch) => alphabet.column(ch))));
  const L = sets.length;
  const cols = [0, ...columnsUsed];
  const labels: number[] = [];
  const walk = (t: number, prev: number, score: number): void => {
    if (t === m.steps) {
      if (labels.length >= format.minLength && labels.length <= L) {
        const text = labels.map((c) => alphabet.symbols[c - 1]).join('');
        if (!best.has(text) || best.get(text)! < score) best.set(text, score);
      }
      return;
    }
    for (const c of cols) {
      const s = score + logOf(m.probs[t * m.columns + c]!);
      if (c !== 0 && c !== prev) {
        const i = labels.length;
        if (i >= L || !sets[i]!.has(c)) continue; // can no longer fit
        labels.push(c);
        walk(t + 1, c, s);
        labels.pop();
      } else {
        walk(t + 1, c, s);
      }
    }
  };
  walk(0, 0, 0);
  return best;
}

/** The path a read's spans describe: its label over each span, blank elsewhere. */
export function pathOfSpans(
  text: string,
  spans: ReadonlyArray<[number, number]>,
  steps: number,
  alphabet: PlateAlphabet,
): number[] {
  const path = new Array<number>(steps).fill(0);
  [...text].forEach((ch, i) => {
    const [a, b] = spans[i]!;
    for (let t = a; t <= b; t++) path[t] = alphabet.column(ch);
  });
  return path;
}
