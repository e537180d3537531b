/**
 * Plate syntaxes (edge/vision/plate-syntax.ts): normalising text to the
 * plate alphabet, compiling formats (with the {m,n} range), which texts fit
 * which format, and the regions a plate belongs to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlateFormat } from '../../proto/plate-syntax.js';
import { allCountries } from '../../proto/regions.js';
import {
  compileFormat,
  fitsFormat,
  normalisePlate,
  plateFormats,
  positionClasses,
  provinces,
  regionsOf,
} from '../../proto/plate-syntax.js';

const DIGITS = '0123456789';
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const PLATE_ALPHABET = DIGITS + LETTERS + provinces;

describe('normalisePlate', () => {
  const cases: Array<[string, string | null, string]> = [
    ['ＡＢＣ１２３', 'ABC123', 'full-width letters and digits'],
    ['\u200BAB\u200C1\u200D2\u2060\uFEFF3', 'AB123', 'zero-width characters'],
    ['BA-123.CD', 'BA123CD', 'dash and dot'],
    [' BA 123 CD ', 'BA123CD', 'spaces'],
    ['BA\t123\nCD', 'BA123CD', 'tab and newline'],
    ['皖A·12345', '皖A12345', 'the Chinese separator dot'],
    ['AB_12:3•4', 'AB1234', 'underscore, colon, bullet'],
    ['ba123cd', 'BA123CD', 'lower case'],
    ['ｂａ１２３', 'BA123', 'full-width lower case'],
    ['7ABC123', '7ABC123', 'already normal'],
    ['京ＡＤ１２３４５', '京AD12345', 'province with full-width rest'],
    ['AB#123', null, 'a hash'],
    ['ABÉ123', null, 'an accented letter'],
    ['中A12345', null, 'a CJK character that is not a province'],
    ['', null, 'empty'],
    ['   ', null, 'only spaces'],
    ['-.-', null, 'only separators'],
    ['\u200B', null, 'only a zero-width space'],
  ];
  for (const [input, expected, what] of cases) {
    it(`${what}: ${JSON.stringify(input)} -> ${JSON.stringify(expected)}`, () => {
      assert.equal(normalisePlate(input), expected);
    });
  }

  it('is idempotent and keeps only the plate alphabet (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...PLATE_ALPHABET, ...'abcz -.·\u200B', 'ａ', 'Ｚ', '９') }),
        (text) => {
          const n = normalisePlate(text);
          if (n === null) {
            assert.equal(
              text.replace(/[\s\-.·\u200B]/g, ''),
              '',
              `${JSON.stringify(text)} has plate characters but gave null`,
            );
            return;
          }
          assert.equal(normalisePlate(n), n);
          for (const c of n) assert.ok(PLATE_ALPHABET.includes(c), `${JSON.stringify(c)} in ${n}`);
        },
      ),
    );
  });

  it('undoes separators inserted into a plate (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...PLATE_ALPHABET), { minLength: 1, maxLength: 9 }),
        fc.array(fc.constantFrom('', ' ', '-', '.', '·', '\u200B', '\uFEFF'), { minLength: 10, maxLength: 10 }),
        (chars, seps) => {
          const plate = chars.join('');
          const decorated = chars.map((c, i) => seps[i] + c).join('') + seps[9];
          assert.equal(normalisePlate(decorated), plate);
          assert.equal(normalisePlate(decorated.toLowerCase()), plate);
        },
      ),
    );
  });
});

describe('compileFormat', () => {
  it('expands "X{4,8}" to eight positions with a minimum length of four', () => {
    const eu = compileFormat(plateFormats.find((f) => f.name === 'FR generic')!);
    assert.equal(eu.positions.length, 8);
    assert.equal(eu.minLength, 4);
    for (const set of eu.positions) assert.equal(set, DIGITS + LETTERS);
  });

  it('expands a head before the range: "PN{1,3}" is P then one to three digits', () => {
    const f = compileFormat({ countries: ['CN'], name: 'test', pattern: 'PN{1,3}', specific: false });
    assert.deepEqual(f.positions, [provinces, DIGITS, DIGITS, DIGITS]);
    assert.equal(f.minLength, 2);
    assert.ok(fitsFormat('皖1', f));
    assert.ok(fitsFormat('皖123', f));
    assert.ok(!fitsFormat('皖', f));
    assert.ok(!fitsFormat('皖1234', f));
  });

  it('maps each pattern letter of a fixed format to its position class', () => {
    for (const format of plateFormats.filter((f) => !f.pattern.includes('{'))) {
      const c = compileFormat(format);
      assert.equal(c.minLength, format.pattern.length, format.name);
      assert.deepEqual(
        c.positions,
        [...format.pattern].map((k) => positionClasses[k] ?? k),
        format.name,
      );
    }
  });

  it('rejects an unknown position class, naming it', () => {
    assert.throws(
      () => compileFormat({ countries: ['FR'], name: 'bad', pattern: 'LLQ', specific: true }),
      /bad.*unknown position class Q/,
    );
  });

  it('keeps Chinese formats free of I and O, US ones free of O and Q', () => {
    for (const f of plateFormats.map(compileFormat)) {
      const chars = f.positions.join('');
      if (f.format.countries.includes('CN')) assert.ok(!/[IO]/.test(chars.slice(1)), f.format.name);
      if (f.format.countries.includes('US')) assert.ok(!/[OQ]/.test(chars), f.format.name);
    }
  });
});

describe('fitsFormat for each plate format', () => {
  const examples: Record<string, { valid: string[]; invalid: string[] }> = {
    'CN blue': {
      valid: ['皖A12345', '京AD1234', '粤Z9Y8X7'],
      invalid: ['皖I12345', 'AA12345', '皖A1234', '皖A123456', '皖A1234O'],
    },
    'CN green small': { valid: ['粤BD23456', '京AFA1234'], invalid: ['粤BX23456', '粤BD2345A', '粤BD2345'] },
    'CN green large': { valid: ['粤B12345D', '沪A00000F'], invalid: ['粤B12345A', '粤BD23456', '粤B1234D'] },
    'BR Mercosur': { valid: ['ABC1D23', 'RIO2A18'], invalid: ['ABC1234', 'AB11D23', 'ABC1D2'] },
    SK: { valid: ['BA123CD', 'PP587AO'], invalid: ['BA1234D', 'BA123C0', 'B1123CD'] },
    CZ: { valid: ['1AB2345', '5A12345'], invalid: ['AAB2345', '1AB234', '1AB234X'] },
    NO: { valid: ['BS47040', 'WX12345'], invalid: ['8S47040', 'BS4704O', 'BSA7040', 'BS4704'] },
    GR: { valid: ['WSQ3021', 'ZYA1234'], invalid: ['WSQ3O21', 'WS03021', 'WSQ302'] },
    'US 7 (AAA1234)': { valid: ['ABC1234', 'XYZ0001'], invalid: ['ABO1234', 'AQC1234', 'AB12345'] },
    'US 7 (1ABC234)': { valid: ['7ABC123', '4PCI264'], invalid: ['7AQC123', 'AABC123', '7ABC12'] },
    'US 6 (ABC123)': { valid: ['ABC123'], invalid: ['AB1234', 'ABO123', 'ABC1234'] },
    'US 6 (123ABC)': { valid: ['123ABC'], invalid: ['123AB1', '123ABO'] },
    'US 6 (AB1C2D)': { valid: ['UH1F0F', 'AB1C2D'], invalid: ['UHIFOF', 'AB1C2O', 'AB1C2D3'] },
    'US 6 (AB1234)': { valid: ['AB1234'], invalid: ['ABC234', 'AO1234'] },
    'US 6 (1AB234)': { valid: ['1AB234'], invalid: ['1A1234', '1AQ234'] },
    'US 6 (ABCD12)': { valid: ['ABCD12'], invalid: ['ABC123', 'ABCO12'] },
    'US 6 (A123BC)': { valid: ['A123BC'], invalid: ['A1234C', 'O123BC'] },
    'US 7 (A123456)': { valid: ['A123456'], invalid: ['AB23456', 'A12345'] },
    'US 7 (1A23456)': { valid: ['1A23456'], invalid: ['1AB3456', '1Q23456'] },
    'US 7 (12345A1)': { valid: ['12345A1'], invalid: ['12345AB', '1234561'] },
    'US generic': { valid: ['ABC1', '12345678', 'ZZ99'], invalid: ['ABC', 'ABCD12345', 'ABCO12', '皖A1234'] },
    'FR generic': { valid: ['ABCO', 'QQ12345O'], invalid: ['AB1', 'ABCDEFGHI', '皖A1234'] },
    'BR old': { valid: ['AYO9034'], invalid: ['AY09034', 'AYO903'] },
    'AR old': { valid: ['ABC123'], invalid: ['AB1234', 'ABC1234'] },
    'AR Mercosur': { valid: ['AB123CD'], invalid: ['AB1234D'] },
    CL: { valid: ['BCDF12'], invalid: ['BCD123'] },
    PE: { valid: ['A1B234', 'ABC123'], invalid: ['1AB234', 'A1B23C'] },
    GB: { valid: ['AB12CDE'], invalid: ['AB1CDE', 'A812CDE'] },
    ES: { valid: ['1234BCD'], invalid: ['123BCD', '1234BC0'] },
    'DE 2 letters': { valid: ['BX1', 'MA1234'], invalid: ['B1', 'MA12345', 'M8A12', 'MA12B'] },
    'DE 3 letters': { valid: ['MAB1234', 'KLI612'], invalid: ['K8LI612', 'MAB12345'] },
    'DE 4 letters': { valid: ['HHJA485'], invalid: ['HH8JA485'] },
    'DE 5 letters': { valid: ['BARJA562'], invalid: ['BARJA5621', 'BAR8J56'] },
    CH: { valid: ['ZH1', 'ZH123456'], invalid: ['ZH', 'ZH1234567', 'Z1123'] },
    'TR 1 letter': { valid: ['34A1234', '34A12345'], invalid: ['34A123', 'A4A1234'] },
    'TR 2 letters': { valid: ['06AB123', '06AB1234'], invalid: ['06AB12', '06AB12345'] },
    'TR 3 letters': { valid: ['35ABC12', '35ABC123'], invalid: ['35ABC1', '35ABC1234'] },
    'CN police': { valid: ['京A0123警'], invalid: ['京A0123', '京A012警', 'AA0123警'] },
    'CN embassy': { valid: ['使014578'], invalid: ['使01457', '京014578'] },
    'CN Hong Kong cross-boundary': { valid: ['粤Z1234港'], invalid: ['京Z1234港', '粤Z1234澳'] },
    'CN emergency': { valid: ['京X1234应急'], invalid: ['京X1234应', '京X123A应急'] },
  };

  for (const [name, ex] of Object.entries(examples)) {
    const formatsNamed = plateFormats.filter((f) => f.name === name);
    it(`${name} (${formatsNamed.map((f) => f.pattern).join(', ')})`, () => {
      assert.equal(formatsNamed.length, 1, `one format is named ${name}`);
      const format = formatsNamed[0]!;
      const c = compileFormat(format);
      for (const v of ex.valid) assert.ok(fitsFormat(v, c), `${v} should fit ${format.name}`);
      for (const v of ex.invalid) assert.ok(!fitsFormat(v, c), `${v} should not fit ${format.name}`);
    });
  }

  it('accepts any text drawn from a compiled format position by position (property)', () => {
    const compiled = [
      ...plateFormats.map(compileFormat),
      compileFormat({ countries: ['CN'], name: 'range', pattern: 'PCN{2,5}', specific: false }),
    ];
    const drawn = fc.constantFrom(...compiled).chain((f) =>
      fc.record({
        f: fc.constant(f),
        chars: fc
          .integer({ min: f.minLength, max: f.positions.length })
          .chain((n) => fc.tuple(...f.positions.slice(0, n).map((set) => fc.constantFrom(...set)))),
        junk: fc.constantFrom(...'#中aé'),
        at: fc.nat(),
      }),
    );
    fc.assert(
      fc.property(drawn, ({ f, chars, junk, at }) => {
        const text = chars.join('');
        assert.ok(fitsFormat(text, f), `${text} drawn from ${f.format.name}`);
        // a character outside the position's class breaks the fit
        const broken = [...chars];
        broken[at % chars.length] = junk;
        assert.ok(!fitsFormat(broken.join(''), f), `${broken.join('')} fits ${f.format.name}`);
        // so does one character too many at the longest length, or one too few at the shortest
        if (chars.length === f.positions.length) assert.ok(!fitsFormat(text + chars[0], f));
        if (chars.length === f.minLength) assert.ok(!fitsFormat(chars.slice(1).join(''), f));
      }),
      { numRuns: 300 },
    );
  });
});

describe('regionsOf', () => {
  it('lists the countries of the formats a plate fits, specific formats first', () => {
    assert.deepEqual(regionsOf('皖A12345'), ['CN']);
    assert.deepEqual(regionsOf('粤BD23456'), ['CN']);
    assert.deepEqual(regionsOf('BA123CD').slice(0, 4), ['AR', 'FR', 'IT', 'SK']);
    assert.ok(regionsOf('BA123CD').includes('US'));
    assert.deepEqual(regionsOf('PP587AO').slice(0, 4), ['AR', 'FR', 'IT', 'SK']);
    assert.ok(!regionsOf('PP587AO').includes('US'));
    assert.deepEqual(regionsOf('7ABC123').slice(0, 2), ['US', 'BE']);
    assert.deepEqual(regionsOf('ABC1D23').slice(0, 3), ['BR', 'US', 'MX']);
    assert.deepEqual(regionsOf('AYO9034').slice(0, 3), ['BR', 'GR', 'DE']);
    assert.deepEqual(regionsOf('OFO9071').slice(0, 3), ['BR', 'GR', 'DE']);
    // a German seal read as 8 among the letters fits no German series, only the generic rule
    const germanSeries = plateFormats.filter((f) => f.specific && f.countries.includes('DE')).map(compileFormat);
    assert.equal(germanSeries.length, 4);
    for (const read of ['K8LI612', 'F8D69', 'HH8J485']) assert.ok(!germanSeries.some((f) => fitsFormat(read, f)), read);
    assert.ok(germanSeries.some((f) => fitsFormat('KLI612', f)));
    assert.deepEqual(regionsOf('京A0123警'), ['CN']);
    assert.deepEqual(regionsOf('AB'), []);
    assert.deepEqual(regionsOf('皖A'), []);
  });

  it('takes its formats from the caller', () => {
    const only: PlateFormat[] = [
      { countries: ['US'], name: 'g', pattern: 'X{4,8}', specific: false },
      { countries: ['BR'], name: 's', pattern: 'LLLNNNN', specific: true },
    ];
    assert.deepEqual(regionsOf('ABC1234', only), ['BR', 'US']);
    assert.deepEqual(regionsOf('皖A12345', only), []);
  });

  it('only ever names known regions, each once (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...PLATE_ALPHABET), maxLength: 9 }), (plate) => {
        const regions = regionsOf(plate);
        assert.equal(new Set(regions).size, regions.length);
        for (const r of regions) assert.ok(allCountries.includes(r));
        const fits = plateFormats.filter((f) => fitsFormat(plate, compileFormat(f))).flatMap((f) => f.countries);
        assert.deepEqual([...regions].sort(), [...new Set(fits)].sort());
      }),
    );
  });
});
