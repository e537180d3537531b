/**
 * Properties of every plate format (proto/formats/): the plates a format
 * generates parse as that format and its countries, and look-alike
 * characters across letters and digits (0/O, 1/I, 8/B, 5/S, 2/Z, 6/G, 0/D,
 * 0/Q) never turn one valid plate of a format into a different valid plate
 * of the same format, except where the format itself allows both a letter
 * and a digit at one position (listed below). Look-alikes among letters
 * (O/D/Q) are out of this invariant by nature: every letter position of
 * every format allows all three, so only the pixels can tell them apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { areLookAlikes } from '../../proto/look-alikes.js';
import type { CompiledFormat } from '../../proto/plate-syntax.js';
import { compileFormat, fitsFormat, normalisePlate, plateFormats, regionsOf } from '../../proto/plate-syntax.js';

const compiled = plateFormats.map(compileFormat);
const LOOK_ALIKES = '0ODQ1I8B5S2Z6G';

/** A plate drawn from a format, position by position, at any length it allows. */
const plateOf = (f: CompiledFormat) =>
  fc
    .integer({ min: f.minLength, max: f.positions.length })
    .chain((n) => fc.tuple(...f.positions.slice(0, n).map((set) => fc.constantFrom(...set))))
    .map((chars) => chars.join(''));

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
/** A letter and a digit that look alike (O and 0, B and 8, ...). */
const crossLookAlikes = (a: string, b: string): boolean => isDigit(a) !== isDigit(b) && areLookAlikes(a, b);

/** Positions of a format that allow a letter and a digit that look alike (e.g. X: both 0 and O). */
function ambiguousPositions(f: CompiledFormat): number[] {
  return f.positions.flatMap((set, i) =>
    [...set].some((a) => [...set].some((b) => crossLookAlikes(a, b))) ? [i] : [],
  );
}

describe('every format: generated plates parse as that format and its countries (property)', () => {
  for (const f of compiled) {
    it(`${f.format.name} (${f.format.pattern})`, () => {
      fc.assert(
        fc.property(plateOf(f), (plate) => {
          assert.equal(normalisePlate(plate), plate);
          assert.ok(fitsFormat(plate, f));
          const regions = regionsOf(plate);
          for (const c of f.format.countries) assert.ok(regions.includes(c), `${plate}: ${c} not in ${regions.join()}`);
        }),
        { numRuns: 50 },
      );
    });
  }
});

describe('look-alike folding never makes another valid plate of the same format', () => {
  /**
   * Specific formats where the syntax cannot decide a letter/digit
   * look-alike: a position holds both (X: a letter or a digit; Y: China's
   * letters and digits without I and O, which still holds 8/B, 5/S, 2/Z,
   * 6/G, 0/D/Q). There two valid plates may differ only by look-alikes, and
   * the pixels, not the format, must decide.
   */
  const undecided = [
    'CN blue',
    'CN green small',
    'CN police',
    'CN coach',
    'CN trailer',
    'CN consulate',
    'CN Hong Kong cross-boundary',
    'CN Macau cross-boundary',
    'CN emergency',
    'CZ',
    'PE',
    'SE',
  ];

  it('lists exactly the specific formats with such a position', () => {
    const found = compiled.filter((f) => f.format.specific && ambiguousPositions(f).length > 0);
    assert.deepEqual(found.map((f) => f.format.name).sort(), [...undecided].sort());
  });

  it('a look-alike swap gives a plate of the same format only at a position that allows both (property)', () => {
    const swapped = fc.constantFrom(...compiled.filter((f) => f.format.specific)).chain((f) =>
      plateOf(f).chain((plate) =>
        fc.record({
          f: fc.constant(f),
          plate: fc.constant(plate),
          swaps: fc.array(fc.tuple(fc.nat(), fc.constantFrom(...LOOK_ALIKES)), { minLength: 1, maxLength: 3 }),
        }),
      ),
    );
    fc.assert(
      fc.property(swapped, ({ f, plate, swaps }) => {
        // each swap replaces an original character by a look-alike of it (letter <-> digit); swaps
        // are not chained, which would turn Q into 0 and then into O, a letter/letter pair
        const original = [...plate];
        const chars = [...plate];
        for (const [at, c] of swaps) if (crossLookAlikes(original[at % chars.length]!, c)) chars[at % chars.length] = c;
        const other = chars.join('');
        if (other === plate || !fitsFormat(other, f)) return;
        // a different valid plate of the same format: only where the format allows both characters
        const changed = chars.flatMap((c, i) => (c !== [...plate][i] ? [i] : []));
        const ambiguous = ambiguousPositions(f);
        assert.ok(
          changed.every((i) => ambiguous.includes(i)),
          `${plate} -> ${other} (${f.format.name})`,
        );
        assert.ok(undecided.includes(f.format.name), `${plate} -> ${other} (${f.format.name})`);
      }),
      { numRuns: 2000 },
    );
  });
});
