/**
 * The synthetic scene renderer itself (scenes/): same spec, same
 * bytes; plate corners that are really where the plate is; and random
 * specs whose texts follow each style's real plate syntax.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import { plateSizeMm, renderPlate } from '../../scenes/plate-renderer.js';
import { plainText, renderScene } from '../../scenes/scene-renderer.js';
import { CN_PROVINCES, randomSceneSpec } from '../../scenes/random-scene.js';
import type { Point, SceneSpec } from '../../scenes/scene-renderer.js';

/** the first four styles; the plate families added since have their own tests (plate-families.test.ts) */
type FirstStyle = Extract<PlateStyle, 'cn-blue' | 'cn-green' | 'us' | 'eu'>;
const STYLES: readonly FirstStyle[] = ['cn-blue', 'cn-green', 'us', 'eu'];
const SEEDS = 200;

describe('renderPlate', () => {
  const texts: Record<FirstStyle, string> = {
    'cn-blue': '皖A12345',
    'cn-green': '皖AD12345',
    us: '7ABC123',
    eu: 'BA 123CD',
  };
  for (const style of STYLES) {
    it(`renders a ${style} plate with the real aspect ratio, the same bytes every time`, async () => {
      const spec = { style, text: texts[style] };
      const first = await renderPlate(spec, 300);
      const second = await renderPlate(spec, 300);
      assert.ok(first.png.equals(second.png), 'two renders of the same plate differ');
      const meta = await sharp(first.png).metadata();
      assert.deepEqual([meta.width, meta.height], [first.width, first.height]);
      const size = plateSizeMm[style];
      assert.equal(first.height, Math.round((300 * size.height) / size.width));
    });
  }
});

describe('renderScene', () => {
  const busy: SceneSpec = {
    ...randomSceneSpec('cn-green', 11, 'varied'),
    rotationDeg: -7,
    blurSigma: 0.8,
    noise: 12,
    distractors: ['AUTO CENTRUM', 'EXIT'],
  };

  it('renders the same JPEG bytes for the same spec and seed', async () => {
    const first = await renderScene(busy);
    const second = await renderScene(busy);
    assert.ok(first.jpeg.equals(second.jpeg), 'two renders of the same scene differ');
    assert.deepEqual(first.plateQuad, second.plateQuad);
    const meta = await sharp(first.jpeg).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', busy.width, busy.height]);
  });

  it('renders different noise for a different seed', async () => {
    const first = await renderScene(busy);
    const other = await renderScene({ ...busy, seed: (busy.seed ?? 0) + 1 });
    assert.ok(!first.jpeg.equals(other.jpeg));
  });

  it('reports the plate text without spaces, dashes or dots', async () => {
    const plate = { style: 'us' as const, text: 'ABC-1234', state: 'TEXAS' };
    const scene = await renderScene({ ...randomSceneSpec('us', 1, 'easy'), plate });
    assert.equal(scene.text, 'ABC1234');
    assert.equal(plainText('BA 123CD'), 'BA123CD');
    assert.equal(plainText('皖A·12345'), '皖A12345');
  });

  it('keeps the plate quad inside the frame, the size of the plate', async () => {
    for (const style of STYLES) {
      for (const seed of [1, 2, 3]) {
        const spec = randomSceneSpec(style, seed, 'varied');
        const scene = await renderScene(spec);
        assert.equal(scene.plateQuad.length, 4);
        const name = `${style}/${seed}`;
        for (const p of scene.plateQuad) {
          const inFrame = p.x >= 0 && p.x <= scene.width && p.y >= 0 && p.y <= scene.height;
          assert.ok(inFrame, `${name}: corner ${JSON.stringify(p)} outside the frame`);
        }
        const [tl, tr, , bl] = scene.plateQuad as [Point, Point, Point, Point];
        const plateHeight = (spec.plateWidth * plateSizeMm[style].height) / plateSizeMm[style].width;
        const top = distance(tl, tr);
        const left = distance(tl, bl);
        assert.ok(Math.abs(top - spec.plateWidth) < 1, `${name}: top edge ${top} px for a ${spec.plateWidth} px plate`);
        assert.ok(Math.abs(left - plateHeight) < 1.5, `${name}: left edge ${left} px for a ${plateHeight} px plate`);
        const tilt = (Math.atan2(tr.y - tl.y, tr.x - tl.x) * 180) / Math.PI;
        assert.ok(
          Math.abs(tilt - (spec.rotationDeg ?? 0)) < 0.01,
          `${name}: quad tilted ${tilt}, spec ${spec.rotationDeg}`,
        );
      }
    }
  });

  it('puts the plate quad on the plate pixels of a tilted plate', async () => {
    // a blue plate on a neutral scene: points just inside each corner must be plate blue
    const spec: SceneSpec = { ...randomSceneSpec('cn-blue', 7, 'easy'), rotationDeg: 12, plateWidth: 240 };
    const scene = await renderScene(spec);
    const { data, info } = await sharp(scene.jpeg).raw().toBuffer({ resolveWithObject: true });
    const pixel = (p: Point) => {
      const i = (Math.round(p.y) * info.width + Math.round(p.x)) * info.channels;
      return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]! };
    };
    const centre = {
      x: scene.plateQuad.reduce((s, p) => s + p.x, 0) / 4,
      y: scene.plateQuad.reduce((s, p) => s + p.y, 0) / 4,
    };
    const isPlateBlue = ({ r, g, b }: { r: number; g: number; b: number }) => b > r + 60 && b > g + 30;
    /** the point `share` of the way from a corner to the centre (negative: beyond the corner) */
    const towardsCentre = (corner: Point, share: number): Point => ({
      x: corner.x + share * (centre.x - corner.x),
      y: corner.y + share * (centre.y - corner.y),
    });
    for (const corner of scene.plateQuad) {
      const inside = pixel(towardsCentre(corner, 0.06));
      assert.ok(
        isPlateBlue(inside),
        `pixel near corner ${JSON.stringify(corner)} is ${JSON.stringify(inside)}, not plate blue`,
      );
      const beyond = pixel(towardsCentre(corner, -0.12));
      assert.ok(!isPlateBlue(beyond), `pixel beyond corner ${JSON.stringify(corner)} is plate blue too`);
    }
  });

  it('rejects a frame size that is not a positive integer', async () => {
    await assert.rejects(renderScene({ ...randomSceneSpec('eu', 1), width: 0 }), RangeError);
    await assert.rejects(renderScene({ ...randomSceneSpec('eu', 1), plateWidth: 150.5 }), RangeError);
  });
});

