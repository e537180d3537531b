/**
 * Rectifier: cuts text boxes out of a frame with a perspective warp, so a
 * tilted or skewed plate comes out as an upright strip of the height the
 * recognition model reads (48 px).
 */
import type { Quad } from './geometry.js';
import { quadSize } from './geometry.js';
import type { RgbImage } from './image-input.js';
import type { OpenCv } from './opencv.js';

export interface TextCrop {
  /** RGB, width * height * 3 bytes */
  data: Uint8Array;
  width: number;
  height: number;
}

export const REC_HEIGHT = 48;
export const MAX_REC_WIDTH = 480;

export function rectify(cv: OpenCv, image: RgbImage, quads: readonly Quad[], height = REC_HEIGHT): TextCrop[] {
  if (quads.length === 0) return [];
  const src = new cv.Mat(image.height, image.width, cv.CV_8UC3);
  try {
    src.data.set(image.data);
    return quads.map((q) => warp(cv, src, q, height));
  } finally {
    src.delete();
  }
}

function warp(cv: OpenCv, src: OpenCv, q: Quad, height: number): TextCrop {
  const size = quadSize(q);
  const w = Math.max(2, Math.round(size.width));
  const h = Math.max(2, Math.round(size.height));
  const outWidth = Math.min(MAX_REC_WIDTH, Math.max(16, Math.round((height * w) / h)));
  const from = cv.matFromArray(
    4,
    1,
    cv.CV_32FC2,
    q.flatMap((p) => [p.x, p.y]),
  );
  const to = cv.matFromArray(4, 1, cv.CV_32FC2, [0, 0, w, 0, w, h, 0, h]);
  const m = cv.getPerspectiveTransform(from, to);
  const natural = new cv.Mat();
  const out = new cv.Mat();
  try {
    cv.warpPerspective(src, natural, m, new cv.Size(w, h), cv.INTER_LINEAR, cv.BORDER_REPLICATE);
    // shrink with area averaging (no aliasing), enlarge with cubic interpolation
    const interpolation = h > height ? cv.INTER_AREA : cv.INTER_CUBIC;
    cv.resize(natural, out, new cv.Size(outWidth, height), 0, 0, interpolation);
    return { data: new Uint8Array(out.data as Uint8Array), width: outWidth, height };
  } finally {
    from.delete();
    to.delete();
    m.delete();
    natural.delete();
    out.delete();
  }
}

/** Scales a whole image (a plate crop read as is) to the recognition height. */
export function resizeWhole(cv: OpenCv, image: RgbImage, height = REC_HEIGHT): TextCrop {
  const q: Quad = [
    { x: 0, y: 0 },
    { x: image.width, y: 0 },
    { x: image.width, y: image.height },
    { x: 0, y: image.height },
  ];
  return rectify(cv, image, [q], height)[0]!;
}
