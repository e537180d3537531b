/** What the camera tests share: a fixed clock, rendered scene JPEGs, and checks of a frame and of a CameraError. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { renderScene } from '../../scenes/scene-renderer.js';
import type { Clock } from '../../time/clock.js';
import type { Frame } from '../../edge/camera/frame-source.js';
import { CameraError } from '../../edge/camera/frame-source.js';
import { decodeImage } from '../../edge/vision/image-input.js';

export const NOW = 1_700_000_000_000;

export const clock: Clock = { now: () => NOW };

export const W = 320;

export const H = 240;

export let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'platepay-camera-'));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A small rendered car scene (JPEG); the seed changes the car and the noise. */
export async function sceneJpeg(seed: number): Promise<Buffer> {
  const scene = await renderScene({
    plate: { style: 'eu', text: 'BA 123CD' },
    width: W,
    height: H,
    plateWidth: 120,
    centre: { x: 160, y: 150 },
    seed,
  });
  return scene.jpeg;
}

export async function pixelsOf(file: string): Promise<Uint8Array> {
  return (await decodeImage(file)).data;
}

/** Rejects with a CameraError of this code whose message matches every pattern. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  ...patterns: RegExp[]
): Promise<CameraError> {
  let caught: unknown = null;
  await promise.then(
    () => assert.fail(`expected a CameraError ${code}`),
    (err: unknown) => {
      caught = err;
    },
  );
  assert.ok(caught instanceof CameraError, `expected a CameraError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

export function checkFrame(frame: Frame | null, width: number, height: number, seq: number): Frame {
  assert.ok(frame, 'expected a frame, got null');
  assert.equal(frame.width, width);
  assert.equal(frame.height, height);
  assert.equal(frame.rgb.length, width * height * 3);
  assert.equal(frame.at, NOW);
  assert.equal(frame.seq, seq);
  return frame;
}
