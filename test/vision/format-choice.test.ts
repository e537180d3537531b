/**
 * Format choice (edge/vision/format-choice.ts) on synthetic CTC matrices
 * over the real plate alphabet (the rec model's own dictionary): the syntax
 * settles look-alike characters, plate colour decides between a Chinese
 * and a Latin reading, and a clear read keeps its text.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PlateAlphabet, decodeFormat, decodeGreedy } from '../../edge/vision/ctc-decoder.js';
import type { CtcMatrix } from '../../edge/vision/ctc-decoder.js';
import type { FormatChoice } from '../../edge/vision/format-choice.js';
import { NO_MARKS, chooseFormat, defaultFormatTuning } from '../../edge/vision/format-choice.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import type { PlateColour } from '../../edge/vision/plate-colour.js';
import type { CompiledFormat } from '../../proto/plate-syntax.js';
import { compileFormat, fitsFormat, formatsFor, provinces } from '../../proto/plate-syntax.js';
import { allCountries } from '../../proto/regions.js';
import { matrixOfRows, rowsOfText } from './ctc-helpers.js';

let formats: CompiledFormat[];
const NO_COLOUR: PlateColour = { blue: 0, green: 0 };
const BLUE: PlateColour = { blue: 0.7, green: 0 };
const GREEN: PlateColour = { blue: 0, green: 0.4 };
const YELLOW: PlateColour = { blue: 0, green: 0, yellow: 0.6 };

let alphabet: PlateAlphabet;

before(() => {
  const dictionary = new ModelFiles().bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
  if (dictionary[dictionary.length - 1] === '') dictionary.pop();
  alphabet = new PlateAlphabet(dictionary);
  // every country's formats, as the reader compiles them (without the special series the alphabet lacks)
  formats = formatsFor(allCountries)
    .map(compileFormat)
    .filter((f) => f.positions.every((set) => [...set].every((c) => alphabet.has(c))));
});

function describeChoice(choice: FormatChoice | null): string {
  if (!choice) return 'no choice';
  return `${choice.read.text} (${choice.format.name}, fit cost ${choice.fitCost.toFixed(2)}, value ${choice.value.toFixed(2)})`;
}

/** Rows for `text` (two frames a character, a blank between) with the rows of character `index` replaced. */
function rowsWith(text: string, index: number, row: Record<string, number>): Array<Record<string, number>> {
  const rows = rowsOfText(text, 2, 0.9);
  // row 0 is a blank; character i occupies rows 1 + 3i and 2 + 3i
  rows[1 + 3 * index] = row;
  rows[2 + 3 * index] = row;
  return rows;
}

describe('chooseFormat: the syntax settles look-alike characters', () => {
  let m: CtcMatrix;
  before(() => {
    // the model leans to "0" at the last character, with some weight on "O"
    m = matrixOfRows(rowsWith('PP587A0', 6, { '0': 0.6, O: 0.3 }), alphabet);
  });

  it('the unconstrained read is PP587A0', () => {
    assert.equal(decodeGreedy(m, alphabet).text, 'PP587A0');
  });

  for (const [name, colour] of [
    ['no plate colour', NO_COLOUR],
    ['unknown colour', null],
  ] as const) {
    it(`reads PP587AO in the AR/FR/IT/SK format (${name})`, () => {
      const choice = chooseFormat(m, alphabet, formats, colour);
      assert.equal(choice?.format.name, 'AR Mercosur/FR/IT/SK', describeChoice(choice));
      assert.equal(choice?.read.text, 'PP587AO', describeChoice(choice));
      assert.ok(choice.fitCost > 0, 'the O costs something against the model');
    });
  }

  it('keeps a read that already fits a specific format: BA123CD, 7ABC123, ABC1D23', () => {
    const expected: Array<[string, string]> = [
      ['BA123CD', 'AR Mercosur/FR/IT/SK'],
      ['7ABC123', 'US 7 (1ABC234)'],
      ['ABC1D23', 'BR Mercosur'],
      ['ABC1234', 'US 7 (AAA1234)'],
      ['BS47040', 'DK/PL/NO'],
      ['WSQ3021', 'BR old/GR/CA Alberta/MY/PH'],
    ];
    for (const [text, format] of expected) {
      const choice = chooseFormat(matrixOfRows(rowsOfText(text), alphabet), alphabet, formats, NO_COLOUR);
      assert.equal(choice?.read.text, text, describeChoice(choice));
      assert.equal(choice?.format.name, format, describeChoice(choice));
      assert.ok(Math.abs(choice.fitCost) < 1e-9);
    }
  });

  it('leaves a read that fits only a generic rule as it is', () => {
    const choice = chooseFormat(matrixOfRows(rowsOfText('1A2B'), alphabet), alphabet, formats, NO_COLOUR);
    assert.equal(choice?.read.text, '1A2B', describeChoice(choice));
    assert.equal(choice?.format.specific, false, describeChoice(choice));
  });
});

