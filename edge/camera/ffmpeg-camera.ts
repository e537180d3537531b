/**
 * FFmpeg camera: video streams (RTSP, HTTP MJPEG, files) decoded by an
 * `ffmpeg` child process into raw RGB frames on its stdout:
 *
 *   ffmpeg -loglevel error -nostdin [-rtsp_transport tcp] [-re] -i INPUT -an
 *          -vf fps=F,scale=W:H -f rawvideo -pix_fmt rgb24 pipe:1
 *
 * Guarantees:
 * - the process starts at the first next() and runs until close(), which
 *   kills it (SIGTERM, then SIGKILL after 2 s) and waits for it to end;
 * - only the latest complete frame is kept: next() returns a frame it has
 *   not returned before, waiting for the next one when needed (at most
 *   `timeoutMs`, then CameraError TIMEOUT); stale frames are dropped;
 * - frames are exactly width * height * 3 bytes, whatever the pipe's chunk
 *   boundaries; `at` is when the frame arrived, by the injected clock;
 * - a missing ffmpeg is CameraError FFMPEG_NOT_FOUND ("ffmpeg not found:
 *   install Debian's ffmpeg ..."); a process that fails is FFMPEG_EXITED
 *   with its exit code and last error lines; a stream that ends normally
 *   (a file played out) makes next() resolve null;
 * - with `restart` (default), a next() after the process ended starts it
 *   again once a back-off has passed (1 s, doubling to 30 s while runs
 *   deliver no frame); before that, next() repeats the failure (or null);
 * - local files are read at their native rate (`-re`, see `realtime`), so
 *   a file behaves like a live camera; RTSP defaults to TCP transport.
 * Messages mask a password in the input URL; note that ffmpeg's own
 * command line (visible to local users in `ps`) still holds it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../time/clock.js';
import type { Frame, FrameSource } from './frame-source.js';
import { CameraError, maskUrl } from './frame-source.js';
import { RawFrameSplitter } from './raw-frame-splitter.js';

export interface FfmpegCameraOptions {
  /** what ffmpeg opens: rtsp://..., http://.../mjpeg, a file path */
  input: string;
  /** frames are scaled to width x height */
  width: number;
  height: number;
  /** frames per second taken from the stream (default 5) */
  fps?: number;
  /** RTSP only (ignored for other inputs); default 'tcp' */
  rtspTransport?: 'tcp' | 'udp';
  /** the ffmpeg program (default 'ffmpeg', looked up on PATH) */
  ffmpegPath?: string;
  /** longest wait for a frame in next(), ms (default 5000) */
  timeoutMs?: number;
  /** read the input at its native rate (ffmpeg -re); default: true for local files, false for URLs */
  realtime?: boolean;
  /** start ffmpeg again after it ended (default true) */
  restart?: boolean;
}

export const ffmpegDefaults = { fps: 5, timeoutMs: 5000, ffmpegPath: 'ffmpeg' };
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
const KILL_GRACE_MS = 2000;
const STDERR_KEEP = 2000;
const URL_INPUT = /^[a-z][a-z0-9+.-]*:\/\//i;

