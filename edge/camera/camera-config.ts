/**
 * A lane's camera in the gate unit's configuration: checks the untrusted
 * JSON and builds the FrameSource it describes.
 *
 *   {"type": "replay", "dir": "demo/cars", "loop": false}
 *   {"type": "snapshot", "url": "http://cam/snap.jpg", "intervalMs": 200, "timeoutMs": 3000, "headers": {...}}
 *   {"type": "ffmpeg", "input": "rtsp://cam/stream1", "width": 1280, "height": 720, "fps": 5,
 *    "rtspTransport": "tcp", "ffmpegPath": "/usr/bin/ffmpeg", "timeoutMs": 5000}
 *
 * Guarantees: parseCameraConfig returns a fresh object holding only the
 * known settings that were given (defaults are applied by the cameras);
 * anything else is a CameraConfigError (code INVALID_CONFIG) whose message
 * starts with the setting's path, e.g. `lanes[1].camera.url: expected an
 * http(s) URL`, and never repeats a header value or a URL (they may hold
 * secrets).
 */
import type { Clock } from '../../time/clock.js';
import { FfmpegCamera } from './ffmpeg-camera.js';
import type { FfmpegCameraOptions } from './ffmpeg-camera.js';
import type { FrameSource } from './frame-source.js';
import { ReplayCamera } from './replay-camera.js';
import { SnapshotCamera } from './snapshot-camera.js';
import type { SnapshotCameraOptions } from './snapshot-camera.js';

export interface ReplayCameraConfig {
  type: 'replay';
  /** folder of car subfolders (or of one car's frames) */
  dir: string;
  loop?: boolean;
}

/** the snapshot camera's settings that a config file may give (see SnapshotCameraOptions) */
export interface SnapshotCameraConfig extends Pick<
  SnapshotCameraOptions,
  'url' | 'intervalMs' | 'timeoutMs' | 'headers'
> {
  type: 'snapshot';
}

/** the ffmpeg camera's settings that a config file may give (see FfmpegCameraOptions) */
export interface FfmpegCameraConfig extends Pick<
  FfmpegCameraOptions,
  'input' | 'width' | 'height' | 'fps' | 'rtspTransport' | 'ffmpegPath' | 'timeoutMs'
> {
  type: 'ffmpeg';
}

export type CameraConfig = ReplayCameraConfig | SnapshotCameraConfig | FfmpegCameraConfig;

export class CameraConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'CameraConfigError';
  }
}

type Obj = Record<string, unknown>;

const TYPES = ['replay', 'snapshot', 'ffmpeg'] as const;
const KEYS: Record<CameraConfig['type'], string[]> = {
  replay: ['type', 'dir', 'loop'],
  snapshot: ['type', 'url', 'intervalMs', 'timeoutMs', 'headers'],
  ffmpeg: ['type', 'input', 'width', 'height', 'fps', 'rtspTransport', 'ffmpegPath', 'timeoutMs'],
};
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
const MAX_HEADERS = 32;

