/**
 * What a lane reads frames from: the FrameSource interface every camera
 * implements (replay folders, HTTP snapshots, ffmpeg streams), the Frame it
 * hands out and the CameraError all of them throw.
 *
 * Guarantees (for every source in edge/camera):
 * - a Frame is packed 8-bit RGB, row-major, exactly width * height * 3 bytes;
 *   `at` comes from the injected clock, `seq` counts the source's frames from 1;
 * - failures are CameraErrors with a stable `code` and a message naming the
 *   file, URL or stream (passwords in URLs are masked);
 * - after close(), next() resolves null instead of throwing.
 */
import type { RgbImage } from '../vision/image-input.js';

export interface Frame {
  /** width * height * 3 bytes, RGB, row-major */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** ms since the epoch, from the camera's injected clock, when the frame was taken or handed out */
  at: number;
  /** 1 for the source's first frame, then counting up */
  seq: number;
}

export interface FrameSource {
  readonly kind: string;
  /** the next frame, or null when the source has nothing more for now (replay: the current car's frames are used up) */
  next(): Promise<Frame | null>;
  /** a vehicle has arrived: replay sources move on to the next car's frames; live sources ignore it */
  vehicleArrived(): void;
  close(): Promise<void>;
}

export type CameraErrorCode =
  /** bad constructor options (config files are checked by camera-config first) */
  | 'INVALID_OPTIONS'
  /** replay: the folder cannot be read */
  | 'REPLAY_DIR'
  /** replay: the folder holds neither car subfolders nor frames */
  | 'REPLAY_EMPTY'
  /** a file or an HTTP body that does not decode as an image */
  | 'BAD_IMAGE'
  /** snapshot: the body is declared as something else than an image (text, HTML, JSON) */
  | 'NOT_AN_IMAGE'
  /** snapshot: the body is over the size limit */
  | 'TOO_LARGE'
  /** snapshot: the server answered with a non-2xx status (see `status`) */
  | 'HTTP_STATUS'
  /** snapshot: no connection (refused, DNS, reset) */
  | 'UNREACHABLE'
  /** no (complete) answer or frame in time */
  | 'TIMEOUT'
  /** ffmpeg: the program is not there or cannot be run */
  | 'FFMPEG_NOT_FOUND'
  /** ffmpeg: the process failed (exit code, signal, its last error lines) */
  | 'FFMPEG_EXITED';

export class CameraError extends Error {
  readonly code: CameraErrorCode;
  /** HTTP status, for HTTP_STATUS */
  readonly status: number | undefined;

  constructor(code: CameraErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CameraError';
    this.code = code;
    this.status = options.status;
  }
}

/** The frame as the image type the plate reader takes (no copy). */
export function toRgbImage(frame: Frame): RgbImage {
  return { data: frame.rgb, width: frame.width, height: frame.height };
}

/** A URL for messages and logs: the password (if any) replaced by ***. Non-URLs are returned as they are. */
export function maskUrl(text: string): string {
  try {
    const url = new URL(text);
    if (!url.password) return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}
