/** Cameras over files: ReplayCamera (folders of frames), SnapshotCamera (an HTTP snapshot URL) and the raw frame splitter. */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { CameraError, toRgbImage } from '../../edge/camera/frame-source.js';
import { RawFrameSplitter } from '../../edge/camera/raw-frame-splitter.js';
import { ReplayCamera } from '../../edge/camera/replay-camera.js';
import { SnapshotCamera } from '../../edge/camera/snapshot-camera.js';
import { decodeImage } from '../../edge/vision/image-input.js';
import { H, W, checkFrame, clock, pixelsOf, rejectsWith, sceneJpeg, work } from './camera-fixtures.js';

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
