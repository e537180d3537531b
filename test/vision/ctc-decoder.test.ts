/**
 * CTC decoding (edge/vision/ctc-decoder.ts), property-based: folding model
 * classes into the plate alphabet, greedy and format-constrained decoding of
 * matrices built from random CTC alignments, and the constrained decoder
 * against a brute-force enumeration of every CTC path (exact Viterbi).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CtcMatrix, CtcRead } from '../../edge/vision/ctc-decoder.js';
import { PlateAlphabet, decodeFormat, decodeGreedy } from '../../edge/vision/ctc-decoder.js';
import {
  compileFormat,
  fitsFormat,
  plateFormats,
  provinces,
  specialSeriesCharacters,
} from '../../proto/plate-syntax.js';
import {
  alignmentOf,
  bruteForceBest,
  collapse,
  customFormat,
  matrixOfPath,
  matrixOfRows,
  pathOf,
  pathOfSpans,
  pathScore,
} from './ctc-helpers.js';

const DIGITS = [...'0123456789'];
const LETTERS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
/** model classes 1..n; class 0 is the blank and class n+1 a space */
const DICTIONARY = [...DIGITS, ...LETTERS, 'a', '-', '皖', '京', 'x', '中'];
const alphabet = new PlateAlphabet(DICTIONARY);
const K = DICTIONARY.length + 2;
const classOf = (ch: string): number => {
  const i = DICTIONARY.indexOf(ch);
  if (i < 0) throw new Error(ch);
  return i + 1;
};
const SPACE = K - 1;
const SYMBOLS = [...DIGITS, ...LETTERS, ...provinces, ...specialSeriesCharacters];

/** Rows of random non-negative weights over `k` classes, each row summing to 1. */
const probabilityRows = (steps: number, k: number): fc.Arbitrary<Float32Array> =>
  fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: steps * k, maxLength: steps * k }).map((w) => {
    const out = new Float32Array(steps * k);
    for (let t = 0; t < steps; t++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += w[t * k + c]!;
      for (let c = 0; c < k; c++) out[t * k + c] = sum > 0 ? w[t * k + c]! / sum : c === 0 ? 1 : 0;
    }
    return out;
  });

/** Spans in order, disjoint, inside [0, T); a blank between two equal neighbours; confidences in [0, 1]. */
function assertWellFormed(read: CtcRead, steps: number, what: string): void {
  const chars = [...read.text];
  assert.equal(read.spans.length, chars.length, `${what}: ${read.spans.length} spans for "${read.text}"`);
  assert.equal(
    read.charConfidences.length,
    chars.length,
    `${what}: ${read.charConfidences.length} confidences for "${read.text}"`,
  );
  read.spans.forEach(([a, b], i) => {
    assert.ok(Number.isInteger(a) && Number.isInteger(b), `${what}: span ${i} [${a}, ${b}]`);
    assert.ok(a >= 0 && a <= b && b < steps, `${what}: span ${i} [${a}, ${b}] outside [0, ${steps})`);
    if (i > 0) {
      const prevEnd = read.spans[i - 1]![1];
      assert.ok(prevEnd < a, `${what}: span ${i} [${a}, ${b}] overlaps or precedes span ${i - 1} ending ${prevEnd}`);
      if (chars[i] === chars[i - 1]) {
        assert.ok(prevEnd + 1 < a, `${what}: repeated "${chars[i]}" at ${i - 1},${i} with no blank frame between`);
      }
    }
  });
  for (const c of read.charConfidences) assert.ok(c >= 0 && c <= 1 && Number.isFinite(c), `${what}: confidence ${c}`);
  assert.ok(Number.isFinite(read.logScore), `${what}: logScore ${read.logScore}`);
}

