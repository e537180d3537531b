/**
 * PlateReader end to end on synthetic scenes (scenes/): each style of
 * plate is rendered on a car, read back and compared with the text that was
 * drawn; then regions of interest, single-plate crops, bad input and
 * overlapping calls. Scenes come from fixed seeds, so a failure here is a
 * change in the reader (or the renderer), never chance.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import { renderPlate } from '../../scenes/plate-renderer.js';
import type { RenderedScene, SceneSpec } from '../../scenes/scene-renderer.js';
import { plainText, renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import type { ImageInput } from '../../edge/vision/image-input.js';
import type { PlateRead } from '../../edge/vision/plate-reader.js';
import { PlateReader, newReadTrace } from '../../edge/vision/plate-reader.js';

/** the first four styles; the plate families added since have their own tests (plate-families.test.ts) */
type FirstStyle = Extract<PlateStyle, 'cn-blue' | 'cn-green' | 'us' | 'eu'>;
const STYLES: readonly FirstStyle[] = ['cn-blue', 'cn-green', 'us', 'eu'];
/** the country a read of each style must name (the eu style draws Slovak plates) */
const COUNTRY_OF_STYLE: Record<FirstStyle, string> = {
  'cn-blue': 'CN',
  'cn-green': 'CN',
  us: 'US',
  eu: 'SK',
};

let reader: PlateReader;

before(async () => {
  reader = await PlateReader.create({ threads: 2 });
});

async function readScene(spec: SceneSpec): Promise<{ scene: RenderedScene; reads: PlateRead[] }> {
  const scene = await renderScene(spec);
  return { scene, reads: await reader.read(scene.jpeg) };
}

function describeReads(reads: PlateRead[]): string {
  return reads.length ? reads.map((r) => `${r.text} (${r.format}, ${r.confidence.toFixed(2)})`).join(', ') : 'no reads';
}

