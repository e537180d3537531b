/** The motion detector that stands in for a loop detector, and the camera section of the gate unit config. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CameraConfigError, createCamera, parseCameraConfig } from '../../edge/camera/camera-config.js';
import type { Frame, FrameSource } from '../../edge/camera/frame-source.js';
import { MotionDetector } from '../../edge/camera/motion-detector.js';
import type { MotionChange } from '../../edge/camera/motion-detector.js';
import { NOW, clock, work } from './camera-fixtures.js';

describe('MotionDetector', () => {
  const FW = 160;
  const FH = 120;
  const roi = { x: 40, y: 30, width: 80, height: 60 };

  /** A grey frame, with an optional dark box (x, y, width, height) and per-pixel noise. */
  function frame(
    background: number,
    box: { x: number; y: number; width: number; height: number } | null = null,
    noise: () => number = () => 0,
  ): Frame {
    const rgb = new Uint8Array(FW * FH * 3);
    for (let y = 0; y < FH; y++) {
      for (let x = 0; x < FW; x++) {
        const inBox = box && x >= box.x && x < box.x + box.width && y >= box.y && y < box.y + box.height;
        const grey = Math.max(0, Math.min(255, Math.round((inBox ? 30 : background) + noise())));
        rgb.fill(grey, (y * FW + x) * 3, (y * FW + x) * 3 + 3);
      }
    }
    return { rgb, width: FW, height: FH, at: NOW, seq: 0 };
  }

  function run(detector: MotionDetector, frames: Frame[]): Array<{ index: number; change: MotionChange }> {
    const changes: Array<{ index: number; change: MotionChange }> = [];
    frames.forEach((f, index) => {
      const change = detector.update(f);
      if (change) changes.push({ index, change });
    });
    return changes;
  }

  function overlapsRoi(box: { x: number; y: number; width: number; height: number }): boolean {
    return (
      box.x < roi.x + roi.width && roi.x < box.x + box.width && box.y < roi.y + roi.height && roi.y < box.y + box.height
    );
  }

  it('sees a car arrive, stay and leave, once each', () => {
    const boxes: Array<{ x: number; y: number; width: number; height: number } | null> = [];
    for (let i = 0; i < 8; i++) boxes.push(null);
    for (let x = -70; x < 45; x += 20) boxes.push({ x, y: 35, width: 70, height: 50 }); // driving in
    for (let i = 0; i < 30; i++) boxes.push({ x: 45, y: 35, width: 70, height: 50 }); // standing
    for (let x = 65; x < FW + 20; x += 20) boxes.push({ x, y: 35, width: 70, height: 50 }); // driving out
    for (let i = 0; i < 15; i++) boxes.push(null);
    const detector = new MotionDetector({ roi });
    const changes = run(
      detector,
      boxes.map((b) => frame(150, b)),
    );
    assert.deepEqual(
      changes.map((c) => c.change),
      ['arrived', 'left'],
    );
    const lastInRoi = boxes.findLastIndex((b) => b !== null && overlapsRoi(b));
    const firstStanding = boxes.findIndex((b) => b?.x === 45);
    assert.ok(changes[0]!.index <= firstStanding + 2, 'arrived while driving in');
    assert.ok(changes[1]!.index > lastInRoi, 'left only once the car was out of the ROI');
    assert.equal(detector.present, false);
  });

  it('ignores sensor noise below the threshold and slow changes of light', () => {
    let state = 99;
    const noise = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 30; // +-15
    const detector = new MotionDetector({ roi, threshold: 25 });
    const noisy = Array.from({ length: 60 }, () => frame(150, null, noise));
    assert.deepEqual(run(detector, noisy), []);
    const dawn = Array.from({ length: 120 }, (_, i) => frame(90 + i * 0.5));
    assert.deepEqual(run(new MotionDetector({ roi }), dawn), []);
  });

  it('ignores motion outside the region of interest', () => {
    const frames: Frame[] = [frame(150)];
    for (let x = -60; x < FW; x += 10) frames.push(frame(150, { x, y: 0, width: 60, height: 25 })); // above
    for (let x = -60; x < FW; x += 10) frames.push(frame(150, { x, y: 95, width: 60, height: 25 })); // below
    for (let y = -20; y < FH; y += 10) frames.push(frame(150, { x: 125, y, width: 35, height: 20 })); // right of it
    assert.deepEqual(run(new MotionDetector({ roi }), frames), []);
  });

  it('lets a lasting change become background after maxPresentFrames', () => {
    const cone = { x: 50, y: 40, width: 60, height: 40 };
    const frames = [frame(150), ...Array.from({ length: 60 }, () => frame(150, cone))];
    const changes = run(new MotionDetector({ roi, maxPresentFrames: 20 }), frames);
    assert.deepEqual(
      changes.map((c) => c.change),
      ['arrived', 'left'],
    );
  });

  it('refuses bad options and a region outside the frame', () => {
    assert.throws(() => new MotionDetector({ roi, threshold: 0 }), /threshold/);
    assert.throws(() => new MotionDetector({ roi, minChangedFraction: 1.5 }), /minChangedFraction/);
    assert.throws(() => new MotionDetector({ roi: { x: -1, y: 0, width: 10, height: 10 } }), /roi/);
    const far = new MotionDetector({ roi: { x: 500, y: 500, width: 50, height: 50 } });
    assert.throws(() => far.update(frame(150)), /outside the 160x120 frame/);
  });
});

