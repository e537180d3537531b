/**
 * TextDetector: finds text lines in an image with PP-OCRv4 det (DB).
 *
 * Post-processing follows DB (Liao et al.) as PaddleOCR implements it:
 * threshold the probability map, trace contours (OpenCV), fit each a
 * minimum-area rotated rectangle, score it by the mean probability inside,
 * drop weak or tiny ones, then "unclip" (grow by area * ratio / perimeter,
 * which for a rectangle is the exact polygon offset) to recover the full
 * text extent the network shrinks. Boxes come back as rotated quads in the
 * input image's pixels, so tilted plates can be rectified by a perspective
 * warp instead of an axis-aligned crop.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Point, Quad, Rect } from './geometry.js';
import { orderCorners } from './geometry.js';
import type { RgbImage } from './image-input.js';
import { ort } from './onnx-session.js';
import type { OpenCv } from './opencv.js';

export interface DetectorOptions {
  /** the longer side of the image is scaled to at most this many pixels (multiple of 32) */
  maxSide: number;
  /** pixels of the probability map above this are text */
  threshold: number;
  /** boxes whose mean probability is below this are dropped */
  boxThreshold: number;
  /** DB unclip ratio */
  unclipRatio: number;
  /** at most this many boxes per image (largest scores first) */
  maxBoxes: number;
}

export const defaultDetectorOptions: DetectorOptions = {
  maxSide: 960,
  threshold: 0.3,
  boxThreshold: 0.5,
  unclipRatio: 1.6,
  maxBoxes: 100,
};

export interface TextBox {
  /** corners in the input image's pixels: tl, tr, br, bl */
  quad: Quad;
  /** mean text probability inside the box, 0..1 */
  score: number;
}