export function parseCameraConfig(input: unknown, path: string): CameraConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CameraConfigError(`${path}: expected an object with a "type" (${TYPES.join(', ')})`);
  }
  const o = input as Obj;
  const type = o.type;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    throw new CameraConfigError(`${path}.type: expected one of ${TYPES.join(', ')}`);
  }
  const kind = type as CameraConfig['type'];
  for (const key of Object.keys(o)) {
    if (!KEYS[kind].includes(key)) throw new CameraConfigError(`${path}.${key}: unknown setting for a ${kind} camera`);
  }
  switch (kind) {
    case 'replay': {
      const config: ReplayCameraConfig = { type: 'replay', dir: text(o, 'dir', path) };
      if (o.loop !== undefined) config.loop = flag(o, 'loop', path);
      return config;
    }
    case 'snapshot': {
      const config: SnapshotCameraConfig = { type: 'snapshot', url: httpUrl(o, 'url', path) };
      if (o.intervalMs !== undefined) config.intervalMs = integer(o, 'intervalMs', path, 0, 60_000);
      if (o.timeoutMs !== undefined) config.timeoutMs = integer(o, 'timeoutMs', path, 100, 60_000);
      if (o.headers !== undefined) config.headers = headers(o.headers, `${path}.headers`);
      return config;
    }
    case 'ffmpeg': {
      const config: FfmpegCameraConfig = {
        type: 'ffmpeg',
        input: text(o, 'input', path),
        width: integer(o, 'width', path, 16, 8192),
        height: integer(o, 'height', path, 16, 8192),
      };
      if (config.input.startsWith('-')) {
        throw new CameraConfigError(`${path}.input: expected a URL or file path, not something starting with "-"`);
      }
      if (o.fps !== undefined) {
        const fps = o.fps;
        if (typeof fps !== 'number' || !(fps > 0 && fps <= 60)) {
          throw new CameraConfigError(`${path}.fps: expected a number above 0 and at most 60`);
        }
        config.fps = fps;
      }
      if (o.rtspTransport !== undefined) {
        if (o.rtspTransport !== 'tcp' && o.rtspTransport !== 'udp') {
          throw new CameraConfigError(`${path}.rtspTransport: expected one of tcp, udp`);
        }
        config.rtspTransport = o.rtspTransport;
      }
      if (o.ffmpegPath !== undefined) config.ffmpegPath = text(o, 'ffmpegPath', path);
      if (o.timeoutMs !== undefined) config.timeoutMs = integer(o, 'timeoutMs', path, 100, 60_000);
      return config;
    }
  }
}

/** The camera a (checked) config describes. */
export function createCamera(config: CameraConfig, clock: Clock): FrameSource {
  switch (config.type) {
    case 'replay':
      return new ReplayCamera(config.dir, clock, { loop: config.loop ?? false });
    case 'snapshot':
      return new SnapshotCamera(
        { url: config.url, intervalMs: config.intervalMs, timeoutMs: config.timeoutMs, headers: config.headers },
        clock,
      );
    case 'ffmpeg':
      return new FfmpegCamera(
        {
          input: config.input,
          width: config.width,
          height: config.height,
          fps: config.fps,
          rtspTransport: config.rtspTransport,
          ffmpegPath: config.ffmpegPath,
          timeoutMs: config.timeoutMs,
        },
        clock,
      );
  }
}

function text(o: Obj, key: string, path: string): string {
  const v = o[key];
  // eslint-disable-next-line no-control-regex
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096 || /[\u0000-\u001f]/.test(v)) {
    throw new CameraConfigError(`${path}.${key}: expected a non-empty string without control characters`);
  }
  return v;
}

function flag(o: Obj, key: string, path: string): boolean {
  if (typeof o[key] !== 'boolean') throw new CameraConfigError(`${path}.${key}: expected true or false`);
  return o[key] as boolean;
}

function integer(o: Obj, key: string, path: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new CameraConfigError(`${path}.${key}: expected an integer from ${min} to ${max}`);
  }
  return v;
}

function httpUrl(o: Obj, key: string, path: string): string {
  const v = o[key];
  let ok = false;
  if (typeof v === 'string' && v.length <= 4096) {
    try {
      const url = new URL(v);
      ok = (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new CameraConfigError(`${path}.${key}: expected an http(s) URL`);
  return v as string;
}

function headers(v: unknown, path: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CameraConfigError(`${path}: expected an object of header names to string values`);
  }
  const entries = Object.entries(v as Obj);
  if (entries.length > MAX_HEADERS) throw new CameraConfigError(`${path}: at most ${MAX_HEADERS} headers`);
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    const at = HEADER_NAME.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name.slice(0, 100))}]`;
    if (!HEADER_NAME.test(name)) throw new CameraConfigError(`${at}: not a valid HTTP header name`);
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || value.length > 8192 || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new CameraConfigError(`${at}: expected a string without line breaks or control characters`);
    }
    out[name] = value;
  }
  return out;
}