function quadBounds(quad: ReadonlyArray<{ x: number; y: number }>): {
  x: number;
  y: number;
  width: number;
  height: number;
} {
  const xs = quad.map((p) => p.x);
  const ys = quad.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

/** The best read is the plate that was drawn: same text, a format of the style's country, and its box on the plate. */
function assertReadsPlate(scene: RenderedScene, reads: PlateRead[], style: FirstStyle): void {
  const best = reads[0];
  assert.ok(best, `expected ${scene.text}, got no reads`);
  assert.equal(best.text, scene.text, `expected ${scene.text}, got ${describeReads(reads)}`);
  assert.ok(best.region.split('/').includes(COUNTRY_OF_STYLE[style]), `${scene.text} read as ${best.format}`);
  const plate = quadBounds(scene.plateQuad);
  const centre = { x: (best.box[0].x + best.box[2].x) / 2, y: (best.box[0].y + best.box[2].y) / 2 };
  assert.ok(
    centre.x > plate.x && centre.x < plate.x + plate.width && centre.y > plate.y && centre.y < plate.y + plate.height,
    `read box centre (${centre.x.toFixed(0)}, ${centre.y.toFixed(0)}) is off the plate at ${JSON.stringify(plate)}`,
  );
}

describe('PlateReader reads rendered scenes', () => {
  for (const style of STYLES) {
    it(`reads an easy ${style} scene`, async () => {
      const { scene, reads } = await readScene(randomSceneSpec(style, 1, 'easy'));
      assertReadsPlate(scene, reads, style);
    });
  }

  const tilts: Record<FirstStyle, number> = { 'cn-blue': 10, 'cn-green': -12, us: 8, eu: -10 };
  for (const style of STYLES) {
    it(`reads a ${style} plate tilted by ${tilts[style]} degrees`, async () => {
      const { scene, reads } = await readScene({ ...randomSceneSpec(style, 2, 'easy'), rotationDeg: tilts[style] });
      assertReadsPlate(scene, reads, style);
    });
  }

  for (const style of STYLES) {
    it(`reads a small ${style} plate (110 px wide in 1280x720)`, async () => {
      const { scene, reads } = await readScene({ ...randomSceneSpec(style, 3, 'easy'), plateWidth: 110 });
      assertReadsPlate(scene, reads, style);
    });
  }

  for (const style of STYLES) {
    it(`reads a low-contrast ${style} scene (contrast 0.5)`, async () => {
      const { scene, reads } = await readScene({ ...randomSceneSpec(style, 4, 'easy'), contrast: 0.5 });
      assertReadsPlate(scene, reads, style);
    });
  }
});

describe('PlateReader detection passes', () => {
  it('a coarse pass with full-scale regions reads what one full-scale pass reads, and traces both', async () => {
    const fullOnly = await PlateReader.create({ threads: 2, coarseSide: 0 });
    for (const style of STYLES) {
      const scene = await renderScene({ ...randomSceneSpec(style, 6, 'easy'), plateWidth: 160 });
      const trace = newReadTrace();
      const coarse = await reader.read(scene.jpeg, {}, trace);
      const full = await fullOnly.read(scene.jpeg);
      assert.equal(coarse[0]?.text, scene.text, `${style} coarse-to-fine: ${describeReads(coarse)}`);
      assert.equal(full[0]?.text, scene.text, `${style} full scale: ${describeReads(full)}`);
      assert.ok(trace.boxes.length > 0 && trace.candidates.length > 0, `${style}: nothing traced`);
    }
  });
});

describe('PlateReader with a region of interest', () => {
  const spec: SceneSpec = { ...randomSceneSpec('eu', 5, 'easy'), distractors: ['PARKING P2', 'TEL 0905 123 456'] };
  let scene: RenderedScene;

  before(async () => {
    scene = await renderScene(spec);
  });

  it('reads the same plate inside a roi around it', async () => {
    const whole = await reader.read(scene.jpeg);
    assert.equal(whole[0]?.text, scene.text, `whole frame: ${describeReads(whole)}`);
    const plate = quadBounds(scene.plateQuad);
    const x = Math.max(0, Math.floor(plate.x - plate.width / 2));
    const y = Math.max(0, Math.floor(plate.y - plate.height));
    const roi = {
      x,
      y,
      width: Math.min(scene.width, Math.ceil(plate.x + 1.5 * plate.width)) - x,
      height: Math.min(scene.height, Math.ceil(plate.y + 2 * plate.height)) - y,
    };
    const reads = await reader.read(scene.jpeg, { roi });
    assert.equal(reads[0]?.text, scene.text, `roi ${JSON.stringify(roi)}: ${describeReads(reads)}`);
    for (const read of reads) {
      const box = quadBounds(read.box);
      const insideRoi = box.x >= roi.x - 2 && box.x + box.width <= roi.x + roi.width + 2;
      assert.ok(insideRoi, `read ${read.text} at ${JSON.stringify(box)} leaves the roi`);
    }
  });

  it('reads nothing in a roi on an empty part of the frame', async () => {
    const empty = await renderScene({ ...spec, distractors: [] });
    const plate = quadBounds(empty.plateQuad);
    // the frame corner farthest from the plate: wall, road or car body, but no text
    const roiWidth = 320;
    const roiHeight = 180;
    const x = plate.x + plate.width / 2 < empty.width / 2 ? empty.width - roiWidth : 0;
    const y = plate.y + plate.height / 2 < empty.height / 2 ? empty.height - roiHeight : 0;
    const reads = await reader.read(empty.jpeg, { roi: { x, y, width: roiWidth, height: roiHeight } });
    assert.ok(!reads.some((r) => r.text === empty.text), `plate text read outside its roi: ${describeReads(reads)}`);
    assert.deepEqual(
      reads.map((r) => r.text),
      [],
      `expected no reads in an empty roi, got ${describeReads(reads)}`,
    );
  });
});

describe('PlateReader.readCrop', () => {
  const crops: Array<{ style: PlateStyle; text: string; width: number }> = [
    { style: 'cn-blue', text: '皖A12345', width: 220 },
    { style: 'cn-green', text: '粤BD23456', width: 240 },
    { style: 'us', text: '7ABC123', width: 240 },
    { style: 'eu', text: 'BA 123CD', width: 260 },
  ];
  for (const { style, text, width } of crops) {
    it(`reads a rendered ${style} plate crop (${text})`, async () => {
      const plate = await renderPlate({ style, text }, width);
      const reads = await reader.readCrop(plate.png);
      assert.equal(reads[0]?.text, plainText(text), `crop ${text}: ${describeReads(reads)}`);
    });
  }
});

/** A PNG holding only a header that claims 20000 x 20000 pixels (and an empty image stream). */
function hugePngHeader(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(20000, 0); // width
  header.writeUInt32BE(20000, 4); // height
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const emptyZlibStream = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', emptyZlibStream),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('PlateReader rejects bad input', () => {
  let dir: string;
  let goodScene: RenderedScene;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plate-reader-test-'));
    goodScene = await renderScene(randomSceneSpec('cn-blue', 6, 'easy'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function assertBadImage(input: ImageInput, says: RegExp = /\S/): Promise<void> {
    await assert.rejects(reader.read(input), (err: unknown) => {
      const { code, message } = err as { code?: unknown; message?: unknown };
      assert.equal(code, 'BAD_IMAGE', `expected code BAD_IMAGE, got ${String(code)}: ${String(message)}`);
      assert.equal(typeof message, 'string');
      assert.match(message as string, says);
      return true;
    });
  }

  it('rejects an empty file', async () => {
    const path = join(dir, 'empty.jpg');
    await writeFile(path, Buffer.alloc(0));
    await assertBadImage(path);
  });

  it('rejects a path that does not exist', async () => {
    await assertBadImage(join(dir, 'no-such-frame.jpg'));
  });

  it('rejects a truncated JPEG (the first half of a rendered frame)', async () => {
    await assertBadImage(goodScene.jpeg.subarray(0, Math.floor(goodScene.jpeg.length / 2)));
  });

  it('rejects a PNG whose header claims 20000x20000 pixels', async () => {
    const png = hugePngHeader();
    // the header itself is well formed: only its size is the problem
    const meta = await sharp(png, { limitInputPixels: false }).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 20000, 20000]);
    await assertBadImage(png, /20000x20000.*over the 40 MP limit/);
  });

  it('rejects a text file', async () => {
    const path = join(dir, 'notes.txt');
    await writeFile(path, 'plate 皖A12345 entered at 08:15\n');
    await assertBadImage(path);
  });

  it('rejects a zero-size buffer', async () => {
    await assertBadImage(Buffer.alloc(0), /empty/);
  });

  it('rejects a raw frame whose data does not match width x height x channels', async () => {
    await assertBadImage({ data: new Uint8Array(64 * 48 * 3 - 1), width: 64, height: 48, channels: 3 });
    await assertBadImage({ data: new Uint8Array(64 * 48 * 3), width: 64, height: 48, channels: 4 });
  });

  it('still reads a good frame after all that', async () => {
    const reads = await reader.read(goodScene.jpeg);
    assert.equal(reads[0]?.text, goodScene.text, describeReads(reads));
  });
});

describe('PlateReader under concurrent calls', () => {
  it('gives the same reads for 4 overlapping calls as for 4 sequential ones', async () => {
    const scenes = await Promise.all(STYLES.map((style, i) => renderScene(randomSceneSpec(style, 40 + i, 'varied'))));
    const sequential: string[][] = [];
    for (const scene of scenes) sequential.push((await reader.read(scene.jpeg)).map((r) => r.text));
    const concurrentReads = await Promise.all(scenes.map((scene) => reader.read(scene.jpeg)));
    const concurrent = concurrentReads.map((reads) => reads.map((r) => r.text));
    assert.deepEqual(concurrent, sequential);
    assert.ok(
      sequential.some((texts, i) => texts[0] === scenes[i]!.text),
      `none of the four scenes was read (${sequential.map((t) => t[0] ?? '-').join(', ')}), so the comparison says little`,
    );
  });
});