export interface DetectorTimings {
  preMs: number;
  runMs: number;
  postMs: number;
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export class TextDetector {
  constructor(
    private readonly session: InferenceSession,
    private readonly cv: OpenCv,
    readonly options: DetectorOptions = defaultDetectorOptions,
  ) {}

  /**
   * Text boxes in the image (or the region of interest), in image pixels.
   * By default the region is scaled so its longer side is at most
   * `maxSide`, stretched to multiples of 32. With `scale` the region is
   * scaled by exactly that factor and padded (not stretched) to multiples
   * of 32, so a small part of a frame can be detected at the same scale as
   * a pass over the whole frame.
   */
  async detect(image: RgbImage, roi?: Rect, timings?: DetectorTimings, scale?: number): Promise<TextBox[]> {
    const t0 = performance.now();
    const area = clampRoi(roi, image);
    const { tensor, width, height, scaleX, scaleY } =
      scale === undefined ? this.preprocess(image, area) : this.preprocessAtScale(image, area, scale);
    const t1 = performance.now();
    const out = await this.session.run({ [this.session.inputNames[0]!]: tensor });
    const prob = out[this.session.outputNames[0]!]!.data as Float32Array;
    const t2 = performance.now();
    const boxes = this.boxesFromMap(prob, width, height).map((b) => ({
      score: b.score,
      quad: b.quad.map((p) => ({
        x: Math.min(p.x * scaleX, area.width) + area.x,
        y: Math.min(p.y * scaleY, area.height) + area.y,
      })) as Quad,
    }));
    if (timings) {
      timings.preMs += t1 - t0;
      timings.runMs += t2 - t1;
      timings.postMs += performance.now() - t2;
    }
    return boxes;
  }

  /** The scale at which a region of this size is detected by default (long side <= maxSide). */
  scaleFor(area: { width: number; height: number }, maxSide = this.options.maxSide): number {
    return Math.min(1, maxSide / Math.max(area.width, area.height));
  }

  /** Resizes the region to multiples of 32 with the long side <= maxSide and normalises it to a BGR CHW tensor. */
  private preprocess(image: RgbImage, area: Rect) {
    const scale = this.scaleFor(area);
    const width = Math.max(32, Math.round((area.width * scale) / 32) * 32);
    const height = Math.max(32, Math.round((area.height * scale) / 32) * 32);
    const tensor = this.toTensor(image, area, width, height, width, height);
    return { tensor, width, height, scaleX: area.width / width, scaleY: area.height / height };
  }

  /** Resizes the region by exactly `scale` and pads it (mean colour) on the right and bottom to multiples of 32. */
  private preprocessAtScale(image: RgbImage, area: Rect, scale: number) {
    const inner = {
      width: Math.max(1, Math.round(area.width * scale)),
      height: Math.max(1, Math.round(area.height * scale)),
    };
    const width = Math.max(32, Math.ceil(inner.width / 32) * 32);
    const height = Math.max(32, Math.ceil(inner.height / 32) * 32);
    const tensor = this.toTensor(image, area, inner.width, inner.height, width, height);
    return { tensor, width, height, scaleX: area.width / inner.width, scaleY: area.height / inner.height };
  }

  /**
   * The region resized to innerWidth x innerHeight, in the top-left corner
   * of a width x height BGR CHW tensor with PaddleOCR's mean/std; the rest
   * is 0 (the mean colour).
   */
  private toTensor(
    image: RgbImage,
    area: Rect,
    innerWidth: number,
    innerHeight: number,
    width: number,
    height: number,
  ) {
    const cv = this.cv;
    // only the region's rows are copied into OpenCV's heap
    const src = new cv.Mat(area.height, area.width, cv.CV_8UC3);
    const resized = new cv.Mat();
    try {
      const rowBytes = area.width * 3;
      const dst = src.data as Uint8Array;
      for (let y = 0; y < area.height; y++) {
        const start = ((area.y + y) * image.width + area.x) * 3;
        dst.set(image.data.subarray(start, start + rowBytes), y * rowBytes);
      }
      cv.resize(src, resized, new cv.Size(innerWidth, innerHeight), 0, 0, cv.INTER_LINEAR);
      const px = resized.data as Uint8Array;
      const plane = width * height;
      const data = new Float32Array(3 * plane);
      // input is RGB; the model wants BGR planes with PaddleOCR's per-channel mean/std
      for (let c = 0; c < 3; c++) {
        const srcChannel = 2 - c;
        const m = MEAN[c]!;
        const s = STD[c]!;
        const a = 1 / (255 * s);
        const b = -m / s;
        for (let y = 0; y < innerHeight; y++) {
          const out = c * plane + y * width;
          for (let x = 0, j = y * innerWidth * 3 + srcChannel; x < innerWidth; x++, j += 3)
            data[out + x] = px[j]! * a + b;
        }
      }
      return new ort.Tensor('float32', data, [1, 3, height, width]);
    } finally {
      src.delete();
      resized.delete();
    }
  }

  /** DB post-processing on the probability map (map pixels in, map pixels out). */
  private boxesFromMap(prob: Float32Array, width: number, height: number): TextBox[] {
    const cv = this.cv;
    const { threshold, boxThreshold, unclipRatio, maxBoxes } = this.options;
    const bitmap = new cv.Mat(height, width, cv.CV_8UC1);
    const contours = new cv.MatVector();
    const hierarchy = new cv.Mat();
    const boxes: TextBox[] = [];
    try {
      const bits = bitmap.data as Uint8Array;
      for (let i = 0; i < prob.length; i++) bits[i] = prob[i]! > threshold ? 255 : 0;
      cv.findContours(bitmap, contours, hierarchy, cv.RETR_LIST, cv.CHAIN_APPROX_SIMPLE);
      const n = contours.size();
      for (let i = 0; i < n; i++) {
        const contour = contours.get(i);
        try {
          if (contour.rows < 3) continue;
          const rect = cv.minAreaRect(contour);
          const w = rect.size.width as number;
          const h = rect.size.height as number;
          if (Math.min(w, h) < 2) continue;
          const score = meanInsideRect(prob, width, height, rect.center, w, h, rect.angle);
          if (score < boxThreshold) continue;
          // unclip: offset the rectangle outwards by area * ratio / perimeter
          const d = (w * h * unclipRatio) / (2 * (w + h));
          const grown = { center: rect.center, size: { width: w + 2 * d, height: h + 2 * d }, angle: rect.angle };
          if (Math.min(grown.size.width, grown.size.height) < 4) continue;
          const corners = cv.RotatedRect.points(grown) as Point[];
          const quad = orderCorners(corners.map((p) => ({ x: clamp(p.x, 0, width), y: clamp(p.y, 0, height) })));
          boxes.push({ quad, score });
        } finally {
          contour.delete();
        }
      }
    } finally {
      bitmap.delete();
      contours.delete();
      hierarchy.delete();
    }
    boxes.sort((a, b) => b.score - a.score);
    return boxes.slice(0, maxBoxes);
  }
}

/** Mean of the probability map over the pixels inside a rotated rectangle. */
function meanInsideRect(
  prob: Float32Array,
  width: number,
  height: number,
  center: Point,
  w: number,
  h: number,
  angleDeg: number,
): number {
  const a = (angleDeg * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const r = Math.hypot(w, h) / 2;
  const x0 = Math.max(0, Math.floor(center.x - r));
  const x1 = Math.min(width - 1, Math.ceil(center.x + r));
  const y0 = Math.max(0, Math.floor(center.y - r));
  const y1 = Math.min(height - 1, Math.ceil(center.y + r));
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - center.x;
      const dy = y + 0.5 - center.y;
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      if (Math.abs(u) <= w / 2 && Math.abs(v) <= h / 2) {
        sum += prob[y * width + x]!;
        count++;
      }
    }
  }
  return count > 0 ? sum / count : 0;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The region to detect in: the ROI clipped to the image, or the whole image. */
export function clampRoi(roi: Rect | undefined, image: { width: number; height: number }): Rect {
  if (!roi) return { x: 0, y: 0, width: image.width, height: image.height };
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isFinite(roi[k])) throw new RangeError(`region of interest: ${k} must be a finite number`);
  }
  const x = Math.max(0, Math.floor(roi.x));
  const y = Math.max(0, Math.floor(roi.y));
  const x2 = Math.min(image.width, Math.ceil(roi.x + roi.width));
  const y2 = Math.min(image.height, Math.ceil(roi.y + roi.height));
  if (x2 - x < 8 || y2 - y < 8) {
    throw new RangeError(
      `region of interest ${roi.width}x${roi.height}+${roi.x}+${roi.y} leaves less than 8x8 pixels inside the ${image.width}x${image.height} frame`,
    );
  }
  return { x, y, width: x2 - x, height: y2 - y };
}