describe('camera config', () => {
  it('accepts each camera type and keeps only what was given', () => {
    assert.deepEqual(parseCameraConfig({ type: 'replay', dir: 'demo/cars' }, 'camera'), {
      type: 'replay',
      dir: 'demo/cars',
    });
    const snapshot = {
      type: 'snapshot',
      url: 'https://user:pw@cam.local/snap.jpg',
      intervalMs: 250,
      timeoutMs: 2000,
      headers: { 'X-Api-Key': 'abc' },
    };
    assert.deepEqual(parseCameraConfig(snapshot, 'camera'), snapshot);
    const ffmpeg = {
      type: 'ffmpeg',
      input: 'rtsp://cam.local/stream1',
      width: 1280,
      height: 720,
      fps: 2.5,
      rtspTransport: 'udp',
      ffmpegPath: '/usr/bin/ffmpeg',
      timeoutMs: 8000,
    };
    assert.deepEqual(parseCameraConfig(ffmpeg, 'camera'), ffmpeg);
  });

  it('creates the camera a config describes', async () => {
    const configs = [
      { type: 'replay', dir: work },
      { type: 'snapshot', url: 'http://127.0.0.1:9/snap.jpg' },
      { type: 'ffmpeg', input: 'rtsp://127.0.0.1:9/x', width: 64, height: 48 },
    ];
    const cameras: FrameSource[] = configs.map((c) => createCamera(parseCameraConfig(c, 'camera'), clock));
    assert.deepEqual(
      cameras.map((c) => c.kind),
      ['replay', 'snapshot', 'ffmpeg'],
    );
    await Promise.all(cameras.map((c) => c.close()));
  });

  const P = 'lanes[1].camera';
  const bad: Array<[string, unknown, string]> = [
    ['not an object', undefined, `${P}: expected an object`],
    ['an unknown type', { type: 'webcam' }, `${P}.type: expected one of replay, snapshot, ffmpeg`],
    ['a replay without dir', { type: 'replay' }, `${P}.dir: expected a non-empty string`],
    ['a non-boolean loop', { type: 'replay', dir: 'x', loop: 'yes' }, `${P}.loop: expected true or false`],
    ['a setting of another type', { type: 'replay', dir: 'x', url: 'http://a/b' }, `${P}.url: unknown setting`],
    ['an ftp URL', { type: 'snapshot', url: 'ftp://cam/snap.jpg' }, `${P}.url: expected an http(s) URL`],
    ['a non-URL', { type: 'snapshot', url: 'cam/snap.jpg' }, `${P}.url: expected an http(s) URL`],
    ['a tiny timeout', { type: 'snapshot', url: 'http://cam/s', timeoutMs: 5 }, `${P}.timeoutMs: expected an integer`],
    ['a fractional interval', { type: 'snapshot', url: 'http://cam/s', intervalMs: 0.5 }, `${P}.intervalMs:`],
    ['a header number', { type: 'snapshot', url: 'http://cam/s', headers: { 'X-Key': 5 } }, `${P}.headers.X-Key:`],
    [
      'a header name with a space',
      { type: 'snapshot', url: 'http://cam/s', headers: { 'bad name': 'x' } },
      `${P}.headers["bad name"]: not a valid HTTP header name`,
    ],
    [
      'a header value with a line break',
      { type: 'snapshot', url: 'http://cam/s', headers: { 'X-Key': 'sekrit\r\nX-Evil: 1' } },
      `${P}.headers.X-Key: expected a string without line breaks`,
    ],
    ['a missing height', { type: 'ffmpeg', input: 'rtsp://cam/1', width: 1280 }, `${P}.height: expected an integer`],
    ['a zero width', { type: 'ffmpeg', input: 'rtsp://cam/1', width: 0, height: 720 }, `${P}.width:`],
    ['a zero fps', { type: 'ffmpeg', input: 'rtsp://cam/1', width: 64, height: 48, fps: 0 }, `${P}.fps:`],
    [
      'an unknown RTSP transport',
      { type: 'ffmpeg', input: 'rtsp://cam/1', width: 64, height: 48, rtspTransport: 'sctp' },
      `${P}.rtspTransport: expected one of tcp, udp`,
    ],
    ['an input that is an option', { type: 'ffmpeg', input: '-f lavfi', width: 64, height: 48 }, `${P}.input:`],
  ];
  for (const [what, input, message] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      assert.throws(
        () => parseCameraConfig(input, P),
        (err: unknown) => {
          assert.ok(err instanceof CameraConfigError, String(err));
          assert.equal(err.code, 'INVALID_CONFIG');
          assert.ok(err.message.startsWith(message), `"${err.message}" does not start with "${message}"`);
          assert.doesNotMatch(err.message, /sekrit/, 'a header value leaked into the message');
          return true;
        },
      );
    });
  }
});
