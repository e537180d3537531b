/**
 * The evidence an operator sees: a small JPEG of the plate as the camera
 * saw it, cut from the frame of the lane's best read (the read's box plus a
 * margin), at most MAX_CROP_BYTES (lower quality, then smaller, until it
 * fits; null when it cannot). It travels in the lane event, whose signature
 * covers its digest.
 */
import sharp from 'sharp';
import type { Quad } from '../vision/geometry.js';
import { quadBounds } from '../vision/geometry.js';
import { MAX_CROP_BYTES } from '../../proto/v1/messages.js';

export interface RawFrame {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** the crop's width at most (px): enough to read a plate on a dashboard */
const MAX_WIDTH = 320;

/** A JPEG of the plate box (with a margin of a quarter of its height), base64; null if empty or too large. */
export async function plateCrop(frame: RawFrame, box: Quad, maxBytes = MAX_CROP_BYTES): Promise<string | null> {
  const b = quadBounds(box);
  const margin = Math.max(4, Math.round(b.height * 0.25));
  const left = Math.max(0, Math.floor(b.x - margin));
  const top = Math.max(0, Math.floor(b.y - margin));
  const right = Math.min(frame.width, Math.ceil(b.x + b.width + margin));
  const bottom = Math.min(frame.height, Math.ceil(b.y + b.height + margin));
  if (right - left < 2 || bottom - top < 2) return null;
  for (const [width, quality] of [
    [MAX_WIDTH, 80],
    [MAX_WIDTH, 50],
    [160, 50],
  ] as const) {
    const jpeg = await sharp(frame.data, {
      raw: { width: frame.width, height: frame.height, channels: frame.channels },
    })
      .extract({ left, top, width: right - left, height: bottom - top })
      .resize({ width, withoutEnlargement: true })
      .jpeg({ quality })
      .toBuffer();
    if (jpeg.length <= maxBytes) return jpeg.toString('base64');
  }
  return null;
}
