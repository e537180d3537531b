/**
 * The gate unit's cameras (edge/camera): replay folders of rendered car
 * scenes, HTTP snapshots from a real local server, ffmpeg streams (a fake
 * ffmpeg script always, the real program when it is installed), presence
 * from motion on synthetic frames, and the camera config. No assertion
 * depends on how long anything takes; timeouts only bound the waits.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { renderScene } from '../../scenes/scene-renderer.js';
import type { Clock } from '../../time/clock.js';
import { CameraConfigError, createCamera, parseCameraConfig } from '../../edge/camera/camera-config.js';
import { FfmpegCamera, ffmpegArgs } from '../../edge/camera/ffmpeg-camera.js';
import type { Frame, FrameSource } from '../../edge/camera/frame-source.js';
import { CameraError, toRgbImage } from '../../edge/camera/frame-source.js';
import { MotionDetector } from '../../edge/camera/motion-detector.js';
import type { MotionChange } from '../../edge/camera/motion-detector.js';
import { RawFrameSplitter } from '../../edge/camera/raw-frame-splitter.js';
import { ReplayCamera } from '../../edge/camera/replay-camera.js';
import { SnapshotCamera } from '../../edge/camera/snapshot-camera.js';
import { decodeImage } from '../../edge/vision/image-input.js';

const NOW = 1_700_000_000_000;
const clock: Clock = { now: () => NOW };
const W = 320;
const H = 240;

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'platepay-camera-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A small rendered car scene (JPEG); the seed changes the car and the noise. */
async function sceneJpeg(seed: number): Promise<Buffer> {
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

async function pixelsOf(file: string): Promise<Uint8Array> {
  return (await decodeImage(file)).data;
}

/** Rejects with a CameraError of this code whose message matches every pattern. */
async function rejectsWith(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<CameraError> {
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

function checkFrame(frame: Frame | null, width: number, height: number, seq: number): Frame {
  assert.ok(frame, 'expected a frame, got null');
  assert.equal(frame.width, width);
  assert.equal(frame.height, height);
  assert.equal(frame.rgb.length, width * height * 3);
  assert.equal(frame.at, NOW);
  assert.equal(frame.seq, seq);
  return frame;
}

describe('ReplayCamera', () => {
  let cars: string;
  let files: string[][];

  before(async () => {
    cars = join(work, 'cars');
    files = [];
    let seed = 1;
    for (const car of ['car-001', 'car-002']) {
      await mkdir(join(cars, car), { recursive: true });
      const frames: string[] = [];
      for (const name of ['frame-1.jpg', 'frame-2.jpg']) {
        const file = join(cars, car, name);
        await writeFile(file, await sceneJpeg(seed++));
        frames.push(file);
      }
      files.push(frames);
      await writeFile(join(cars, car, 'notes.txt'), 'not a frame');
      await writeFile(join(cars, car, '.hidden.jpg'), 'not a frame either');
    }
  });

  for (const preload of [true, false]) {
    it(`gives each car's frames in order, then null, car by car (preload ${preload})`, async () => {
      const camera = new ReplayCamera(cars, clock, { preload });
      assert.equal(camera.kind, 'replay');
      assert.equal(await camera.next(), null, 'no car before the first vehicleArrived()');
      let seq = 0;
      for (const carFiles of files) {
        camera.vehicleArrived();
        for (const file of carFiles) {
          const frame = checkFrame(await camera.next(), W, H, ++seq);
          assert.deepEqual(frame.rgb, await pixelsOf(file), `frame ${seq} is not ${file}`);
        }
        assert.equal(await camera.next(), null);
        assert.equal(await camera.next(), null);
      }
      camera.vehicleArrived();
      assert.equal(await camera.next(), null, 'no third car');
      await camera.close();
    });
  }

  it('moves on to the next car even when the current one is not used up', async () => {
    const camera = new ReplayCamera(cars, clock);
    camera.vehicleArrived();
    checkFrame(await camera.next(), W, H, 1);
    camera.vehicleArrived();
    const frame = checkFrame(await camera.next(), W, H, 2);
    assert.deepEqual(frame.rgb, await pixelsOf(files[1]![0]!));
    await camera.close();
    assert.equal(await camera.next(), null, 'null after close');
  });

  it('starts again with the first car when looping', async () => {
    const camera = new ReplayCamera(cars, clock, { loop: true });
    for (let i = 0; i < 3; i++) camera.vehicleArrived();
    const frame = checkFrame(await camera.next(), W, H, 1);
    assert.deepEqual(frame.rgb, await pixelsOf(files[0]![0]!));
    await camera.close();
  });

  it('takes a folder without subfolders as one car, frames in numeric name order, jpg and png', async () => {
    const flat = join(work, 'flat');
    await mkdir(flat);
    const png = await sharp(await sceneJpeg(7))
      .png()
      .toBuffer();
    await writeFile(join(flat, 'frame-10.png'), png);
    await writeFile(join(flat, 'frame-2.jpg'), await sceneJpeg(8));
    const camera = new ReplayCamera(flat, clock);
    camera.vehicleArrived();
    const first = checkFrame(await camera.next(), W, H, 1);
    const second = checkFrame(await camera.next(), W, H, 2);
    assert.deepEqual(first.rgb, await pixelsOf(join(flat, 'frame-2.jpg')));
    assert.deepEqual(second.rgb, await pixelsOf(join(flat, 'frame-10.png')));
    assert.deepEqual(toRgbImage(second), { data: second.rgb, width: W, height: H });
    assert.equal(await camera.next(), null);
    await camera.close();
  });

  it('names a corrupt file and goes on with the next frame', async () => {
    const dir = join(work, 'corrupt', 'car-001');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'frame-1.jpg'), await sceneJpeg(9));
    await writeFile(join(dir, 'frame-2.jpg'), Buffer.from('this is not a JPEG at all'));
    await writeFile(join(dir, 'frame-3.jpg'), await sceneJpeg(10));
    for (const preload of [true, false]) {
      const camera = new ReplayCamera(join(work, 'corrupt'), clock, { preload });
      camera.vehicleArrived();
      checkFrame(await camera.next(), W, H, 1);
      await rejectsWith(camera.next(), 'BAD_IMAGE', /car-001[/\\]frame-2\.jpg/);
      checkFrame(await camera.next(), W, H, 2);
      assert.equal(await camera.next(), null);
      await camera.close();
    }
  });

  it('names a missing folder and an empty one', async () => {
    const missing = join(work, 'no-such-folder');
    const camera = new ReplayCamera(missing, clock);
    camera.vehicleArrived();
    await rejectsWith(camera.next(), 'REPLAY_DIR', /no-such-folder/);
    const empty = join(work, 'empty');
    await mkdir(empty);
    const emptyCamera = new ReplayCamera(empty, clock);
    emptyCamera.vehicleArrived();
    await rejectsWith(emptyCamera.next(), 'REPLAY_EMPTY', /empty/);
    await camera.close();
    await emptyCamera.close();
  });
});

describe('SnapshotCamera', () => {
  let server: Server;
  let base: string;
  let jpeg: Buffer;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let hanging: () => void = () => undefined;

  before(async () => {
    jpeg = await sceneJpeg(21);
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      switch (req.url) {
        case '/snap.jpg':
        case '/auth.jpg':
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
          res.end(jpeg);
          return;
        case '/text':
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('hello, this is not a picture');
          return;
        case '/octet':
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end('hello, this is not a picture either');
          return;
        case '/hang':
          hanging(); // never answers
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('no such snapshot');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches and decodes a fresh snapshot on every next()', async () => {
    const before = seen.length;
    const camera = new SnapshotCamera({ url: `${base}/snap.jpg`, intervalMs: 0 }, clock);
    assert.equal(camera.kind, 'snapshot');
    const expected = (await decodeImage(jpeg)).data;
    for (const seq of [1, 2]) {
      const frame = checkFrame(await camera.next(), W, H, seq);
      assert.deepEqual(frame.rgb, expected);
    }
    assert.equal(seen.length - before, 2, 'one request per frame');
    await camera.close();
    assert.equal(await camera.next(), null);
  });

  it('sends URL credentials as Basic authorization, with the extra headers, and masks the password', async () => {
    const url = `${base.replace('http://', 'http://admin:s3cret@')}/auth.jpg`;
    const camera = new SnapshotCamera({ url, headers: { 'X-Api-Key': 'k1' } }, clock);
    assert.doesNotMatch(camera.url, /s3cret/);
    checkFrame(await camera.next(), W, H, 1);
    const request = seen.at(-1)!;
    assert.equal(request.url, '/auth.jpg');
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    assert.equal(request.headers['x-api-key'], 'k1');
    await camera.close();
  });

  it('names the URL and the status of an HTTP error', async () => {
    const camera = new SnapshotCamera({ url: `${base}/missing.jpg` }, clock);
    const err = await rejectsWith(camera.next(), 'HTTP_STATUS', /\/missing\.jpg/, /HTTP 404/);
    assert.equal(err.status, 404);
    await camera.close();
  });

  it('refuses a text body, declared or not', async () => {
    const text = new SnapshotCamera({ url: `${base}/text` }, clock);
    await rejectsWith(text.next(), 'NOT_AN_IMAGE', /\/text/, /text\/plain/);
    const octet = new SnapshotCamera({ url: `${base}/octet` }, clock);
    await rejectsWith(octet.next(), 'BAD_IMAGE', /\/octet/, /not a decodable image/);
    await text.close();
    await octet.close();
  });

  it('gives up on a server that never answers', async () => {
    const camera = new SnapshotCamera({ url: `${base}/hang`, timeoutMs: 300 }, clock);
    await rejectsWith(camera.next(), 'TIMEOUT', /\/hang/, /300 ms/);
    await camera.close();
  });

  it('resolves null when closed while waiting for an answer', async () => {
    const asked = new Promise<void>((resolve) => (hanging = resolve));
    const camera = new SnapshotCamera({ url: `${base}/hang`, timeoutMs: 60_000 }, clock);
    const pending = camera.next();
    await asked;
    await camera.close();
    assert.equal(await pending, null);
  });

  it('names a server that is not there', async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const camera = new SnapshotCamera({ url: `http://127.0.0.1:${port}/snap.jpg` }, clock);
    await rejectsWith(camera.next(), 'UNREACHABLE', new RegExp(`127\\.0\\.0\\.1:${port}/snap\\.jpg`));
    await camera.close();
  });

  it('refuses a URL that is not http(s)', () => {
    assert.throws(
      () => new SnapshotCamera({ url: 'ftp://cam/snap.jpg' }, clock),
      (err: unknown) => err instanceof CameraError && err.code === 'INVALID_OPTIONS' && /ftp:/.test(err.message),
    );
  });
});

describe('RawFrameSplitter', () => {
  it('cuts a stream into whole frames whatever the chunk boundaries', () => {
    const frameBytes = 48;
    const stream = new Uint8Array(frameBytes * 9 + 17);
    for (let i = 0; i < stream.length; i++) stream[i] = Math.floor(i / frameBytes) + 1;
    let state = 12345;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const splitter = new RawFrameSplitter(frameBytes);
      const frames: Uint8Array[] = [];
      for (let offset = 0; offset < stream.length;) {
        const size = 1 + Math.floor(random() * 3 * frameBytes);
        frames.push(...splitter.push(stream.subarray(offset, offset + size)));
        offset += size;
      }
      assert.equal(frames.length, 9);
      frames.forEach((frame, k) => assert.deepEqual(frame, new Uint8Array(frameBytes).fill(k + 1)));
      assert.equal(splitter.pending, 17);
    }
  });
});

