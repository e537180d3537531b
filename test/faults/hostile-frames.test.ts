/**
 * Hostile frames, with property-based fuzzing (fast-check): corrupt,
 * truncated, empty, giant (headers claiming 20000x20000), non-image bytes
 * and random bytes, raw frames with wrong lengths or NaN sizes: one shared
 * PlateReader rejects each with an ImageInputError (code BAD_IMAGE) saying
 * what is wrong, never crashes, and still reads a good frame afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import sharp from 'sharp';
import type { ImageInput } from '../../edge/vision/image-input.js';
import { ImageInputError } from '../../edge/vision/image-input.js';
import { PlateReader } from '../../edge/vision/plate-reader.js';
import { renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';

describe('hostile frames: the shared PlateReader rejects each with BAD_IMAGE', () => {
  let reader: PlateReader;
  let dir: string;
  let png: Buffer;
  let jpeg: Buffer;
  let webp: Buffer;

  before(async () => {
    reader = await PlateReader.create({ threads: 2 });
    dir = await mkdtemp(join(tmpdir(), 'platepay-hostile-'));
    // a small picture with some text in it, in three encodings
    const base = sharp({ create: { width: 240, height: 96, channels: 3, background: '#2050c0' } }).composite([
      {
        input: Buffer.from(
          '<svg width="240" height="96"><text x="12" y="64" font-size="48" fill="#fff">AB 1234</text></svg>',
        ),
      },
    ]);
    png = await base.clone().png().toBuffer();
    jpeg = await base.clone().jpeg().toBuffer();
    webp = await base.clone().webp().toBuffer();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** the reader rejects `input` with an ImageInputError (BAD_IMAGE) whose message matches `says` */
  async function assertBadImage(input: ImageInput, says: RegExp = /\S/, what = ''): Promise<void> {
    await assert.rejects(reader.read(input), (err: unknown) => {
      assert.ok(err instanceof ImageInputError, `${what}: expected an ImageInputError, got ${String(err)}`);
      assert.equal(err.code, 'BAD_IMAGE');
      assert.match(err.message, says, what);
      return true;
    });
  }

  /** a copy of a JPEG whose SOF header claims width x height */
  function jpegClaiming(width: number, height: number): Buffer {
    const j = Buffer.from(jpeg);
    for (let i = 2; i + 9 < j.length;) {
      const marker = j[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xc3) {
        j.writeUInt16BE(height, i + 5);
        j.writeUInt16BE(width, i + 7);
        return j;
      }
      i += 2 + j.readUInt16BE(i + 2);
    }
    throw new Error('no SOF marker in the test JPEG');
  }

  it('rejects corrupt, truncated, empty, giant and non-image inputs, each saying why', async () => {
    const flipped = (b: Buffer, at: number) => {
      const c = Buffer.from(b);
      c[at] = c[at]! ^ 0xff;
      return c;
    };
    const smeared = Buffer.from(jpeg).fill(0xff, 20, 200);
    const textFile = join(dir, 'plate.jpg');
    await writeFile(textFile, 'not a picture, only a name that says it is one\n');
    const cases: Array<[string, ImageInput, RegExp]> = [
      ['an empty Uint8Array', new Uint8Array(0), /empty/],
      ['a JPEG with its header tables overwritten', smeared, /not a readable image/],
      ['a PNG with a flipped byte in IHDR (bad CRC)', flipped(png, 20), /not a readable image/],
      ['a PNG with a flipped byte in its pixel data', flipped(png, png.length - 20), /cannot be decoded/],
      ['a PNG cut after its signature', png.subarray(0, 8), /not a readable image/],
      ['a PNG cut in half', png.subarray(0, png.length >> 1), /\S/],
      ['a WebP cut in half', webp.subarray(0, webp.length >> 1), /\S/],
      ['a JPEG of only its SOI marker', jpeg.subarray(0, 2), /not a readable image/],
      ['a JPEG header claiming 20000x20000', jpegClaiming(20000, 20000), /20000x20000.*over the 40 MP limit/],
      [
        'a JPEG header claiming 65535x65535',
        jpegClaiming(65535, 65535),
        /65535x65535.*over the 40 MP limit|Maximum supported image dimension/,
      ],
      ['a JPEG header claiming 0x0', jpegClaiming(0, 0), /\S/],
      [
        'an SVG claiming 20000x20000',
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000"></svg>'),
        /20000x20000.*over the 40 MP limit/,
      ],
      ['a GIF signature alone', Buffer.from('GIF89a'), /not a readable image/],
      ['a PDF', Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'), /not a readable image/],
      ['an ELF header', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(56).fill(0)]), /not a readable/],
      ['a ZIP header', Buffer.from('PK\x03\x04' + '\0'.repeat(26)), /not a readable image/],
      ['JSON text', Buffer.from('{"plate": "ABC1234"}'), /not a readable image/],
      ['one zero byte', Buffer.alloc(1), /not a readable image/],
      ['64 KiB of 0xff', Buffer.alloc(65536, 0xff), /not a readable image/],
      ['a text file named .jpg', textFile, /not a readable image/],
      ['a directory', dir, /not a regular file/],
      ['/dev/zero (an endless stream: must not be read)', '/dev/zero', /not a regular file/],
      ['a path with a NUL byte', 'frame\0.jpg', /cannot read image file/],
      ['an empty path', '', /cannot read image file/],
    ];
    for (const [what, input, says] of cases) await assertBadImage(input, says, what);
  });

  it('rejects raw frames with wrong sizes, channels or data, naming the problem', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['NaN x NaN', { data: new Uint8Array(0), width: NaN, height: NaN, channels: 3 }, /invalid size NaNxNaN/],
      ['NaN width', { data: new Uint8Array(30), width: NaN, height: 10, channels: 3 }, /invalid size/],
      ['Infinity x 1', { data: new Uint8Array(3), width: Infinity, height: 1, channels: 3 }, /invalid size/],
      ['0 x 0', { data: new Uint8Array(0), width: 0, height: 0, channels: 3 }, /invalid size 0x0/],
      ['negative', { data: new Uint8Array(12), width: -2, height: -2, channels: 3 }, /invalid size -2x-2/],
      ['fractional', { data: new Uint8Array(12), width: 1.5, height: 2, channels: 4 }, /invalid size 1.5x2/],
      ['a width that is a string', { data: new Uint8Array(12), width: '2', height: 2, channels: 3 }, /invalid size/],
      ['1 channel', { data: new Uint8Array(4), width: 2, height: 2, channels: 1 }, /1 channels; 3 or 4/],
      ['NaN channels', { data: new Uint8Array(12), width: 2, height: 2, channels: NaN }, /NaN channels/],
      ['one byte short', { data: new Uint8Array(64 * 48 * 3 - 1), width: 64, height: 48, channels: 3 }, /9215/],
      ['one byte long', { data: new Uint8Array(64 * 48 * 4 + 1), width: 64, height: 48, channels: 4 }, /12289/],
      ['RGB data said to be RGBA', { data: new Uint8Array(64 * 48 * 3), width: 64, height: 48, channels: 4 }, /9216/],
      ['data as a number[]', { data: [1, 2, 3], width: 1, height: 1, channels: 3 }, /not a Uint8Array/],
      ['data as a Float32Array', { data: new Float32Array(3), width: 1, height: 1, channels: 3 }, /not a Uint8Array/],
      ['null data', { data: null, width: 1, height: 1, channels: 3 }, /not a Uint8Array/],
      ['100000 x 100000', { data: new Uint8Array(3), width: 100_000, height: 100_000, channels: 3 }, /over the 40 MP/],
      ['2^31 x 2^31', { data: new Uint8Array(3), width: 2 ** 31, height: 2 ** 31, channels: 3 }, /over the 40 MP/],
      ['an object without width', { data: new Uint8Array(3) }, /expected a file path, an image buffer or a raw frame/],
    ];
    for (const [what, input, says] of cases) await assertBadImage(input as ImageInput, says, what);
  });

  it('rejects random bytes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 4096 }), async (bytes) => {
        await assertBadImage(Buffer.from(bytes), /\S/, `random ${bytes.length} bytes`);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects every truncation of a PNG, JPEG and WebP short of its trailer (property)', async () => {
    // a PNG whose 12-byte IEND trailer (or a JPEG whose 2-byte EOI) is all that is missing still has every pixel
    const encodings: Array<[string, Buffer, number]> = [
      ['png', png, 12],
      ['jpeg', jpeg, 2],
      ['webp', webp, 0],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...encodings),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async ([name, bytes, trailer], where) => {
          const keep = Math.min(bytes.length - trailer - 1, Math.floor(where * (bytes.length - trailer)));
          await assertBadImage(bytes.subarray(0, keep), /\S/, `${name} cut to ${keep} of ${bytes.length} bytes`);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('never crashes on images with random bytes overwritten: reads or BAD_IMAGE (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(png, jpeg, webp),
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        async (image, edits) => {
          const bytes = Buffer.from(image);
          for (const [where, value] of edits) bytes[Math.floor(where * bytes.length)] = value;
          try {
            const reads = await reader.read(bytes);
            assert.ok(Array.isArray(reads));
          } catch (err) {
            assert.ok(err instanceof ImageInputError, `not an ImageInputError: ${String(err)}`);
            assert.equal(err.code, 'BAD_IMAGE');
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects raw frames whose data length does not match width x height x channels (property)', async () => {
    const dimension = fc.oneof(
      fc.integer({ min: -4, max: 300 }),
      fc.constantFrom(NaN, Infinity, -Infinity, 0.5, 2 ** 53, -0),
    );
    await fc.assert(
      fc.asyncProperty(
        dimension,
        dimension,
        fc.oneof(fc.constantFrom(3, 4), fc.integer({ min: -1, max: 8 }), fc.constant(NaN)),
        fc.nat({ max: 300 * 300 * 4 + 8 }),
        async (width, height, channels, length) => {
          fc.pre(length !== width * height * channels || ![3, 4].includes(channels) || !(width > 0 && height > 0));
          const frame = { data: new Uint8Array(length), width, height, channels } as unknown as ImageInput;
          await assertBadImage(frame, /raw frame/, `raw ${width}x${height}x${channels}, ${length} bytes`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('takes hostile inputs concurrently with a good frame, and still reads the good frame right', async () => {
    const scene = await renderScene(randomSceneSpec('cn-blue', 6, 'easy'));
    const hostile: ImageInput[] = [
      jpegClaiming(20000, 20000),
      jpeg.subarray(0, jpeg.length >> 1),
      Buffer.alloc(0),
      { data: new Uint8Array(5), width: NaN, height: 2, channels: 3 },
      '/dev/zero',
    ];
    const results = await Promise.allSettled([...hostile.map((h) => reader.read(h)), reader.read(scene.jpeg)]);
    for (const r of results.slice(0, hostile.length)) {
      assert.equal(r.status, 'rejected');
      if (r.status === 'rejected') assert.equal((r.reason as ImageInputError).code, 'BAD_IMAGE');
    }
    const good = results[hostile.length]!;
    assert.equal(good.status, 'fulfilled');
    if (good.status === 'fulfilled') assert.equal(good.value[0]?.text, scene.text);
  });

  it('rejects null, undefined, numbers and arrays with BAD_IMAGE', async () => {
    for (const bad of [null, undefined, 42, [1, 2, 3], { height: 4 }])
      await assertBadImage(bad as unknown as ImageInput);
  });
});
