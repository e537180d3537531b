/**
 * The plate families added for issue 20 (Brazil and Argentina old and
 * Mercosur, UK, France, Germany, Spain, the Chinese special series): each
 * renders the same bytes from the same seed, and every text it draws fits
 * the family's format in proto/formats/ and names the family's country.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import { plateSizeMm, plateStyles } from '../../scenes/plate-renderer.js';
import { plainText, renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import type { Country } from '../../proto/regions.js';
import { compileFormat, fitsFormat, formatsFor, plateFormats, regionsOf } from '../../proto/plate-syntax.js';

/** Each new family's country and the name of its format in proto/formats/. */
export const FAMILIES: ReadonlyArray<{ style: PlateStyle; country: Country; format: string }> = [
  { style: 'br-old', country: 'BR', format: 'BR old' },
  { style: 'br-mercosur', country: 'BR', format: 'BR Mercosur' },
  { style: 'ar-old', country: 'AR', format: 'AR old' },
  { style: 'ar-mercosur', country: 'AR', format: 'AR Mercosur' },
  { style: 'uk', country: 'GB', format: 'GB' },
  { style: 'fr', country: 'FR', format: 'FR' },
  { style: 'de', country: 'DE', format: 'DE generic' },
  { style: 'es', country: 'ES', format: 'ES' },
  { style: 'cn-police', country: 'CN', format: 'CN police' },
  { style: 'cn-coach', country: 'CN', format: 'CN coach' },
  { style: 'cn-consulate', country: 'CN', format: 'CN consulate' },
  { style: 'cn-embassy', country: 'CN', format: 'CN embassy' },
  { style: 'cn-hk', country: 'CN', format: 'CN Hong Kong cross-boundary' },
  { style: 'cn-macau', country: 'CN', format: 'CN Macau cross-boundary' },
  { style: 'cn-emergency', country: 'CN', format: 'CN emergency' },
  { style: 'cn-yellow-two-row', country: 'CN', format: 'CN blue' },
  { style: 'cn-trailer-two-row', country: 'CN', format: 'CN trailer' },
];

const SEEDS = 200;

describe('plate families', () => {
  it('lists every family among the plate styles, with a size', () => {
    for (const { style } of FAMILIES) {
      assert.ok(plateStyles.includes(style), style);
      assert.ok(plateSizeMm[style].width > plateSizeMm[style].height, style);
    }
  });

  for (const { style, country, format } of FAMILIES) {
    const compiled = compileFormat(plateFormats.find((f) => f.name === format)!);

    it(`${style}: renders the same scene bytes from the same seed, another scene from another`, async () => {
      for (const difficulty of ['easy', 'varied'] as const) {
        const spec = randomSceneSpec(style, 3, difficulty);
        assert.deepEqual(randomSceneSpec(style, 3, difficulty), spec);
        const first = await renderScene(spec);
        const second = await renderScene(randomSceneSpec(style, 3, difficulty));
        assert.ok(first.jpeg.equals(second.jpeg), `${style} ${difficulty}: two renders of seed 3 differ`);
        assert.equal(first.text, plainText(spec.plate.text));
        const other = await renderScene(randomSceneSpec(style, 4, difficulty));
        assert.ok(!first.jpeg.equals(other.jpeg));
      }
    });

    it(`${style}: texts fit the ${format} format and name ${country}, over ${SEEDS} seeds`, () => {
      const mine = formatsFor([country]).map(compileFormat);
      const texts = new Set<string>();
      for (let seed = 0; seed < SEEDS; seed++) {
        const spec = randomSceneSpec(style, seed, 'varied');
        const text = plainText(spec.plate.text);
        assert.ok(fitsFormat(text, compiled), `seed ${seed}: ${spec.plate.text} does not fit ${format}`);
        assert.ok(regionsOf(text).includes(country), `seed ${seed}: ${text} is not a ${country} plate`);
        assert.ok(
          mine.some((f) => fitsFormat(text, f)),
          `seed ${seed}: ${text} fits none of the formats a ${country} gate reads`,
        );
        texts.add(text);
      }
      assert.ok(texts.size >= SEEDS * 0.95, `only ${texts.size} distinct texts from ${SEEDS} seeds`);
    });
  }

  it('draws the groups the way each country prints them', () => {
    const drawn = (style: PlateStyle) => randomSceneSpec(style, 5, 'easy').plate.text;
    assert.match(drawn('br-old'), /^[A-Z]{3}-[0-9]{4}$/);
    assert.match(drawn('br-mercosur'), /^[A-Z]{3}[0-9][A-Z][0-9]{2}$/);
    assert.match(drawn('ar-old'), /^[A-Z]{3} [0-9]{3}$/);
    assert.match(drawn('ar-mercosur'), /^[A-Z]{2} [0-9]{3} [A-Z]{2}$/);
    assert.match(drawn('uk'), /^[A-Z]{2}[0-9]{2} [A-Z]{3}$/);
    assert.match(drawn('fr'), /^[A-Z]{2}-[0-9]{3}-[A-Z]{2}$/);
    assert.match(drawn('de'), /^[A-Z]{1,3} [A-Z]{1,2} [1-9][0-9]{0,3}$/);
    assert.match(drawn('es'), /^[0-9]{4} [A-Z]{3}$/);
    assert.match(drawn('cn-police'), /^.[A-Z][0-9]{4}警$/u);
    assert.match(drawn('cn-coach'), /^.[A-Z][0-9A-Z]{4}学$/u);
    assert.match(drawn('cn-consulate'), /^.A[0-9]{4}领$/u);
    assert.match(drawn('cn-embassy'), /^使[12][0-9]{5}$/u);
    assert.match(drawn('cn-hk'), /^粤Z[0-9A-Z]{4}港$/u);
    assert.match(drawn('cn-macau'), /^粤Z[0-9A-Z]{4}澳$/u);
    assert.match(drawn('cn-emergency'), /^.[A-Z][0-9]{4}应急$/u);
    assert.match(drawn('cn-yellow-two-row'), /^.[A-Z][0-9A-Z]{5}$/u);
    assert.match(drawn('cn-trailer-two-row'), /^.[A-Z][0-9A-Z]{4}挂$/u);
  });
});