describe('FfmpegCamera', () => {
  const S = 16; // fake frames are S x S
  let fake: string;

  before(async () => {
    // a stand-in for ffmpeg: records its arguments, then plays the scenario file given as its -i input
    fake = join(work, 'fake-ffmpeg.mjs');
    await writeFile(
      fake,
      `#!${process.execPath}
import { readFileSync, writeFileSync } from 'node:fs';
const args = process.argv.slice(2);
const input = args[args.indexOf('-i') + 1];
writeFileSync(input + '.args.json', JSON.stringify(args));
const s = JSON.parse(readFileSync(input, 'utf8'));
writeFileSync(input + '.pid', String(process.pid));
const size = ${S} * ${S} * 3;
const bytes = Buffer.concat(Array.from({ length: s.frames }, (_, k) => Buffer.alloc(size, k + 1)));
function finish() {
  if (s.then === 'fail') {
    process.stderr.write('rtsp://cam/stream1: Connection refused\\n');
    process.exit(1);
  }
  if (s.then === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
}
if (s.chunk === 0) process.stdout.write(bytes, finish);
else {
  let offset = 0;
  const step = () => {
    if (offset >= bytes.length) return finish();
    const piece = bytes.subarray(offset, offset + s.chunk);
    offset += s.chunk;
    process.stdout.write(piece, () => setImmediate(step));
  };
  step();
}
`,
    );
    await chmod(fake, 0o755);
  });

  async function scenario(name: string, s: { frames: number; chunk: number; then: string }): Promise<string> {
    const file = join(work, `${name}.json`);
    await writeFile(file, JSON.stringify(s));
    return file;
  }

  const opened: FfmpegCamera[] = [];
  after(async () => {
    await Promise.all(opened.map((c) => c.close())); // also when a test failed half-way
  });

  function camera(input: string, extra: Partial<ConstructorParameters<typeof FfmpegCamera>[0]> = {}) {
    const cam = new FfmpegCamera(
      { input, width: S, height: S, ffmpegPath: fake, restart: false, timeoutMs: 10_000, ...extra },
      clock,
    );
    opened.push(cam);
    return cam;
  }

  it('builds the ffmpeg command line', () => {
    const rtsp = ffmpegArgs({ input: 'rtsp://cam/stream1', width: 1280, height: 720 });
    assert.deepEqual(rtsp.slice(rtsp.indexOf('-rtsp_transport'), rtsp.indexOf('-rtsp_transport') + 2), [
      '-rtsp_transport',
      'tcp',
    ]);
    assert.ok(rtsp.indexOf('-rtsp_transport') < rtsp.indexOf('-i'));
    assert.ok(!rtsp.includes('-re'), 'a live stream is not slowed down');
    assert.deepEqual(rtsp.slice(rtsp.indexOf('-i')), [
      '-i',
      'rtsp://cam/stream1',
      '-an',
      '-vf',
      'fps=5,scale=1280:720',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ]);
    const file = ffmpegArgs({ input: '/videos/lane.avi', width: 640, height: 360, fps: 2, rtspTransport: 'udp' });
    assert.ok(file.includes('-re'), 'a file is read at its native rate');
    assert.ok(!file.includes('-rtsp_transport'), 'no RTSP options for a file');
    assert.ok(file.includes('fps=2,scale=640:360'));
  });

  it('says clearly that ffmpeg is missing', async () => {
    const cam = new FfmpegCamera(
      { input: 'rtsp://cam/stream1', width: 64, height: 48, ffmpegPath: join(work, 'no-such-ffmpeg') },
      clock,
    );
    await rejectsWith(cam.next(), 'FFMPEG_NOT_FOUND', /ffmpeg not found/, /install Debian's ffmpeg/, /no-such-ffmpeg/);
    await rejectsWith(cam.next(), 'FFMPEG_NOT_FOUND', /ffmpeg not found/);
    await cam.close();
  });

  it('reads whole frames across chunk boundaries, then null when the stream ends', async () => {
    const input = await scenario('trickle', { frames: 6, chunk: 100, then: 'exit' });
    const cam = camera(input);
    const values: number[] = [];
    for (let seq = 1; seq <= 10; seq++) {
      const frame = await cam.next();
      if (!frame) break;
      checkFrame(frame, S, S, seq);
      const value = frame.rgb[0]!;
      assert.ok(
        frame.rgb.every((b) => b === value),
        `frame ${seq} mixes bytes of two frames`,
      );
      values.push(value);
    }
    assert.ok(values.length >= 1);
    assert.equal(values.at(-1), 6, 'the last frame is delivered');
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      'frames in stream order',
    );
    assert.equal(new Set(values).size, values.length, 'no frame twice');
    assert.equal(await cam.next(), null);
    const args = JSON.parse(await readFile(`${input}.args.json`, 'utf8')) as string[];
    assert.deepEqual(args.slice(0, 2), ['-loglevel', 'error']);
    assert.ok(args.includes('-re') && args.includes(`fps=5,scale=${S}:${S}`));
    await cam.close();
  });

  it('keeps only the latest frame, waits for a fresh one, and kills ffmpeg on close', async () => {
    // five frames in one small write arrive in one chunk: only the fifth is kept
    const input = await scenario('burst', { frames: 5, chunk: 0, then: 'wait' });
    const cam = camera(input, { timeoutMs: 300 });
    const frame = checkFrame(await cam.next(), S, S, 1);
    assert.equal(frame.rgb[0], 5);
    await rejectsWith(cam.next(), 'TIMEOUT', /no frame within 300 ms/);
    const pid = Number(await readFile(`${input}.pid`, 'utf8'));
    assert.equal(cam.pid, pid);
    await cam.close();
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'ffmpeg still runs after close()');
    assert.equal(await cam.next(), null);
  });

  it('reports a failing ffmpeg with its exit code and last error line', async () => {
    const input = await scenario('fail', { frames: 0, chunk: 0, then: 'fail' });
    const cam = camera(input);
    await rejectsWith(cam.next(), 'FFMPEG_EXITED', /exited with code 1/, /Connection refused/);
    await rejectsWith(cam.next(), 'FFMPEG_EXITED', /code 1/);
    await cam.close();
  });

  const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
  it(
    'reads frames of a real video file',
    { skip: hasFfmpeg ? false : 'ffmpeg is not on PATH (apt-get install ffmpeg to run this test)' },
    async () => {
      const jpg = join(work, 'still.jpg');
      const avi = join(work, 'still.avi');
      await writeFile(jpg, await sceneJpeg(31));
      const made = spawnSync('ffmpeg', [
        '-loglevel',
        'error',
        '-y',
        '-loop',
        '1',
        '-i',
        jpg,
        '-t',
        '1',
        '-r',
        '5',
        avi,
      ]);
      assert.equal(made.status, 0, String(made.stderr));
      const cam = new FfmpegCamera({ input: avi, width: 160, height: 120, fps: 5, restart: false }, clock);
      opened.push(cam);
      const frames: Frame[] = [];
      for (let i = 0; i < 20; i++) {
        const frame = await cam.next();
        if (!frame) break;
        frames.push(checkFrame(frame, 160, 120, i + 1));
      }
      assert.ok(frames.length >= 1, 'no frame from the video');
      const mean = frames[0]!.rgb.reduce((sum, b) => sum + b, 0) / frames[0]!.rgb.length;
      assert.ok(mean > 20, `the frame is black (mean ${mean})`);
      await cam.close();
    },
  );
});

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