describe('chooseFormat: plate colour and the province character', () => {
  // a Chinese blue plate whose province character the model half reads as "H"
  let blueStrip: CtcMatrix;
  // a green new-energy plate whose province character the model half reads as "B"
  let greenStrip: CtcMatrix;
  before(() => {
    blueStrip = matrixOfRows(rowsWith('皖A12345', 0, { H: 0.5, 皖: 0.35 }), alphabet);
    greenStrip = matrixOfRows(rowsWith('粤BD23456', 0, { B: 0.5, 粤: 0.35 }), alphabet);
  });

  it('the unconstrained reads are Latin', () => {
    assert.equal(decodeGreedy(blueStrip, alphabet).text, 'HA12345');
    assert.equal(decodeGreedy(greenStrip, alphabet).text, 'BBD23456');
  });

  it('a strong blue cue makes the Chinese blue format win', () => {
    const choice = chooseFormat(blueStrip, alphabet, formats, BLUE);
    assert.equal(choice?.format.name, 'CN blue', describeChoice(choice));
    assert.equal(choice?.read.text, '皖A12345', describeChoice(choice));
  });

  it('a strong green cue makes a Chinese new-energy format win', () => {
    const choice = chooseFormat(greenStrip, alphabet, formats, GREEN);
    assert.equal(choice?.format.name, 'CN green small', describeChoice(choice));
    assert.equal(choice?.read.text, '粤BD23456', describeChoice(choice));
  });

  for (const [name, strip, latin] of [
    ['blue', () => blueStrip, 'HA12345'],
    ['green', () => greenStrip, 'BBD23456'],
  ] as const) {
    it(`with no plate colour the ${name}-plate strip is not given a province (Latin read ${latin})`, () => {
      const choice = chooseFormat(strip(), alphabet, formats, NO_COLOUR);
      assert.ok(choice, 'no choice');
      assert.notEqual(choice.format.countries.join('/'), 'CN', describeChoice(choice));
      assert.ok(![...choice.read.text].some((c) => provinces.includes(c)), describeChoice(choice));
      assert.equal(choice.read.text, latin, describeChoice(choice));
    });
  }

  it('plate colour without any province character in the strip is not a Chinese plate (a US plate with blue paint)', () => {
    // the model sees no province character anywhere: a Latin 6-character plate, e.g. blue text on white
    const latin = matrixOfRows(rowsOfText('AYE132'), alphabet);
    const choice = chooseFormat(latin, alphabet, formats, BLUE);
    assert.ok(choice, 'no choice');
    assert.notEqual(choice.format.countries.join('/'), 'CN', describeChoice(choice));
    assert.equal(choice.read.text, 'AYE132', describeChoice(choice));
    // the rule is the tuning's: with it off, the blue cue invents a province
    const off = chooseFormat(latin, alphabet, formats, BLUE, { ...defaultFormatTuning, colourNeedsProvince: 0 });
    assert.equal(off?.format.countries.join('/'), 'CN', describeChoice(off));
  });

  it('a yellow strip (lorry, bus, coach, trailer plates) is not penalised as uncoloured', () => {
    // the province barely ahead of a Latin letter, as on a yellow two-row plate's small top row
    const yellowStrip = matrixOfRows(rowsWith('鄂Z99012', 0, { 鄂: 0.45, H: 0.4 }), alphabet);
    const yellow = chooseFormat(yellowStrip, alphabet, formats, YELLOW);
    assert.equal(yellow?.read.text, '鄂Z99012', describeChoice(yellow));
    const uncoloured = chooseFormat(yellowStrip, alphabet, formats, NO_COLOUR);
    assert.notEqual(uncoloured?.read.text, '鄂Z99012', describeChoice(uncoloured));
  });

  it('the colour thresholds come from the tuning', () => {
    // with no colour bonus and no uncoloured penalty, the blue strip's fit cost alone decides
    const neutral = { ...defaultFormatTuning, colourBonus: 0, uncolouredCnPenalty: 0 };
    const a = chooseFormat(blueStrip, alphabet, formats, BLUE, neutral);
    const b = chooseFormat(blueStrip, alphabet, formats, NO_COLOUR, neutral);
    assert.equal(a?.read.text, b?.read.text);
    assert.equal(a?.format.name, b?.format.name);
  });
});

