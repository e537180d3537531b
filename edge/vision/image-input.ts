/**
 * Image input: turns an image file, an encoded buffer or a raw frame into an
 * RgbImage (packed 8-bit RGB, row-major) through sharp. EXIF orientation is
 * applied; alpha is dropped; sizes are checked before any pixel is decoded.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';

export interface RgbImage {
  /** width * height * 3 bytes, RGB, row-major */
  data: Uint8Array;
  width: number;
  height: number;
}

/** A frame a camera already decoded: packed RGB (3 channels) or RGBA (4). */
export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

export type ImageInput = string | Buffer | Uint8Array | RawFrame;

export class ImageInputError extends Error {
  readonly code = 'BAD_IMAGE';
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

export interface ImageLimits {
  /** largest accepted pixel count (width * height); default 40 MP */
  maxPixels: number;
  /** largest accepted encoded size in bytes; default 50 MB */
  maxBytes: number;
  /** decoding time limit in seconds; default 10 */
  timeoutSeconds: number;
}

export const defaultImageLimits: ImageLimits = {
  maxPixels: 40_000_000,
  maxBytes: 50 * 1024 * 1024,
  timeoutSeconds: 10,
};

function isRawFrame(input: ImageInput): input is RawFrame {
  return typeof input === 'object' && input !== null && !(input instanceof Uint8Array) && 'width' in input;
}

export async function decodeImage(input: ImageInput, limits: ImageLimits = defaultImageLimits): Promise<RgbImage> {
  if (isRawFrame(input)) return fromRawFrame(input, limits);
  if (typeof input !== 'string' && !(input instanceof Uint8Array))
    throw new ImageInputError(`expected a file path, an image buffer or a raw frame, got ${describe(input)}`);
  let bytes: Uint8Array;
  let what: string;
  if (typeof input === 'string') {
    what = input;
    let size: number;
    try {
      const info = await stat(input);
      if (!info.isFile()) throw new Error('not a regular file');
      size = info.size;
    } catch (err) {
      throw new ImageInputError(`${input}: cannot read image file (${(err as Error).message})`);
    }
    if (size > limits.maxBytes) {
      throw new ImageInputError(`${input}: file is ${size} bytes, over the ${limits.maxBytes}-byte limit`);
    }
    bytes = await readFile(input);
  } else {
    what = 'image buffer';
    bytes = input;
    if (bytes.length > limits.maxBytes) {
      throw new ImageInputError(`${what} is ${bytes.length} bytes, over the ${limits.maxBytes}-byte limit`);
    }
  }
  if (bytes.length === 0) throw new ImageInputError(`${what} is empty (0 bytes)`);

  let image: Sharp;
  let meta: Metadata;
  try {
    // the header alone first (no pixel limit: nothing is decoded), so an oversized image is named with its size
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    image = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'error', sequentialRead: true });
  } catch (err) {
    throw new ImageInputError(`${what} is not a readable image: ${cleanSharpMessage(err)}`);
  }
  const { width, height } = meta;
  if (!width || !height) throw new ImageInputError(`${what} has no width or height`);
  if (width * height > limits.maxPixels) {
    throw new ImageInputError(
      `${what} claims ${width}x${height} pixels (${((width * height) / 1e6).toFixed(1)} MP), over the ${limits.maxPixels / 1e6} MP limit`,
    );
  }
  try {
    const { data, info } = await image
      .timeout({ seconds: limits.timeoutSeconds })
      .rotate() // apply EXIF orientation
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    throw new ImageInputError(`${what} cannot be decoded: ${cleanSharpMessage(err)}`);
  }
}

function fromRawFrame(frame: RawFrame, limits: ImageLimits): RgbImage {
  const { width, height, channels, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageInputError(`raw frame has invalid size ${String(width)}x${String(height)}`);
  }
  if (channels !== 3 && channels !== 4)
    throw new ImageInputError(`raw frame has ${String(channels)} channels; 3 or 4 expected`);
  if (width * height > limits.maxPixels) {
    throw new ImageInputError(`raw frame is ${width}x${height}, over the ${limits.maxPixels / 1e6} MP limit`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
    throw new ImageInputError(
      `raw frame data is ${data instanceof Uint8Array ? data.length : 'not a Uint8Array'} bytes; ${width}x${height}x${channels} = ${width * height * channels} expected`,
    );
  }
  if (channels === 3) return { data, width, height };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 4, j += 3) {
    rgb[j] = data[i]!;
    rgb[j + 1] = data[i + 1]!;
    rgb[j + 2] = data[i + 2]!;
  }
  return { data: rgb, width, height };
}

function cleanSharpMessage(err: unknown): string {
  return ((err as Error).message ?? String(err)).replace(/\s+/g, ' ').trim();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without width' : typeof value;
}
