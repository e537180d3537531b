/**
 * Hostile input at each way in, with property-based fuzzing (fast-check):
 *
 * - frames: corrupt, truncated, empty, giant (headers claiming 20000x20000),
 *   non-image bytes and random bytes, raw frames with wrong lengths or NaN
 *   sizes: one shared PlateReader rejects each with an ImageInputError
 *   (code BAD_IMAGE) saying what is wrong, never crashes, and still reads a
 *   good frame afterwards;
 * - protocol: malformed, truncated, oversized, wrongly versioned and
 *   wrong-typed messages (arbitrary JSON and mutations of valid messages)
 *   are refused by the codec with a ProtoError naming the problem; over a
 *   real WebSocket the hub answers each with an error (or closes a
 *   connection that sends a frame over the limit), stores nothing, and goes
 *   on serving another gate;
 * - API bodies: wrong types, missing and extra fields, 1 MB strings, deep
 *   nesting, prototype keys and unicode tricks in plates (full-width,
 *   zero-width, homoglyphs, direction marks, combining marks, NUL, styled
 *   and compatibility characters) get a 4xx `{error: {code, message}}`,
 *   never a 5xx, and leave the database unchanged. Full-width and
 *   zero-width forms of a plate are normalised to it; everything that could
 *   make a plate look like another one is refused (proto/plate-syntax.ts).
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
import { randomSceneSpec, renderScene } from '../../scenes/scene-renderer.js';
import type { ProtoErrorCode } from '../../proto/v1/codec.js';
import {
  ProtoError,
  decodeCloudToGate,
  decodeGateToCloud,
  encodeMessage,
  laneEventSigningBytes,
} from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { LaneEventBody } from '../../proto/v1/messages.js';
import { MAX_MESSAGE_BYTES } from '../../proto/v1/messages.js';
import { normalisePlate } from '../../proto/plate-syntax.js';
import type { Reply } from '../cloud/cloud-harness.js';
import { ADMIN_KEY, TestCloud, setUpLot, signUp, tariff } from '../cloud/cloud-harness.js';
import { RawGate } from './raw-gate.js';

/* ------------------------------------------------------------------ frames */

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

/* ------------------------------------------------------------------ protocol */

const GATE_ID = `gat_${'a'.repeat(32)}`;
const LANE_ID = `lan_${'b'.repeat(32)}`;
const SIG = 'A'.repeat(86) + '==';
const NONCE = 'B'.repeat(43) + '=';
const eventBody: LaneEventBody = {
  gateId: GATE_ID,
  counter: 7,
  eventId: 'ev-7',
  laneId: LANE_ID,
  kind: 'exit',
  plate: '皖A12345',
  confidence: 0.97,
  evidenceDigest: 'cd'.repeat(32),
  triggeredAt: 1_790_000_000_000,
  at: 1_790_000_000_250,
};
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** valid gate -> cloud messages, one of each type */
const validMessages: Record<string, Record<string, Json>> = {
  hello: { v: 1, type: 'hello', id: 'h1', gateId: GATE_ID, software: 'platepay-edge 0.1.0' },
  auth: { v: 1, type: 'auth', id: 'a1', gateId: GATE_ID, nonce: NONCE, signature: SIG },
  laneEvent: { v: 1, type: 'laneEvent', id: 'e1', event: { ...eventBody }, signature: SIG },
  ping: { v: 1, type: 'ping', id: 'p1' },
  pong: { v: 1, type: 'pong', id: 'p2', re: 'c1' },
};

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A message the codec must refuse, the code it must refuse it with, and what the message must mention. */
interface Hostile {
  what: string;
  data: string | Buffer;
  code: ProtoErrorCode;
  says: RegExp;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const simpleKey = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,11}$/);