function distance(a: Point, b: Point): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

const P = `[${CN_PROVINCES}]`;
const CN_LETTER = '[A-HJ-NP-Z]';
const US_LETTER = '[A-HJ-NPR-Z]';
/** Each style's plate syntax, on the text as reported (no separators). */
const SYNTAX: Record<FirstStyle, RegExp> = {
  'cn-blue': new RegExp(`^${P}${CN_LETTER}[0-9A-HJ-NP-Z]{5}$`, 'u'),
  'cn-green': new RegExp(`^${P}${CN_LETTER}[DF][0-9A-HJ-NP-Z][0-9]{4}$`, 'u'),
  us: new RegExp(`^([1-9]${US_LETTER}{3}[0-9]{3}|${US_LETTER}{3}[0-9]{4})$`),
  eu: /^[A-Z]{2}[0-9]{3}[A-Z]{2}$/,
};

describe('randomSceneSpec', () => {
  for (const style of STYLES) {
    it(`gives ${style} texts that fit the style's syntax, over ${SEEDS} seeds`, () => {
      const texts = new Set<string>();
      for (let seed = 0; seed < SEEDS; seed++) {
        for (const difficulty of ['easy', 'varied'] as const) {
          const spec = randomSceneSpec(style, seed, difficulty);
          assert.deepEqual(randomSceneSpec(style, seed, difficulty), spec, `seed ${seed} is not deterministic`);
          assert.equal(spec.plate.style, style);
          const text = plainText(spec.plate.text);
          assert.match(text, SYNTAX[style], `seed ${seed} (${difficulty}): ${spec.plate.text}`);
          if (style === 'cn-blue') {
            const letters = [...text].slice(2).filter((c) => /[A-Z]/.test(c)).length;
            assert.ok(letters <= 2, `seed ${seed}: ${text} has ${letters} letters after the issuing letter`);
          }
          if (style === 'eu') {
            assert.match(spec.plate.text, /^[A-Z]{2} [0-9]{3}[A-Z]{2}$/, 'drawn the Slovak way, "BA 123CD"');
          }
          if (difficulty === 'varied') texts.add(text);
        }
      }
      assert.ok(texts.size >= SEEDS * 0.95, `only ${texts.size} distinct texts from ${SEEDS} seeds`);
    });

    it(`keeps ${style} scenes within the stated ranges, over ${SEEDS} seeds`, () => {
      for (let seed = 0; seed < SEEDS; seed++) {
        const easy = randomSceneSpec(style, seed, 'easy');
        const clean = !easy.rotationDeg && !easy.blurSigma && !easy.noise && !easy.distractors?.length;
        assert.ok(clean, `easy seed ${seed} is not clean`);
        assert.ok(easy.plateWidth >= 200 && easy.plateWidth <= 260, `easy seed ${seed}: plate ${easy.plateWidth} px`);

        const varied = randomSceneSpec(style, seed, 'varied');
        assert.deepEqual([varied.width, varied.height], [1280, 720]);
        const plateWidth = varied.plateWidth;
        assert.ok(
          Number.isInteger(plateWidth) && plateWidth >= 110 && plateWidth <= 260,
          `seed ${seed}: plate ${plateWidth} px`,
        );
        assert.ok(Math.abs(varied.rotationDeg ?? 0) <= 10, `seed ${seed}: tilt ${varied.rotationDeg}`);
        const brightness = varied.brightness ?? 1;
        assert.ok(brightness >= 0.4 && brightness <= 1.3, `seed ${seed}: brightness ${brightness}`);
        assert.ok(
          (varied.contrast ?? 1) >= 0.4 && (varied.contrast ?? 1) <= 1,
          `seed ${seed}: contrast ${varied.contrast}`,
        );
        assert.ok((varied.noise ?? 0) >= 0 && (varied.noise ?? 0) <= 25, `seed ${seed}: noise ${varied.noise}`);
        const plateHeight = (varied.plateWidth * plateSizeMm[style].height) / plateSizeMm[style].width;
        const halfDiagonal = Math.hypot(varied.plateWidth, plateHeight) / 2;
        for (const s of [easy, varied]) {
          const { x, y } = s.centre;
          const fits =
            x - halfDiagonal >= 0 &&
            x + halfDiagonal <= s.width &&
            y - halfDiagonal >= 0 &&
            y + halfDiagonal <= s.height;
          assert.ok(fits, `seed ${seed}: plate at ${JSON.stringify(s.centre)} may leave the frame`);
        }
      }
    });
  }
});
