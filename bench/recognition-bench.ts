/**
 * `platepay bench recognition`: how fast the gate unit reads a plate from a
 * camera frame. Frames are rendered car scenes at 720p and 1080p, decoded to
 * raw RGB beforehand (as a camera delivers them), read one after another
 * with 1 and 2 ONNX threads, over the whole frame and over the lane's region
 * of interest (where a car stopped at the barrier shows its plate).
 *
 * Headline (`medianMs720p`, `p99Ms720p`, `framesPerSecond720p`): 720p, 2
 * threads, lane ROI, as a gate unit is configured. Baseline: the same
 * frames read over the whole frame, as a system without lane regions would.
 * Each configuration also counts the frames whose plate was read right.
 */
import type { RecognizerKind } from '../edge/vision/plate-reader.js';
import sharp from 'sharp';
import type { RgbImage } from '../edge/vision/image-input.js';
import { PlateReader, defaultRecognizerKind } from '../edge/vision/plate-reader.js';
import type { SceneSpec } from '../scenes/scene-renderer.js';
import { plainText, renderScene } from '../scenes/scene-renderer.js';
import { randomSceneSpec } from '../scenes/random-scene.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import { percentile } from '../edge/vision/percentile.js';

export interface RecognitionFigures {
  frame: '720p' | '1080p';
  threads: number;
  roi: boolean;
  frames: number;
  medianMs: number;
  p99Ms: number;
  framesPerSecond: number;
  readRight: number;
}

/** the lane region at 720p; 'easy' scenes put the plate centre at x 440..840, y 360..500 */
const ROI_720P = { x: 280, y: 280, width: 720, height: 320 };
const STYLES: PlateStyle[] = ['cn-blue', 'us', 'eu', 'cn-green'];

/** a 720p scene spec scaled to another frame size (plate and its place scale with the frame) */
function scaled(spec: SceneSpec, factor: number): SceneSpec {
  return {
    ...spec,
    width: Math.round(spec.width * factor),
    height: Math.round(spec.height * factor),
    plateWidth: Math.round(spec.plateWidth * factor),
    centre: { x: Math.round(spec.centre.x * factor), y: Math.round(spec.centre.y * factor) },
  };
}

async function rawFrame(spec: SceneSpec): Promise<{ image: RgbImage; text: string }> {
  const scene = await renderScene(spec);
  const { data, info } = await sharp(scene.jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { image: { data, width: info.width, height: info.height }, text: plainText(spec.plate.text) };
}

export async function runRecognitionBench(
  quick: boolean,
  progress: (m: string) => void = () => undefined,
  recognizerKind: RecognizerKind = defaultRecognizerKind,
) {
  const count = quick ? 16 : 60;
  progress(`rendering ${count} scenes at 720p and 1080p`);
  const specs = Array.from({ length: count }, (_, i) => randomSceneSpec(STYLES[i % STYLES.length]!, 9000 + i, 'easy'));
  const frames = {
    '720p': await Promise.all(specs.map((s) => rawFrame(s))),
    '1080p': await Promise.all(specs.map((s) => rawFrame(scaled(s, 1.5)))),
  };
  const results: RecognitionFigures[] = [];
  for (const threads of [1, 2]) {
    const reader = await PlateReader.create({ threads, recognizerKind });
    await reader.readImage(frames['720p'][0]!.image); // the first inference allocates
    for (const frame of ['720p', '1080p'] as const) {
      const factor = frame === '720p' ? 1 : 1.5;
      for (const roi of [true, false]) {
        const options = roi
          ? {
              roi: {
                x: ROI_720P.x * factor,
                y: ROI_720P.y * factor,
                width: ROI_720P.width * factor,
                height: ROI_720P.height * factor,
              },
            }
          : {};
        const times: number[] = [];
        let readRight = 0;
        const began = performance.now();
        for (const f of frames[frame]) {
          const t0 = performance.now();
          const reads = await reader.readImage(f.image, options);
          times.push(performance.now() - t0);
          if (reads[0]?.text === f.text) readRight++;
        }
        const seconds = (performance.now() - began) / 1000;
        times.sort((a, b) => a - b);
        const figures: RecognitionFigures = {
          frame,
          threads,
          roi,
          frames: times.length,
          medianMs: Math.round(percentile(times, 50, NaN) * 10) / 10,
          p99Ms: Math.round(percentile(times, 99, NaN) * 10) / 10,
          framesPerSecond: Math.round((times.length / seconds) * 10) / 10,
          readRight,
        };
        results.push(figures);
        progress(
          `${frame}, ${threads} thread(s), ${roi ? 'lane ROI  ' : 'full frame'}: median ${figures.medianMs} ms, ` +
            `p99 ${figures.p99Ms} ms, ${figures.framesPerSecond} frames/s, read right ${readRight}/${count}`,
        );
      }
    }
    await reader.close();
  }
  const pick = (roi: boolean) => results.find((r) => r.frame === '720p' && r.threads === 2 && r.roi === roi)!;
  const head = pick(true);
  const base = pick(false);
  return {
    medianMs720p: head.medianMs,
    p99Ms720p: head.p99Ms,
    framesPerSecond720p: head.framesPerSecond,
    baseline: { medianMs720p: base.medianMs, p99Ms720p: base.p99Ms, framesPerSecond720p: base.framesPerSecond },
    ratio: { median: Math.round((base.medianMs / head.medianMs) * 100) / 100 },
    configurations: results,
  };
}
