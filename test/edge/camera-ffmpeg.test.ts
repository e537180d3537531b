/** FfmpegCamera: RTSP, MJPEG and video-file cameras through an ffmpeg child process (a stand-in ffmpeg where the real one is not needed). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FfmpegCamera, ffmpegArgs } from '../../edge/camera/ffmpeg-camera.js';
import type { Frame } from '../../edge/camera/frame-source.js';
import { checkFrame, clock, rejectsWith, sceneJpeg, work } from './camera-fixtures.js';

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
    // the timeout also bounds the first frame, which waits for the fake ffmpeg (a node process) to start: 300 ms
    // failed in a CI run with two test passes and other jobs on the two cores
    const cam = camera(input, { timeoutMs: 2000 });
    const frame = checkFrame(await cam.next(), S, S, 1);
    assert.equal(frame.rgb[0], 5);
    await rejectsWith(cam.next(), 'TIMEOUT', /no frame within 2000 ms/);
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