describe('chooseFormat on random matrices (property)', () => {
  const SYMBOLS = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', '皖', '京', '粤'];
  const randomRows = fc.array(
    fc
      .dictionary(fc.constantFrom('', ...SYMBOLS), fc.integer({ min: 1, max: 100 }), { minKeys: 1, maxKeys: 4 })
      .map((w) => {
        const sum = Object.values(w).reduce((s, x) => s + x, 0);
        return Object.fromEntries(Object.entries(w).map(([k, x]) => [k, (0.95 * x) / sum]));
      }),
    { minLength: 1, maxLength: 24 },
  );
  const colour = fc.option(
    fc.record({ blue: fc.double({ min: 0, max: 1, noNaN: true }), green: fc.double({ min: 0, max: 1, noNaN: true }) }),
  );

  it('returns the constrained read of the format it chose, which fits, at a non-negative cost', () => {
    fc.assert(
      fc.property(randomRows, colour, (rows, c) => {
        const m = matrixOfRows(rows, alphabet);
        const choice = chooseFormat(m, alphabet, formats, c);
        const anyFits = formats.some((f) => decodeFormat(m, alphabet, f) !== null);
        if (!anyFits) {
          assert.equal(choice, null);
          return;
        }
        assert.ok(choice, 'no choice though a format fits');
        const f = formats.find((x) => x.format === choice.format)!;
        assert.ok(fitsFormat(choice.read.text, f), describeChoice(choice));
        assert.deepEqual(choice.read, decodeFormat(m, alphabet, f));
        const free = decodeGreedy(m, alphabet);
        assert.ok(choice.fitCost >= -1e-9, `fit cost ${choice.fitCost}`);
        assert.ok(Math.abs(choice.fitCost - (free.logScore - choice.read.logScore)) < 1e-9);
        assert.ok(Number.isFinite(choice.value));
      }),
      { numRuns: 60 },
    );
  });

  it('no format fits at a negative cost: the bound by which a format that cannot win is not decoded', () => {
    // chooseFormat skips a format whose priors alone cannot beat the best value so far; that is exact
    // only because a constrained path never scores above the unconstrained best one
    fc.assert(
      fc.property(randomRows, (rows) => {
        const m = matrixOfRows(rows, alphabet);
        const free = decodeGreedy(m, alphabet);
        for (const f of formats) {
          const read = decodeFormat(m, alphabet, f);
          if (read)
            assert.ok(read.logScore <= free.logScore + 1e-9, `${f.format.name}: ${read.logScore} > ${free.logScore}`);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('returns null for a strip too short for any format', () => {
    const m = matrixOfRows([{ A: 0.9 }, { '': 0.9 }], alphabet); // 2 steps; every format needs 3 (CH: ZH1)
    assert.equal(chooseFormat(m, alphabet, formats, NO_COLOUR), null);
  });
});

describe('chooseFormat: seals between the characters make the German series likely', () => {
  it('reads HBBT2 as a US vanity plate without seals, and as German with them', () => {
    const m = matrixOfRows(rowsOfText('HBBT2'), alphabet);
    const plain = chooseFormat(m, alphabet, formats, NO_COLOUR);
    assert.equal(plain?.format.countries.includes('DE'), false, describeChoice(plain));
    const sealed = chooseFormat(m, alphabet, formats, NO_COLOUR, defaultFormatTuning, { ...NO_MARKS, seals: true });
    assert.equal(sealed?.read.text, 'HBBT2', describeChoice(sealed));
    assert.ok(sealed?.format.countries.includes('DE') && sealed.format.specific, describeChoice(sealed));
  });

  it('with seals, the German series settles O against 0 among the letters: OFO9071 over the Danish OF09071', () => {
    const m = matrixOfRows(rowsWith('OF09071', 2, { '0': 0.6, O: 0.3 }), alphabet);
    const plain = chooseFormat(m, alphabet, formats, NO_COLOUR);
    assert.equal(plain?.read.text, 'OF09071', describeChoice(plain));
    const sealed = chooseFormat(m, alphabet, formats, NO_COLOUR, defaultFormatTuning, { ...NO_MARKS, seals: true });
    assert.equal(sealed?.read.text, 'OFO9071', describeChoice(sealed));
  });
});

describe('chooseFormat: the Mercosur band settles the fifth character of a Brazilian plate', () => {
  let brazil: CompiledFormat[];
  before(() => {
    brazil = formatsFor(['BR']).map(compileFormat);
  });

  // ABC1234 (old) and ABC1D23 (Mercosur) differ only in the fifth character, a look-alike digit or letter
  for (const [plate, read, row] of [
    ['UDU8O07', 'UDU8007', { '0': 0.8, O: 0.15 }],
    ['QDT3I09', 'QDT3109', { '1': 0.8, I: 0.15 }],
  ] as const) {
    it(`reads ${read} as the old series without the band, and ${plate} (Mercosur) with it`, () => {
      const m = matrixOfRows(rowsWith(read, 4, row), alphabet);
      for (const region of [brazil, formats]) {
        const plain = chooseFormat(m, alphabet, region, NO_COLOUR);
        assert.equal(plain?.read.text, read, describeChoice(plain));
        const banded = chooseFormat(m, alphabet, region, NO_COLOUR, defaultFormatTuning, {
          ...NO_MARKS,
          mercosurBand: true,
        });
        assert.equal(banded?.read.text, plate, describeChoice(banded));
        assert.equal(banded?.format.name, 'BR Mercosur', describeChoice(banded));
      }
    });
  }

  it('keeps a read the model is sure of: ABC1234 stays the old series with the band', () => {
    const m = matrixOfRows(rowsOfText('ABC1234'), alphabet);
    const banded = chooseFormat(m, alphabet, brazil, NO_COLOUR, defaultFormatTuning, {
      ...NO_MARKS,
      mercosurBand: true,
    });
    assert.equal(banded?.read.text, 'ABC1234', describeChoice(banded));
  });

  it('property: where the band changes the choice, it changes it to a Mercosur series', () => {
    const lookAlike: Record<string, string> = {
      '0': 'O',
      '1': 'I',
      '8': 'B',
      '5': 'S',
      '2': 'Z',
      O: '0',
      I: '1',
      B: '8',
    };
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z0-9]{5,8}$/),
        fc.nat(),
        fc.double({ min: 0.05, max: 0.45, noNaN: true }),
        (text, at, weight) => {
          const index = at % text.length;
          const ch = text[index]!;
          const other = lookAlike[ch];
          const m = other
            ? matrixOfRows(rowsWith(text, index, { [ch]: 0.95 - weight, [other]: weight }), alphabet)
            : matrixOfRows(rowsOfText(text), alphabet);
          const plain = chooseFormat(m, alphabet, formats, NO_COLOUR);
          const banded = chooseFormat(m, alphabet, formats, NO_COLOUR, defaultFormatTuning, {
            ...NO_MARKS,
            mercosurBand: true,
          });
          if (banded?.read.text !== plain?.read.text || banded?.format.name !== plain?.format.name) {
            assert.equal(banded?.format.mercosur, true, `${describeChoice(plain)} -> ${describeChoice(banded)}`);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