/** Mutations of valid messages that are never valid: each field dropped, retyped, extra fields, bad versions... */
const hostileMessage: fc.Arbitrary<Hostile> = fc.constantFrom(...Object.keys(validMessages)).chain((name) => {
  const base = validMessages[name]!;
  const fields = Object.keys(base).map((k) => [k]);
  if (name === 'laneEvent') fields.push(...Object.keys(eventBody).map((k) => ['event', k]));
  const field = fc.constantFrom(...fields);
  const clone = () => structuredClone(base) as Record<string, Json>;
  const parentOf = (o: Record<string, Json>, path: string[]) =>
    (path.length === 2 ? o[path[0]!] : o) as Record<string, Json>;
  const expectFor = (path: string[]): { code: ProtoErrorCode; says: RegExp } =>
    path[0] === 'v' && path.length === 1
      ? { code: 'UNSUPPORTED_VERSION', says: /protocol version .* is not supported/ }
      : path[0] === 'type' && path.length === 1
        ? { code: 'BAD_MESSAGE', says: /unknown message type/ }
        : { code: 'BAD_MESSAGE', says: new RegExp(`/${path.map(escapeRe).join('/')}`) };
  return fc.oneof(
    // a required field missing
    field.map((path): Hostile => {
      const o = clone();
      delete parentOf(o, path)[path[path.length - 1]!];
      return { what: `${name} without ${path.join('.')}`, data: JSON.stringify(o), ...expectFor(path) };
    }),
    // a field of the wrong JSON type
    fc
      .tuple(field, fc.jsonValue({ maxDepth: 3 }))
      .filter(([path, v]) => jsonType(v) !== jsonType(parentOf(base, path)[path[path.length - 1]!]))
      .map(([path, v]): Hostile => {
        const o = clone();
        parentOf(o, path)[path[path.length - 1]!] = v as Json;
        return {
          what: `${name} with ${path.join('.')} = ${JSON.stringify(v).slice(0, 40)}`,
          data: JSON.stringify(o),
          ...expectFor(path),
        };
      }),
    // an extra field, at the top or in the lane event
    fc
      .tuple(simpleKey, fc.jsonValue({ maxDepth: 2 }), fc.boolean())
      .filter(([k]) => !(k in base) && !(k in eventBody) && k !== 'crop')
      .map(([k, v, nested]): Hostile => {
        const o = clone();
        const inEvent = nested && name === 'laneEvent';
        (inEvent ? (o.event as Record<string, Json>) : o)[k] = v as Json;
        return {
          what: `${name} with an extra ${inEvent ? 'event.' : ''}${k}`,
          data: JSON.stringify(o),
          code: 'BAD_MESSAGE',
          says: new RegExp(`${inEvent ? '/event' : ''}/${k}`),
        };
      }),
    // another protocol version
    fc
      .jsonValue({ maxDepth: 2 })
      .filter((v) => v !== 1)
      .map((v): Hostile => ({
        what: `${name} of version ${JSON.stringify(v).slice(0, 40)}`,
        data: JSON.stringify({ ...base, v }),
        code: 'UNSUPPORTED_VERSION',
        says: /protocol version .* is not supported \(this side speaks 1\)/,
      })),
    // a type the gate may not send (including the cloud's own message types)
    fc
      .oneof(
        fc.string(),
        fc.constantFrom('decision', 'policy', 'welcome', 'challenge', 'error', 'ack', 'resolveReview'),
      )
      .filter((t) => !(t in validMessages))
      .map((t): Hostile => ({
        what: `${name} retyped ${JSON.stringify(t)}`,
        data: JSON.stringify({ ...base, type: t }),
        code: 'BAD_MESSAGE',
        says: /unknown message type|does not match|\//,
      })),
    // cut short anywhere
    fc.nat().map((n): Hostile => {
      const text = JSON.stringify(base);
      return {
        what: `${name} cut to ${n % text.length} bytes`,
        data: text.slice(0, n % text.length),
        code: 'BAD_MESSAGE',
        says: /not valid JSON/,
      };
    }),
    // over 64 KiB (whitespace inside the JSON)
    fc.integer({ min: 1, max: 200_000 }).map((extra): Hostile => ({
      what: `${name} padded past 64 KiB`,
      data: JSON.stringify(base).replace('{', '{' + ' '.repeat(MAX_MESSAGE_BYTES + extra)),
      code: 'TOO_LARGE',
      says: /larger than 65536/,
    })),
    // not an object
    fc.constantFrom('array', 'string', 'number', 'null').map((kind): Hostile => ({
      what: `${name} wrapped as ${kind}`,
      data:
        kind === 'array'
          ? JSON.stringify([base])
          : kind === 'string'
            ? JSON.stringify(JSON.stringify(base))
            : kind === 'number'
              ? '1'
              : 'null',
      code: 'BAD_MESSAGE',
      says: /not a JSON object/,
    })),
    // bytes that are not UTF-8 JSON
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes): Hostile => ({
      what: `${name} prefixed with ${bytes.length} random bytes`,
      data: Buffer.concat([Buffer.from([0xff]), Buffer.from(bytes), Buffer.from(JSON.stringify(base))]),
      code: 'BAD_MESSAGE',
      says: /not valid JSON/,
    })),
  );
});

function refusal(data: string | Buffer): ProtoError {
  try {
    decodeGateToCloud(data);
  } catch (err) {
    assert.ok(err instanceof ProtoError, `not a ProtoError: ${String(err)}`);
    return err;
  }
  assert.fail('the codec accepted it');
}

