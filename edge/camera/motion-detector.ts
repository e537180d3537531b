/**
 * Vehicle presence from motion in a lane's region of interest (ROI).
 *
 * Each frame's ROI is sampled as grey on a grid (every `step`-th pixel in
 * both directions) and compared with a background: a sample has changed
 * when it differs by more than `threshold` grey levels, the frame has
 * changed when at least `minChangedFraction` of the samples have.
 *
 * Guarantees:
 * - hysteresis: 'arrived' after `onFrames` consecutive changed frames,
 *   'left' after `offFrames` consecutive quiet frames; the two alternate
 *   (never two 'arrived' without a 'left' between them);
 * - the background starts as the first frame and follows slow changes
 *   (light) only while the lane is empty and the frame quiet; while a
 *   vehicle is present it is held, so a car standing still stays present;
 *   after `maxPresentFrames` present frames the background is learned again
 *   from the current frame, so a lasting change (a parked object, a light
 *   switched on) ends in 'left' instead of a lane occupied for ever;
 * - nothing outside the ROI matters; a new frame size starts over;
 * - pure: no I/O, no clock; a few thousand samples per frame.
 */
import type { Rect } from '../vision/geometry.js';
import type { Frame } from './frame-source.js';

export interface MotionDetectorOptions {
  /** the lane's region of interest, in frame pixels */
  roi: Rect;
  /** grey-level difference (1..255) above which a sample has changed; default 25 */
  threshold?: number;
  /** share of changed samples (0..1] that makes a frame changed; default 0.1 */
  minChangedFraction?: number;
  /** consecutive changed frames before 'arrived'; default 2 */
  onFrames?: number;
  /** consecutive quiet frames before 'left'; default 5 */
  offFrames?: number;
  /** sampling step in pixels; default 4 */
  step?: number;
  /** how fast the background follows quiet frames (0..1]; default 0.05 */
  learnRate?: number;
  /** present frames after which the background is learned again; default 3000, 0 = never */
  maxPresentFrames?: number;
}

export type MotionChange = 'arrived' | 'left' | null;

export const motionDefaults = {
  threshold: 25,
  minChangedFraction: 0.1,
  onFrames: 2,
  offFrames: 5,
  step: 4,
  learnRate: 0.05,
  maxPresentFrames: 3000,
};

export class MotionDetector {
  private readonly roi: Rect;
  private readonly threshold: number;
  private readonly minChangedFraction: number;
  private readonly onFrames: number;
  private readonly offFrames: number;
  private readonly step: number;
  private readonly learnRate: number;
  private readonly maxPresentFrames: number;
  private background: Float32Array | null = null;
  private frameSize = '';
  private presentNow = false;
  private changedRun = 0;
  private quietRun = 0;
  private presentFrames = 0;
  private lastFraction = 0;

  constructor(options: MotionDetectorOptions) {
    const { roi } = options;
    if (
      typeof roi !== 'object' ||
      roi === null ||
      ![roi.x, roi.y, roi.width, roi.height].every(Number.isInteger) ||
      roi.x < 0 ||
      roi.y < 0 ||
      roi.width < 1 ||
      roi.height < 1
    ) {
      throw new RangeError('motion detector: roi must be {x, y, width, height} in whole pixels, inside the frame');
    }
    this.roi = { ...roi };
    this.threshold = check('threshold', options.threshold ?? motionDefaults.threshold, 1, 255, true);
    this.minChangedFraction = check(
      'minChangedFraction',
      options.minChangedFraction ?? motionDefaults.minChangedFraction,
      Number.MIN_VALUE,
      1,
      false,
    );
    this.onFrames = check('onFrames', options.onFrames ?? motionDefaults.onFrames, 1, 1000, true);
    this.offFrames = check('offFrames', options.offFrames ?? motionDefaults.offFrames, 1, 1000, true);
    this.step = check('step', options.step ?? motionDefaults.step, 1, 64, true);
    this.learnRate = check('learnRate', options.learnRate ?? motionDefaults.learnRate, Number.MIN_VALUE, 1, false);
    this.maxPresentFrames = check(
      'maxPresentFrames',
      options.maxPresentFrames ?? motionDefaults.maxPresentFrames,
      0,
      Number.MAX_SAFE_INTEGER,
      true,
    );
  }