describe('PlateAlphabet', () => {
  it('has the blank, 0-9, A-Z, the province and the special-series characters as columns', () => {
    assert.equal(alphabet.columns, 1 + 10 + 26 + [...provinces].length + [...specialSeriesCharacters].length);
    assert.equal(alphabet.modelClasses, K);
    assert.deepEqual(alphabet.symbols, SYMBOLS);
    assert.equal(alphabet.column('0'), 1);
    assert.equal(alphabet.column('A'), 11);
    assert.equal(alphabet.column(provinces[0]!), 37);
    assert.equal(alphabet.column('警'), 37 + [...provinces].length);
    assert.equal(alphabet.column('急'), alphabet.columns - 1);
    assert.throws(() => alphabet.column('中'), /not in the plate alphabet/);
    assert.throws(() => alphabet.column('a'), /not in the plate alphabet/);
  });

  it('reduce folds lower case into upper case, separators and space into the blank, and drops unknown characters', () => {
    const steps = 3;
    fc.assert(
      fc.property(probabilityRows(steps, K), (probs) => {
        const out = alphabet.reduce(probs, steps);
        const cols = alphabet.columns;
        assert.equal(out.length, steps * cols);
        for (let t = 0; t < steps; t++) {
          const p = (k: number): number => probs[t * K + k]!;
          const q = (sym: string): number => out[t * cols + (sym === '' ? 0 : alphabet.column(sym))]!;
          const near = (a: number, b: number, what: string): void =>
            assert.ok(Math.abs(a - b) < 1e-5, `step ${t}: ${what} is ${a}, expected ${b}`);
          near(q(''), p(0) + p(classOf('-')) + p(SPACE), 'blank (blank + "-" + space)');
          near(q('A'), p(classOf('A')) + p(classOf('a')), 'A (A + a)');
          near(q('X'), p(classOf('X')) + p(classOf('x')), 'X (X + x)');
          near(q('B'), p(classOf('B')), 'B');
          near(q('7'), p(classOf('7')), '7');
          near(q('皖'), p(classOf('皖')), '皖');
          near(q('京'), p(classOf('京')), '京');
          for (const prov of provinces) if (prov !== '皖' && prov !== '京') near(q(prov), 0, prov);
          let sum = 0;
          for (let c = 0; c < cols; c++) {
            assert.ok(out[t * cols + c]! >= 0);
            sum += out[t * cols + c]!;
          }
          assert.ok(sum <= 1 + 1e-5, `step ${t}: row sums to ${sum}`);
          near(sum, 1 - p(classOf('中')), 'row sum (everything but the dropped 中)');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('reduce reads a later sequence of a batch through its offset', () => {
    fc.assert(
      fc.property(probabilityRows(4, K), (probs) => {
        const whole = alphabet.reduce(probs, 4);
        const second = alphabet.reduce(probs, 2, 2 * K);
        assert.deepEqual([...second], [...whole.subarray(2 * alphabet.columns)]);
      }),
      { numRuns: 30 },
    );
  });

  it('reduce maps full-width letters and other separators like the plain ones', () => {
    const dict = ['Ａ', '１', '·', '.', '_', '/', 'ｂ'];
    const a = new PlateAlphabet(dict);
    const k = dict.length + 2;
    const probs = new Float32Array(k).fill(1 / k);
    const out = a.reduce(probs, 1);
    const near = (x: number, y: number, what: string): void =>
      assert.ok(Math.abs(x - y) < 1e-6, `${what}: ${x} vs ${y}`);
    near(out[a.column('A')]!, 1 / k, 'Ａ → A');
    near(out[a.column('1')]!, 1 / k, '１ → 1');
    near(out[a.column('B')]!, 1 / k, 'ｂ → B');
    near(out[0]!, 6 / k, 'blank + · . _ / + space');
  });
});

/** A target text with a random CTC alignment and the matrix that follows it. */
const alignedTarget = (symbols: readonly string[], minLength = 1, maxLength = 10) =>
  fc
    .array(fc.constantFrom(...symbols), { minLength, maxLength })
    .map((chars) => chars.join(''))
    .chain((text) => alignmentOf(text).map((alignment) => ({ text, alignment })));

describe('decodeGreedy and decodeFormat on matrices that follow a CTC alignment', () => {
  it('both return the aligned text', () => {
    fc.assert(
      fc.property(alignedTarget(SYMBOLS), ({ text, alignment }) => {
        const path = pathOf(alignment, alphabet);
        const m = matrixOfPath(path, alphabet.columns, 0.9);
        const greedy = decodeGreedy(m, alphabet);
        assert.equal(greedy.text, text);
        assertWellFormed(greedy, m.steps, 'greedy');
        assert.ok(Math.abs(greedy.logScore - pathScore(m, path)) < 1e-6, 'greedy logScore is the score of its path');

        const n = [...text].length;
        const any = customFormat(new Array<string>(n).fill(SYMBOLS.join('')));
        const free = decodeFormat(m, alphabet, any);
        assert.ok(free, 'no read for a format the target fits');
        assert.equal(free.text, text);
        assertWellFormed(free, m.steps, 'decodeFormat (any symbol)');
        assert.ok(
          Math.abs(free.logScore - greedy.logScore) < 1e-6,
          `logScore ${free.logScore} vs best path ${greedy.logScore}`,
        );

        const exact = customFormat([...text]);
        const fixed = decodeFormat(m, alphabet, exact);
        assert.ok(fixed, 'no read for the exact pattern of the target');
        assert.equal(fixed.text, text);
        assertWellFormed(fixed, m.steps, 'decodeFormat (exact)');
        assert.deepEqual(fixed.spans, free.spans);
        // the spans are the path the matrix was built from
        assert.deepEqual(pathOfSpans(fixed.text, fixed.spans, m.steps, alphabet), path);
      }),
      { numRuns: 200 },
    );
  });

  it('decodeFormat returns a text from each real plate format that fits it', () => {
    // the special series (警, 港, ...) are not in the plate alphabet: the reader leaves them out too
    const compiled = plateFormats
      .map(compileFormat)
      .filter((f) => f.positions.every((set) => [...set].every((c) => alphabet.has(c))));
    const fromFormat = fc.constantFrom(...compiled).chain((f) =>
      fc
        .integer({ min: f.minLength, max: f.positions.length })
        .chain((n) => fc.tuple(...f.positions.slice(0, n).map((set) => fc.constantFrom(...set))))
        .map((chars) => chars.join(''))
        .chain((text) => alignmentOf(text).map((alignment) => ({ f, text, alignment }))),
    );
    fc.assert(
      fc.property(fromFormat, ({ f, text, alignment }) => {
        assert.ok(fitsFormat(text, f));
        const m = matrixOfPath(pathOf(alignment, alphabet), alphabet.columns, 0.9);
        const read = decodeFormat(m, alphabet, f);
        assert.ok(read, `${f.format.name}: no read for ${text}`);
        assert.equal(read.text, text, f.format.name);
        assert.ok(fitsFormat(read.text, f));
        assertWellFormed(read, m.steps, f.format.name);
        const greedy = decodeGreedy(m, alphabet);
        assert.ok(Math.abs(read.logScore - greedy.logScore) < 1e-6);
      }),
      { numRuns: 200 },
    );
  });
});

describe('decodeFormat is an exact Viterbi search (brute-force reference)', () => {
  const POOL = ['A', 'B', '0', '皖'];
  const problem = fc
    .record({
      pool: fc.shuffledSubarray(POOL, { minLength: 2, maxLength: 3 }),
      steps: fc.integer({ min: 1, max: 7 }),
      length: fc.integer({ min: 1, max: 3 }),
    })
    .chain(({ pool, steps, length }) =>
      fc.record({
        pool: fc.constant(pool),
        steps: fc.constant(steps),
        positions: fc.array(
          fc.subarray(pool, { minLength: 1 }).map((s) => s.join('')),
          { minLength: length, maxLength: length },
        ),
        minLength: fc.integer({ min: 1, max: length }),
        // weights for the blank and each pool symbol per step; zeros and ties happen
        weights: fc.array(
          fc.array(fc.integer({ min: 0, max: 12 }), { minLength: pool.length + 1, maxLength: pool.length + 1 }),
          {
            minLength: steps,
            maxLength: steps,
          },
        ),
      }),
    );

  const matrixOf = (pool: string[], weights: number[][]): CtcMatrix => {
    const cols = alphabet.columns;
    const probs = new Float32Array(weights.length * cols);
    weights.forEach((row, t) => {
      const sum = row.reduce((s, w) => s + w, 0) || 1;
      probs[t * cols] = row[0]! / sum;
      pool.forEach((ch, i) => {
        probs[t * cols + alphabet.column(ch)] = row[i + 1]! / sum;
      });
    });
    return { probs, steps: weights.length, columns: cols };
  };

  it('finds the best-scoring CTC path whose collapsed labels fit the format', () => {
    fc.assert(
      fc.property(problem, ({ pool, steps, positions, minLength, weights }) => {
        const m = matrixOf(pool, weights);
        const format = customFormat(positions, minLength);
        const reference = bruteForceBest(
          m,
          alphabet,
          format,
          pool.map((ch) => alphabet.column(ch)),
        );
        const read = decodeFormat(m, alphabet, format);
        const what = `positions ${JSON.stringify(positions)} min ${minLength}, T=${steps}`;
        if (reference.size === 0) {
          assert.equal(read, null, `${what}: no CTC path fits, but decodeFormat read ${JSON.stringify(read)}`);
          return;
        }
        assert.ok(read, `${what}: decodeFormat found nothing; best fitting reads: ${JSON.stringify([...reference])}`);
        const best = Math.max(...reference.values());
        assert.ok(
          Math.abs(read.logScore - best) < 1e-6,
          `${what}: logScore ${read.logScore}, best fitting path ${best} (${JSON.stringify([...reference])})`,
        );
        const ofText = reference.get(read.text);
        assert.ok(ofText !== undefined, `${what}: "${read.text}" is not the collapse of any fitting path`);
        assert.ok(Math.abs(ofText - best) < 1e-6, `${what}: "${read.text}" scores ${ofText}, the best path ${best}`);
        assert.ok(fitsFormat(read.text, format), `${what}: "${read.text}" does not fit`);
        assertWellFormed(read, steps, what);
        // the spans describe a path that collapses to the text and has the reported score
        const path = pathOfSpans(read.text, read.spans, steps, alphabet);
        assert.deepEqual(
          collapse(path)
            .map((c) => alphabet.symbols[c - 1])
            .join(''),
          read.text,
          `${what}: spans ${JSON.stringify(read.spans)}`,
        );
        assert.ok(
          Math.abs(pathScore(m, path) - read.logScore) < 1e-6,
          `${what}: the spans' path scores ${pathScore(m, path)}, logScore is ${read.logScore}`,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('decodeGreedy finds the best path of all (its score is the unconstrained maximum)', () => {
    fc.assert(
      fc.property(problem, ({ pool, positions, weights }) => {
        const m = matrixOf(pool, weights);
        const greedy = decodeGreedy(m, alphabet);
        assertWellFormed(greedy, m.steps, 'greedy');
        // any constrained read can only cost, never gain
        const read = decodeFormat(m, alphabet, customFormat(positions, 1));
        if (read)
          assert.ok(
            read.logScore <= greedy.logScore + 1e-9,
            `constrained ${read.logScore} > greedy ${greedy.logScore}`,
          );
        const pathOfGreedy = pathOfSpans(greedy.text, greedy.spans, m.steps, alphabet);
        assert.ok(Math.abs(pathScore(m, pathOfGreedy) - greedy.logScore) < 1e-6);
        // no path beats it
        const everything = bruteForceBest(
          m,
          alphabet,
          customFormat(new Array<string>(m.steps).fill(pool.join('')), 0),
          pool.map((ch) => alphabet.column(ch)),
        );
        const best = Math.max(...everything.values());
        assert.ok(Math.abs(best - greedy.logScore) < 1e-6, `greedy ${greedy.logScore}, best path ${best}`);
        assert.ok(Math.abs(everything.get(greedy.text)! - best) < 1e-6);
      }),
      { numRuns: 100 },
    );
  });
});

describe('decodeFormat edge cases', () => {
  it('returns null when there are fewer steps than the format needs characters', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 7 }), (minLength, short) => {
        const steps = Math.min(short, minLength - 1);
        const m = matrixOfPath(new Array<number>(steps).fill(alphabet.column('A')), alphabet.columns);
        const f = customFormat(new Array<string>(8).fill(SYMBOLS.join('')), minLength);
        assert.equal(decodeFormat(m, alphabet, f), null, `T=${steps}, minLength ${minLength}`);
      }),
      { numRuns: 50 },
    );
    const euGeneric = compileFormat(plateFormats.find((f) => f.name === 'FR generic')!);
    const three = matrixOfPath([11, 0, 12], alphabet.columns);
    assert.equal(decodeFormat(three, alphabet, euGeneric), null);
  });

  it('a repeated character needs a blank between: "A","A" with no blank reads "A" greedily', () => {
    const A = alphabet.column('A');
    const m = matrixOfPath([A, A], alphabet.columns);
    assert.equal(decodeGreedy(m, alphabet).text, 'A');
    // two frames cannot hold A, blank, A
    assert.equal(decodeFormat(m, alphabet, customFormat(['A', 'A'])), null);
    // any two characters: the best valid path swaps one frame to another symbol
    const two = decodeFormat(m, alphabet, customFormat(['AB', 'AB']));
    assert.ok(two);
    assert.equal([...two.text].length, 2);
    assert.notEqual(two.text, 'AA', 'AA cannot be read from two frames');
    assertWellFormed(two, 2, 'AB,AB over A,A');
  });

  it('with three frames of A, a two-A format takes the path A, blank, A', () => {
    const A = alphabet.column('A');
    const m = matrixOfPath([A, A, A], alphabet.columns);
    assert.equal(decodeGreedy(m, alphabet).text, 'A');
    const read = decodeFormat(m, alphabet, customFormat(['A', 'A']));
    assert.ok(read);
    assert.equal(read.text, 'AA');
    assert.deepEqual(read.spans, [
      [0, 0],
      [2, 2],
    ]);
    assertWellFormed(read, 3, 'AA');
    // a format of any two letters must still produce a valid path, never "AA" over adjacent frames
    const anyTwo = decodeFormat(m, alphabet, customFormat([LETTERS.join(''), LETTERS.join('')]));
    assert.ok(anyTwo);
    assertWellFormed(anyTwo, 3, 'two letters');
    const path = pathOfSpans(anyTwo.text, anyTwo.spans, 3, alphabet);
    assert.ok(Math.abs(pathScore(m, path) - anyTwo.logScore) < 1e-6);
  });

  it('reads the repeated characters of "PP587A0" and "1100" when blanks separate them', () => {
    for (const text of ['PP587A0', '1100', '皖AA1122']) {
      const m = matrixOfRows(
        [...text].flatMap((ch) => [{ [ch]: 0.8 }, { [ch]: 0.8 }, { '': 0.8 }]),
        alphabet,
      );
      assert.equal(decodeGreedy(m, alphabet).text, text);
      const f = customFormat(new Array<string>([...text].length).fill(SYMBOLS.join('')));
      assert.equal(decodeFormat(m, alphabet, f)?.text, text);
    }
  });

  it('a format whose length may be zero (e.g. "X{0,3}") reads an all-blank matrix as empty text', () => {
    const f = compileFormat({ countries: ['FR'], name: 'optional', pattern: 'X{0,3}', specific: false });
    assert.equal(f.minLength, 0);
    const m = matrixOfPath([0, 0, 0], alphabet.columns);
    const read = decodeFormat(m, alphabet, f);
    assert.ok(read);
    assert.equal(read.text, '');
  });
});