/** ffmpeg's arguments for these options (defaults applied). */
export function ffmpegArgs(options: FfmpegCameraOptions): string[] {
  const fps = options.fps ?? ffmpegDefaults.fps;
  const rtsp = /^rtsps?:\/\//i.test(options.input);
  const realtime = options.realtime ?? !URL_INPUT.test(options.input);
  return [
    '-loglevel',
    'error',
    '-nostdin',
    ...(rtsp ? ['-rtsp_transport', options.rtspTransport ?? 'tcp'] : []),
    ...(realtime ? ['-re'] : []),
    '-i',
    options.input,
    '-an',
    '-vf',
    `fps=${fps},scale=${options.width}:${options.height}`,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

interface Run {
  child: ChildProcess;
  frames: number;
  stderr: string;
  done: boolean;
  ended: Promise<void>;
}

interface Waiter {
  resolve(frame: Frame | null): void;
  reject(err: CameraError): void;
  timer: NodeJS.Timeout;
}

export class FfmpegCamera implements FrameSource {
  readonly kind = 'ffmpeg';
  /** the input for messages (password masked) */
  readonly input: string;
  private readonly options: FfmpegCameraOptions;
  private readonly ffmpegPath: string;
  private readonly timeoutMs: number;
  private readonly restart: boolean;
  private readonly frameBytes: number;
  private run: Run | null = null;
  private started = false;
  private latest: { rgb: Uint8Array; at: number } | null = null;
  private waiters: Waiter[] = [];
  /** why the last run ended, null for a normal end */
  private failure: CameraError | null = null;
  private restartAt = 0;
  private backoffMs = RESTART_MIN_MS;
  private seq = 0;
  private closed = false;

  constructor(
    options: FfmpegCameraOptions,
    private readonly clock: Clock,
  ) {
    const bad = (what: string) => new CameraError('INVALID_OPTIONS', `ffmpeg camera: ${what}`);
    if (typeof options.input !== 'string' || options.input.length === 0 || options.input.startsWith('-')) {
      throw bad('input must be a URL or file path not starting with "-"');
    }
    for (const key of ['width', 'height'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v < 16 || v > 8192) throw bad(`${key} must be an integer from 16 to 8192`);
    }
    const fps = options.fps ?? ffmpegDefaults.fps;
    if (typeof fps !== 'number' || !(fps > 0 && fps <= 60)) throw bad('fps must be above 0 and at most 60');
    this.timeoutMs = options.timeoutMs ?? ffmpegDefaults.timeoutMs;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs < 1) throw bad('timeoutMs must be a positive integer');
    this.options = { ...options };
    this.input = maskUrl(options.input);
    this.ffmpegPath = options.ffmpegPath ?? ffmpegDefaults.ffmpegPath;
    this.restart = options.restart ?? true;
    this.frameBytes = options.width * options.height * 3;
  }

  /** The running ffmpeg's process id, if one runs. */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  async next(): Promise<Frame | null> {
    if (this.closed) return null;
    if (this.latest) return this.frame(this.latest.rgb, this.latest.at);
    if (!this.run) {
      if (!this.started || (this.restart && performance.now() >= this.restartAt)) this.start();
      else if (this.failure) throw this.failure;
      else return null;
    }
    return new Promise<Frame | null>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new CameraError('TIMEOUT', `ffmpeg camera ${this.input}: no frame within ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  vehicleArrived(): void {}

  async close(): Promise<void> {
    this.closed = true;
    this.latest = null;
    for (const w of this.takeWaiters()) w.resolve(null);
    const run = this.run;
    if (!run || run.done) return;
    run.child.kill('SIGTERM');
    const force = setTimeout(() => run.child.kill('SIGKILL'), KILL_GRACE_MS);
    await run.ended;
    clearTimeout(force);
  }

  private start(): void {
    this.started = true;
    this.failure = null;
    const splitter = new RawFrameSplitter(this.frameBytes);
    let child: ChildProcess;
    try {
      child = spawn(this.ffmpegPath, ffmpegArgs(this.options), {
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (err) {
      this.failure = this.notFound(err);
      this.scheduleRestart(0);
      throw this.failure;
    }
    let endRun!: () => void;
    const run: Run = { child, frames: 0, stderr: '', done: false, ended: new Promise((r) => (endRun = r)) };
    this.run = run;
    child.stdout!.on('data', (chunk: Buffer) => {
      const frames = splitter.push(chunk);
      if (frames.length > 0) this.arrived(run, frames[frames.length - 1]!, frames.length); // older ones are stale
    });
    child.stdout!.on('error', () => undefined);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      run.stderr = (run.stderr + text).slice(-STDERR_KEEP);
    });
    child.stderr!.on('error', () => undefined);
    child.on('error', (err: NodeJS.ErrnoException) => {
      // not started (ENOENT, EACCES), or a kill that failed; 'close' may follow
      if (child.pid === undefined || err.code === 'ENOENT' || err.code === 'EACCES') {
        this.ended(run, this.notFound(err));
        endRun();
      }
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      this.ended(run, code === 0 ? null : this.exited(run, code, signal));
      endRun();
    });
  }

  private arrived(run: Run, rgb: Uint8Array, count: number): void {
    if (this.closed || run.done) return;
    run.frames += count;
    const at = this.clock.now();
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      this.latest = null;
      waiter.resolve(this.frame(rgb, at));
    } else {
      this.latest = { rgb, at }; // an older frame nobody took is dropped
    }
  }

  private frame(rgb: Uint8Array, at: number): Frame {
    this.latest = null;
    return { rgb, width: this.options.width, height: this.options.height, at, seq: ++this.seq };
  }

  private ended(run: Run, failure: CameraError | null): void {
    if (run.done) return;
    run.done = true;
    if (this.run === run) this.run = null;
    if (this.closed) return;
    this.failure = failure;
    this.scheduleRestart(run.frames);
    for (const w of this.takeWaiters()) {
      if (failure) w.reject(failure);
      else w.resolve(null);
    }
  }

  private scheduleRestart(framesDelivered: number): void {
    if (framesDelivered > 0) this.backoffMs = RESTART_MIN_MS;
    this.restartAt = performance.now() + this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RESTART_MAX_MS);
  }

  private takeWaiters(): Waiter[] {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) clearTimeout(w.timer);
    return waiters;
  }

  private notFound(err: unknown): CameraError {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'ffmpeg not found' : `ffmpeg cannot be run (${e.code ?? e.message})`;
    return new CameraError(
      'FFMPEG_NOT_FOUND',
      `${why} at "${this.ffmpegPath}": install Debian's ffmpeg (apt-get install ffmpeg) or set the ffmpeg path (camera ${this.input})`,
      { cause: err },
    );
  }

  private exited(run: Run, code: number | null, signal: NodeJS.Signals | null): CameraError {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const lines = run.stderr.split(this.options.input).join(this.input).trim().split('\n').slice(-3).join(' | ');
    return new CameraError(
      'FFMPEG_EXITED',
      `ffmpeg for ${this.input} ${how}${lines ? `: ${lines}` : ' (no error message)'}`.slice(0, 1000),
    );
  }
}