  /** Whether a vehicle is present now. */
  get present(): boolean {
    return this.presentNow;
  }

  /** Share of the ROI's samples that changed in the last frame (0..1). */
  get changedFraction(): number {
    return this.lastFraction;
  }

  /** Takes the next frame; returns 'arrived' or 'left' when presence changed with it, else null. */
  update(frame: Pick<Frame, 'rgb' | 'width' | 'height'>): MotionChange {
    const samples = this.sample(frame);
    const size = `${frame.width}x${frame.height}`;
    if (!this.background || size !== this.frameSize) {
      this.reset();
      this.frameSize = size;
      this.background = Float32Array.from(samples);
      return null;
    }
    const background = this.background;
    let changed = 0;
    for (let i = 0; i < samples.length; i++) {
      if (Math.abs(samples[i]! - background[i]!) > this.threshold) changed++;
    }
    this.lastFraction = changed / samples.length;
    const moving = this.lastFraction >= this.minChangedFraction;

    if (!this.presentNow) {
      if (!moving) {
        this.changedRun = 0;
        for (let i = 0; i < samples.length; i++)
          background[i] = background[i]! + this.learnRate * (samples[i]! - background[i]!);
        return null;
      }
      if (++this.changedRun < this.onFrames) return null;
      this.presentNow = true;
      this.changedRun = 0;
      this.quietRun = 0;
      this.presentFrames = 0;
      return 'arrived';
    }

    this.presentFrames++;
    if (moving) {
      this.quietRun = 0;
    } else if (++this.quietRun >= this.offFrames) {
      this.presentNow = false;
      this.quietRun = 0;
      this.changedRun = 0;
      return 'left';
    }
    if (this.maxPresentFrames > 0 && this.presentFrames >= this.maxPresentFrames) {
      background.set(samples); // a lasting change: it becomes the background, and quiet frames follow
      this.presentFrames = 0;
    }
    return null;
  }

  /** Forgets the background and presence (the next frame becomes the background). */
  reset(): void {
    this.background = null;
    this.presentNow = false;
    this.changedRun = 0;
    this.quietRun = 0;
    this.presentFrames = 0;
    this.lastFraction = 0;
  }

  /** Grey samples of the ROI (clipped to the frame), on the sampling grid. */
  private sample(frame: Pick<Frame, 'rgb' | 'width' | 'height'>): Uint8Array {
    const { rgb, width, height } = frame;
    if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) {
      throw new RangeError(`motion detector: frame data is not ${width}x${height}x3 bytes`);
    }
    const x0 = this.roi.x;
    const y0 = this.roi.y;
    const x1 = Math.min(width, this.roi.x + this.roi.width);
    const y1 = Math.min(height, this.roi.y + this.roi.height);
    if (x1 <= x0 || y1 <= y0) {
      const r = this.roi;
      throw new RangeError(
        `motion detector: roi ${r.width}x${r.height} at (${r.x}, ${r.y}) lies outside the ${width}x${height} frame`,
      );
    }
    const step = this.step;
    const offset = Math.floor(step / 2);
    const columns = Math.ceil((x1 - x0 - Math.min(offset, x1 - x0 - 1)) / step);
    const rows = Math.ceil((y1 - y0 - Math.min(offset, y1 - y0 - 1)) / step);
    const out = new Uint8Array(columns * rows);
    let k = 0;
    for (let y = y0 + Math.min(offset, y1 - y0 - 1); y < y1; y += step) {
      for (let x = x0 + Math.min(offset, x1 - x0 - 1); x < x1; x += step) {
        const i = (y * width + x) * 3;
        out[k++] = (rgb[i]! * 77 + rgb[i + 1]! * 150 + rgb[i + 2]! * 29) >> 8;
      }
    }
    return out;
  }
}

function check(name: string, value: number, min: number, max: number, integer: boolean): number {
  if (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    const range = min === Number.MIN_VALUE ? `above 0 and at most ${max}` : `from ${min} to ${max}`;
    throw new RangeError(`motion detector: ${name} must be ${integer ? 'an integer' : 'a number'} ${range}`);
  }
  return value;
}