describe('hostile protocol messages: the codec refuses each, naming the problem', () => {
  it('accepts the valid messages the mutations start from', () => {
    for (const m of Object.values(validMessages)) assert.equal(decodeGateToCloud(JSON.stringify(m)).type, m.type);
  });

  it('refuses mutations of valid messages with the right code and a message naming the field (property)', () => {
    fc.assert(
      fc.property(hostileMessage, (h) => {
        const err = refusal(h.data);
        assert.equal(err.code, h.code, `${h.what}: ${err.message}`);
        assert.match(err.message, h.says, h.what);
        assert.ok(err.message.length <= 600, `${h.what}: a message of ${err.message.length} characters`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses arbitrary JSON values, and never throws anything but a ProtoError (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, asBuffer) => {
        const text = JSON.stringify(value) ?? 'null';
        for (const decode of [decodeGateToCloud, decodeCloudToGate]) {
          try {
            decode(asBuffer ? Buffer.from(text) : text);
            assert.fail(`accepted ${text.slice(0, 80)}`);
          } catch (err) {
            assert.ok(err instanceof ProtoError, String(err));
            assert.ok(['BAD_MESSAGE', 'UNSUPPORTED_VERSION'].includes(err.code), err.code);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes 64 KiB exactly and refuses one byte more', () => {
    const ping = JSON.stringify(validMessages.ping);
    const exact = ping.replace('{', '{' + ' '.repeat(MAX_MESSAGE_BYTES - ping.length));
    assert.equal(Buffer.byteLength(exact), MAX_MESSAGE_BYTES);
    assert.equal(decodeGateToCloud(exact).type, 'ping');
    assert.equal(refusal(' ' + exact).code, 'TOO_LARGE');
    // the limit is in bytes, not characters: 3-byte characters count three times
    const wide = JSON.stringify({ ...validMessages.hello, software: '界'.repeat(22_000) });
    assert.ok(wide.length < MAX_MESSAGE_BYTES && Buffer.byteLength(wide) > MAX_MESSAGE_BYTES);
    assert.equal(refusal(wide).code, 'TOO_LARGE');
  });

  it('refuses prototype keys and deep nesting without polluting anything or overflowing the stack', () => {
    const cases: Array<[string, string]> = [
      ['__proto__ at the top', '{"v":1,"type":"ping","id":"p","__proto__":{"polluted":true}}'],
      ['constructor.prototype', '{"v":1,"type":"ping","id":"p","constructor":{"prototype":{"polluted":true}}}'],
      ['type "__proto__"', '{"v":1,"type":"__proto__","id":"p"}'],
      ['type "constructor"', '{"v":1,"type":"constructor","id":"p"}'],
      [
        '__proto__ in the event',
        JSON.stringify(validMessages.laneEvent).replace('"gateId"', '"__proto__":{},"gateId"'),
      ],
      ['20000 nested arrays', `{"v":1,"type":"ping","id":"p","x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`],
      [
        'an event of 5000 nested objects',
        `{"v":1,"type":"laneEvent","id":"e","event":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},"signature":"${SIG}"}`,
      ],
    ];
    for (const [what, text] of cases) {
      const err = refusal(text);
      assert.equal(err.code, 'BAD_MESSAGE', `${what}: ${err.message}`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
  });

  it('refuses cloud messages that break their schema on the gate side too', () => {
    const decision = {
      v: 1,
      type: 'decision',
      id: 'c1',
      re: 'e1',
      decision: {
        eventId: 'ev-7',
        action: 'open',
        reason: 'charged',
        fee: 500,
        currency: 'CNY',
        settlementId: null,
        reviewId: null,
        duplicate: false,
      },
    };
    assert.equal(decodeCloudToGate(JSON.stringify(decision)).type, 'decision');
    const bad: Array<[string, unknown, RegExp]> = [
      ['a negative fee', { ...decision, decision: { ...decision.decision, fee: -1 } }, /fee/],
      ['action "launch"', { ...decision, decision: { ...decision.decision, action: 'launch' } }, /action/],
      ['a lowercase currency', { ...decision, decision: { ...decision.decision, currency: 'cny' } }, /currency/],
      ['no decision', { ...decision, decision: undefined }, /decision/],
      [
        'a policy with a short hash',
        { v: 1, type: 'policy', id: 'c2', issuedAt: 1, salt: 'A'.repeat(22) + '==', allow: ['ab'] },
        /allow/,
      ],
      ['a gate message', validMessages.hello, /unknown message type/],
    ];
    for (const [what, message, says] of bad) {
      assert.throws(
        () => decodeCloudToGate(JSON.stringify(message)),
        (err: unknown) => err instanceof ProtoError && err.code === 'BAD_MESSAGE' && says.test(err.message),
        what,
      );
    }
  });
});

describe('hostile protocol messages over a real gate connection', () => {
  let t: TestCloud;
  let lanes: { lotId: string; entry: string; exit: string };
  const goodKey = GateKey.generate();
  const hostileKey = GateKey.generate();
  let goodGate: string;
  let hostileGate: string;
  let counter = 0;

  before(async () => {
    t = await TestCloud.start();
    lanes = await setUpLot(t);
    for (const [name, key] of [
      ['good', goodKey],
      ['hostile', hostileKey],
    ] as const) {
      const r = await t.call('POST', `/v1/lots/${lanes.lotId}/gates`, {
        token: ADMIN_KEY,
        body: { name, publicKey: key.publicKey },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      if (name === 'good') goodGate = r.body.id;
      else hostileGate = r.body.id;
    }
  });
  after(async () => {
    await t.stop();
  });

  const signedEvent = (gateId: string, key: GateKey, plate: string) => {
    const body: LaneEventBody = {
      ...eventBody,
      gateId,
      counter: ++counter,
      eventId: `hostile-${counter}`,
      laneId: lanes.entry,
      kind: 'entry',
      plate,
      triggeredAt: t.clock.now(),
      at: t.clock.now(),
    };
    return { body, signature: key.sign(laneEventSigningBytes(body)) };
  };

  /** sends each hostile message and checks the hub answers it with the codec's code; pings the good gate between */
  async function barrage(h: RawGate, good: RawGate, messages: Hostile[]): Promise<void> {
    // (bytes that are not UTF-8 make a text frame the WebSocket layer itself refuses: tried last, below)
    for (const [i, m] of messages.filter((x) => typeof x.data === 'string').entries()) {
      const expected = refusal(m.data);
      h.send(m.data);
      const answer = await h.next();
      assert.ok(answer?.type === 'error', `${m.what}: expected an error, got ${JSON.stringify(answer)}`);
      if (answer?.type !== 'error') return;
      assert.equal(answer.code, expected.code, `${m.what}: ${answer.message}`);
      assert.equal(answer.re, expected.re, m.what);
      assert.ok(answer.message.length > 0 && !answer.retryable, m.what);
      if (i % 10 === 0) await good.ping();
    }
  }

  it('answers each malformed message with an error, stores nothing and keeps serving another gate', async () => {
    const good = await RawGate.connect(t.url);
    await good.handshake(goodGate, goodKey);
    await t.cloud.checkpointNow();
    const before = t.snapshot();

    // before authenticating
    const h = await RawGate.connect(t.url);
    const batch = fc.sample(hostileMessage, { numRuns: 60, seed: 42 });
    await barrage(h, good, batch);

    // after authenticating as a registered gate
    await h.handshake(hostileGate, hostileKey);
    const { body, signature } = signedEvent(hostileGate, hostileKey, 'HOS1234');
    const valid = { v: 1, type: 'laneEvent', id: 'hx', event: body, signature };
    const eventMutations: Hostile[] = [
      ...(['plate', 'counter', 'confidence', 'laneId', 'at'] as const).map((f): Hostile => ({
        what: `a signed event with ${f} retyped`,
        data: JSON.stringify({ ...valid, event: { ...body, [f]: [body[f]] } }),
        code: 'BAD_MESSAGE',
        says: new RegExp(f),
      })),
      {
        what: 'a signed event with a 33-character plate',
        data: JSON.stringify({ ...valid, event: { ...body, plate: 'A'.repeat(33) } }),
        code: 'BAD_MESSAGE',
        says: /plate/,
      },
      {
        what: 'a signed event with confidence 1.5',
        data: JSON.stringify({ ...valid, event: { ...body, confidence: 1.5 } }),
        code: 'BAD_MESSAGE',
        says: /confidence/,
      },
      {
        what: 'a signed event with a negative counter',
        data: JSON.stringify({ ...valid, event: { ...body, counter: -1 } }),
        code: 'BAD_MESSAGE',
        says: /counter/,
      },
      {
        what: 'a decision sent by a gate',
        data: JSON.stringify({ v: 1, type: 'decision', id: 'd', re: 'x', decision: {} }),
        code: 'BAD_MESSAGE',
        says: /unknown message type/,
      },
      ...fc.sample(hostileMessage, { numRuns: 60, seed: 7 }),
    ];
    await barrage(h, good, eventMutations);
    // a binary frame is not part of the protocol
    h.send(Buffer.from(encodeMessage({ v: 1, type: 'ping', id: 'bin' })), true);
    const binary = await h.next();
    assert.ok(binary?.type === 'error' && binary.code === 'BAD_MESSAGE', JSON.stringify(binary));
    // the hostile gate's connection still works for a valid ping
    await h.ping();

    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'no refused message changed the database');

    // a frame over the socket limit (4 MiB) closes that connection only
    h.send('x'.repeat(5 * 1024 * 1024));
    assert.equal(await h.closed, 1009);
    await good.ping();
    const e = signedEvent(goodGate, goodKey, 'GOD1234');
    good.send({ v: 1, type: 'laneEvent', id: good.id(), event: e.body, signature: e.signature });
    const decision = await good.next();
    assert.ok(
      decision?.type === 'decision' && decision.decision.action === 'open' && decision.decision.reason === 'entry',
      JSON.stringify(decision),
    );
    // a text frame that is not UTF-8 closes that connection only (1007, by the WebSocket layer)
    const garbled = await RawGate.connect(t.url);
    garbled.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
    assert.equal(await garbled.closed, 1007);
    await good.ping();
    // and a new connection is admitted as before
    const again = await RawGate.connect(t.url);
    await again.handshake(hostileGate, hostileKey);
    await again.ping();
    again.close();
    good.close();
  });
});

/* ------------------------------------------------------------------ API bodies */

describe('hostile API bodies: 4xx with {error: {code, message}}, never a 5xx, and nothing changes', () => {
  let t: TestCloud;
  let ana: { token: string; accountId: string; driverId: string };
  let bo: { token: string; accountId: string; driverId: string };
  let lot: { lotId: string; entry: string; exit: string };
  const ANA_PLATE = 'BEA1230';

  before(async () => {
    t = await TestCloud.start();
    ana = await signUp(t, 'ana@example.com');
    bo = await signUp(t, 'bo@example.com');
    lot = await setUpLot(t);
    const link = await t.call('POST', '/v1/me/links', {
      token: ana.token,
      body: { plate: ANA_PLATE, accountId: ana.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
  });
  after(async () => {
    await t.stop();
  });

  function assertRefused(r: Reply, what: string, status?: number | RegExp, code?: string | RegExp): void {
    assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status} ${JSON.stringify(r.body)}`);
    if (typeof status === 'number') assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body?.error?.code, 'string', `${what}: ${JSON.stringify(r.body)}`);
    assert.ok(typeof r.body.error.message === 'string' && r.body.error.message.length > 0, what);
    if (typeof code === 'string') assert.equal(r.body.error.code, code, `${what}: ${JSON.stringify(r.body)}`);
    else if (code) assert.match(r.body.error.code, code, `${what}: ${JSON.stringify(r.body)}`);
  }

  async function unchanged(work: () => Promise<void>): Promise<void> {
    await t.cloud.checkpointNow();
    const before = t.snapshot();
    await work();
    await t.cloud.checkpointNow();
    assert.equal(t.snapshot(), before, 'a refused request changed the database');
  }

  /** a plate for a query string; a lone surrogate (no UTF-8 form) is sent as its 3-byte CESU-8 encoding */
  const queryText = (plate: string) => {
    try {
      return encodeURIComponent(plate);
    } catch {
      return plate.replace(/[\uD800-\uDFFF]/g, '%ED%A0%80');
    }
  };

  /** plates that could be mistaken for another plate: each must be refused (INVALID_PLATE) */
  const trickPlates: Array<[string, string]> = [
    ['Cyrillic А, В, Е', '\u0412\u0415\u04101230'],
    ['a Cyrillic О for the digit 0', 'BEA123\u041E'],
    ['Greek Β, Ε, Α', '\u0392\u0395\u03911230'],
    ['a left-to-right mark', 'BEA\u200E1230'],
    ['a right-to-left mark', 'BEA\u200F1230'],
    ['a right-to-left override (shows as BEA1230)', '\u202E0321AEB'],
    ['a right-to-left isolate', 'BEA\u20671230\u2069'],
    ['an Arabic letter mark', '\u061CBEA1230'],
    ['a combining acute accent', 'BE\u0301A1230'],
    ['a combining long stroke overlay', 'BEA1230\u0336'],
    ['a combining enclosing circle', 'BEA1230\u20DD'],
    ['NUL', 'BEA\u00001230'],
    ['a bell control character', 'BEA1230\u0007'],
    ['a soft hyphen', 'BEA\u00AD1230'],
    ['a Hangul filler (invisible)', 'BEA\u31641230'],
    ['a variation selector', 'BEA1230\uFE0F'],
    ['invisible tag characters', 'BEA1230\u{E0041}'],
    ['circled letters', '\u24B7\u24BA\u24B61230'],
    ['mathematical bold letters', '\u{1D401}\u{1D404}\u{1D400}1230'],
    ['superscript digits', 'BEA\u00B9\u00B2\u00B3\u2070'],
    ['a Roman numeral one (reads as I)', 'BEA\u2160230'],
    ['the Kelvin sign', '\u212ABC1234'],
    ['a dotless i', 'BEA\u0131230'],
    ['a long s', '\u017FEA1230'],
    ['sharp s (upper-cases to SS)', 'BEA\u00DF12'],
    ['a ligature fi', 'BE\uFB011230'],
    ['a squared unit ㎏ (reads as KG)', 'BEA12\u338F'],
    ['a Kangxi radical that looks like 甘', '\u2F62A12345'],
    ['a compatibility ideograph for 冀', '\uFA75A12345'],
    ['a lone surrogate', 'BEA\uD8001230'],
    ['an emoji', 'BEA\u{1F697}230'],
  ];

  it('refuses plates with unicode tricks on every route that takes a plate', async () => {
    await unchanged(async () => {
      for (const [i, [what, plate]] of trickPlates.entries()) {
        assert.equal(normalisePlate(plate), null, `${what}: normalised to ${normalisePlate(plate)}`);
        const link = await t.call('POST', '/v1/me/links', {
          token: bo.token,
          body: { plate, accountId: bo.accountId },
        });
        assertRefused(link, `link of ${what}`, 400, 'INVALID_PLATE');
        const dispute = await t.call('POST', '/v1/me/disputes', {
          token: bo.token,
          body: { plate, accountId: bo.accountId, reason: 'mine' },
        });
        assertRefused(dispute, `dispute of ${what}`, 400, 'INVALID_PLATE');
        const pending = await t.call('GET', `/v1/pending-payments?plate=${queryText(plate)}`, {
          token: bo.token,
        });
        assertRefused(pending, `pending payments of ${what}`, 400, 'INVALID_PLATE');
        const event = await t.call('POST', '/v1/events', {
          token: ADMIN_KEY,
          body: { eventId: `trick-${i}`, laneId: lot.entry, plate, confidence: 0.99, at: t.clock.now() },
        });
        assertRefused(event, `event of ${what}`, 400, 'INVALID_PLATE');
      }
    });
  });

  it('refuses a letter O where a CN plate has a digit (CN plates never use O)', async () => {
    await unchanged(async () => {
      for (const plate of ['皖AO1234', '皖A1234O', '京ＡＯ１２３４']) {
        const link = await t.call('POST', '/v1/me/links', {
          token: bo.token,
          body: { plate, accountId: bo.accountId },
        });
        assertRefused(link, `link of ${plate}`, 400, 'INVALID_PLATE');
        assert.match(link.body.error.message, /fits no supported plate format/);
      }
    });
  });

  it('normalises full-width, zero-width, case and separator forms to the one plate they show', async () => {
    const forms: Array<[string, string]> = [
      ['full-width', 'ＢＥＡ１２３０'],
      ['full-width lower case', 'ｂｅａ１２３０'],
      ['zero-width space, joiners and BOM', '\u200BB\u200CE\u200DA\u20601\uFEFF230'],
      ['lower case with separators', 'bea-123.0'],
      ['an ideographic space and full-width hyphen', 'BEA\u3000１２－３０'],
    ];
    await unchanged(async () => {
      for (const [what, plate] of forms) {
        assert.equal(normalisePlate(plate), ANA_PLATE, what);
        const r = await t.call('POST', '/v1/me/links', { token: bo.token, body: { plate, accountId: bo.accountId } });
        assertRefused(r, `${what} form of a plate Ana holds`, 409, 'PLATE_LINKED_ELSEWHERE');
      }
    });
    // a new plate typed in full-width is stored as ASCII, and its ASCII form is then the same plate
    const link = await t.call('POST', '/v1/me/links', {
      token: bo.token,
      body: { plate: 'ＸＹ\u200BＺ７８９０', accountId: bo.accountId },
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    assert.equal(link.body.plate, 'XYZ7890');
    const taken = await t.call('POST', '/v1/me/links', {
      token: ana.token,
      body: { plate: 'xyz 7890', accountId: ana.accountId },
    });
    assertRefused(taken, 'ASCII form of a plate linked in full-width', 409, 'PLATE_LINKED_ELSEWHERE');
  });

  it('keeps a digit 0 and a letter O apart: a look-alike plate is its own plate, never the other one', async () => {
    // both are issued in European series, so BEA123O is a plate of its own; it is stored exactly as typed
    const r = await t.call('POST', '/v1/me/links', {
      token: bo.token,
      body: { plate: 'bea123o', accountId: bo.accountId },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.plate, 'BEA123O');
    const anaLinks = await t.call('GET', '/v1/me/links', { token: ana.token });
    assert.deepEqual(
      anaLinks.body.links.map((l: { plate: string }) => l.plate),
      [ANA_PLATE],
      "Ana's link is untouched",
    );
    const del = await t.call('DELETE', `/v1/me/links/${r.body.id}`, { token: bo.token });
    assert.equal(del.status, 204);
  });

  /** routes with a good body (each valid for its schema), to mutate */
  const routes = (): Array<{
    name: string;
    method: string;
    path: string;
    token: string;
    body: Record<string, Json>;
  }> => [
    {
      name: 'sign-up',
      method: 'POST',
      path: '/v1/drivers',
      token: '',
      body: { email: 'x@example.com', password: 'long enough', name: 'X' },
    },
    {
      name: 'sign-in',
      method: 'POST',
      path: '/v1/auth/token',
      token: '',
      body: { email: 'ana@example.com', password: 'wrong password' },
    },
    {
      name: 'new account',
      method: 'POST',
      path: '/v1/me/accounts',
      token: ana.token,
      body: { currency: 'EUR', label: 'travel' },
    },
    {
      name: 'top-up',
      method: 'POST',
      path: `/v1/me/accounts/${ana.accountId}/top-ups`,
      token: ana.token,
      body: { amount: 100, reference: 'r1' },
    },
    {
      name: 'link',
      method: 'POST',
      path: '/v1/me/links',
      token: ana.token,
      body: { plate: 'NEW1234', accountId: ana.accountId },
    },
    {
      name: 'dispute',
      method: 'POST',
      path: '/v1/me/disputes',
      token: bo.token,
      body: { plate: ANA_PLATE, accountId: bo.accountId, reason: 'mine' },
    },
    {
      name: 'pay',
      method: 'POST',
      path: `/v1/pending-payments/pay_${'0'.repeat(32)}/pay`,
      token: ana.token,
      body: { accountId: ana.accountId },
    },
    { name: 'lot', method: 'POST', path: '/v1/lots', token: ADMIN_KEY, body: { name: 'P2', tariff } },
    {
      name: 'lane',
      method: 'POST',
      path: `/v1/lots/${lot.lotId}/lanes`,
      token: ADMIN_KEY,
      body: { name: 'in 2', direction: 'entry' },
    },
    {
      name: 'gate',
      method: 'POST',
      path: `/v1/lots/${lot.lotId}/gates`,
      token: ADMIN_KEY,
      body: { name: 'g', publicKey: GateKey.generate().publicKey },
    },
    {
      name: 'event',
      method: 'POST',
      path: '/v1/events',
      token: ADMIN_KEY,
      body: { eventId: 'fz-1', laneId: lot.entry, plate: 'FUZ1234', confidence: 0.9, at: t.clock.now() },
    },
    {
      name: 'review',
      method: 'POST',
      path: `/v1/reviews/rev_${'0'.repeat(32)}/resolve`,
      token: ADMIN_KEY,
      body: { action: 'match', sessionId: `ses_${'0'.repeat(32)}` },
    },
    {
      name: 'dispute resolve',
      method: 'POST',
      path: `/v1/disputes/dsp_${'0'.repeat(32)}/resolve`,
      token: ADMIN_KEY,
      body: { outcome: 'reject' },
    },
    { name: 'key', method: 'POST', path: '/v1/keys', token: ADMIN_KEY, body: { role: 'auditor', label: 'bank' } },
  ];

  it('refuses bodies with a field missing, of the wrong type, or an extra field, on every write route (property)', async () => {
    const all = routes();
    const mutation = fc.constantFrom(...all).chain((route) => {
      const keys = Object.keys(route.body).filter((k) => !(route.name === 'lot' && k === 'tariff'));
      const key = fc.constantFrom(...keys);
      return fc.oneof(
        key.map((k) => {
          const body = { ...route.body };
          delete body[k];
          return { route, body: body as Json, what: `${route.name} without ${k}` };
        }),
        fc
          .tuple(key, fc.jsonValue({ maxDepth: 3 }))
          .filter(([k, v]) => jsonType(v) !== jsonType(route.body[k]))
          .map(([k, v]) => ({
            route,
            body: { ...route.body, [k]: v } as Json,
            what: `${route.name} with ${k} = ${JSON.stringify(v).slice(0, 40)}`,
          })),
        fc
          .tuple(simpleKey, fc.jsonValue({ maxDepth: 2 }))
          .filter(([k]) => !(k in route.body))
          .map(([k, v]) => ({
            route,
            body: { ...route.body, [k]: v } as Json,
            what: `${route.name} with an extra ${k}`,
          })),
        fc
          .jsonValue({ maxDepth: 3 })
          .filter((v) => jsonType(v) !== 'object')
          .map((v) => ({ route, body: v, what: `${route.name} with body ${JSON.stringify(v).slice(0, 40)}` })),
      );
    });
    await unchanged(async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async ({ route, body, what }) => {
          const r = await t.call(route.method, route.path, {
            token: route.token || undefined,
            raw: JSON.stringify(body),
          });
          assertRefused(r, what, 400, /^(BAD_REQUEST|INVALID_JSON)$/);
        }),
        { numRuns: 250 },
      );
    });
  });

  it('refuses huge strings, deep nesting, prototype keys and odd encodings', async () => {
    const mb = 'A'.repeat(1 << 20);
    const deepArray = (n: number, inner: string) => '['.repeat(n) + inner + ']'.repeat(n);
    const deepObject = (n: number, inner: string) => '{"a":'.repeat(n) + inner + '}'.repeat(n);
    const link = (extra: string) => `{"plate":"NEW1234","accountId":"${ana.accountId}"${extra}}`;
    const cases: Array<{
      what: string;
      method?: string;
      path?: string;
      token?: string;
      raw: string | Buffer;
      status: number;
      code: string;
    }> = [
      {
        what: 'a 1 MB plate',
        raw: JSON.stringify({ plate: mb, accountId: ana.accountId }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      { what: 'a 1 MB extra field', raw: link(`,"x":"${mb}"`), status: 413, code: 'BODY_TOO_LARGE' },
      {
        what: 'a 1 MB name at sign-up',
        path: '/v1/drivers',
        token: '',
        raw: JSON.stringify({ email: 'big@example.com', password: 'long enough', name: mb }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        what: 'a 1 MB tariff',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: JSON.stringify({ ...tariff, bands: new Array(60_000).fill({ from: '00:00', to: '01:00', unitPrice: 1 }) }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        what: 'a 60 KB plate (under the body limit)',
        raw: JSON.stringify({ plate: 'A'.repeat(60_000), accountId: ana.accountId }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a plate of 20000 nested arrays',
        raw: `{"plate":${deepArray(20_000, '"NEW1234"')},"accountId":"${ana.accountId}"}`,
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an extra field of 10000 nested objects',
        raw: link(`,"x":${deepObject(10_000, '1')}`),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a tariff of 10000 nested objects',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: deepObject(10_000, '1'),
        status: 400,
        code: 'INVALID_TARIFF',
      },
      {
        what: 'a tariff with a nested band',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: JSON.stringify({ ...tariff, bands: [[[{ from: '00:00' }]]] }),
        status: 400,
        code: 'INVALID_TARIFF',
      },
      { what: '__proto__ in the body', raw: link(',"__proto__":{"driverId":"x"}'), status: 400, code: 'INVALID_JSON' },
      {
        what: 'constructor.prototype in the body',
        raw: link(',"constructor":{"prototype":{"isAdmin":true}}'),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        what: '__proto__ deep in nesting',
        raw: link(`,"x":${deepObject(5000, '{"__proto__":{"p":1}}')}`),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        what: '__proto__ in a tariff',
        method: 'PUT',
        path: `/v1/lots/${lot.lotId}/tariff`,
        token: ADMIN_KEY,
        raw: JSON.stringify(tariff).replace('{', '{"__proto__":{"unitPrice":0},'),
        status: 400,
        code: 'INVALID_JSON',
      },
      { what: 'truncated JSON', raw: link('').slice(0, 20), status: 400, code: 'INVALID_JSON' },
      {
        what: 'bytes that are not UTF-8',
        raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        status: 400,
        code: 'BAD_REQUEST',
      },
      { what: 'an empty body', raw: '', status: 400, code: 'BAD_REQUEST' },
      { what: 'null', raw: 'null', status: 400, code: 'BAD_REQUEST' },
      { what: 'an array of the body', raw: `[${link('')}]`, status: 400, code: 'BAD_REQUEST' },
      {
        what: 'a number where the account id goes',
        raw: `{"plate":"NEW1234","accountId":1e400}`,
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a NUL in the account id',
        raw: JSON.stringify({ plate: 'NEW1234', accountId: `${ana.accountId}\u0000` }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'a full-width account id',
        raw: JSON.stringify({ plate: 'NEW1234', accountId: ana.accountId.replace('acc', 'ａｃｃ') }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an amount of 1e400 (Infinity)',
        path: `/v1/me/accounts/${ana.accountId}/top-ups`,
        raw: '{"amount":1e400,"reference":"r"}',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an amount of 2^53+1',
        path: `/v1/me/accounts/${ana.accountId}/top-ups`,
        raw: '{"amount":9007199254740993,"reference":"r"}',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an amount of -0',
        path: `/v1/me/accounts/${ana.accountId}/top-ups`,
        raw: '{"amount":-0,"reference":"r"}',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an event at -1 ms',
        path: '/v1/events',
        token: ADMIN_KEY,
        raw: JSON.stringify({ eventId: 'neg', laneId: lot.entry, plate: 'NEG1234', confidence: 0.9, at: -1 }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        what: 'an event with confidence NaN (as a string)',
        path: '/v1/events',
        token: ADMIN_KEY,
        raw: JSON.stringify({ eventId: 'nan', laneId: lot.entry, plate: 'NAN1234', confidence: 'NaN', at: 1 }),
        status: 400,
        code: 'BAD_REQUEST',
      },
    ];
    await unchanged(async () => {
      for (const c of cases) {
        const res = await fetch(t.url + (c.path ?? '/v1/me/links'), {
          method: c.method ?? 'POST',
          headers: {
            'content-type': 'application/json',
            ...((c.token ?? ana.token) ? { authorization: `Bearer ${c.token ?? ana.token}` } : {}),
          },
          body: c.raw,
        });
        const text = await res.text();
        let body: unknown = null;
        try {
          body = JSON.parse(text);
        } catch {
          // checked below
        }
        assertRefused({ status: res.status, body }, c.what, c.status, c.code);
      }
      assert.equal(({} as Record<string, unknown>).driverId, undefined, 'Object.prototype was polluted');
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype was polluted');
    });
  });

  it('refuses a 1 MB query string with a 4xx and goes on serving', async () => {
    const r = await t.call('GET', `/v1/pending-payments?plate=${'A'.repeat(1 << 20)}`, { token: ana.token });
    // node refuses the oversized request head itself (431); fastify's client-error body is not our error shape
    assert.equal(r.status, 431);
    const small = await t.call('GET', `/v1/pending-payments?plate=${'A'.repeat(10_000)}`, { token: ana.token });
    assertRefused(small, 'a 10 KB plate in the query', 400, 'BAD_REQUEST');
    assert.equal((await t.call('GET', '/health')).status, 200);
  });

  it('answers plain-text and form bodies with a 4xx', async () => {
    await unchanged(async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await fetch(t.url + '/v1/me/links', {
          method: 'POST',
          headers: { 'content-type': type, authorization: `Bearer ${ana.token}` },
          body: `plate=NEW1234&accountId=${ana.accountId}`,
        });
        assertRefused({ status: res.status, body: await res.json() }, type);
      }
    });
  });
});
