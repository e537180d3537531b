/**
 * Snapshot camera: polls an IP camera's snapshot URL (one JPEG per GET).
 *
 * Guarantees:
 * - each next() fetches a fresh snapshot (Node's fetch keeps no cache) and decodes it; calls
 *   are served one at a time, and a fetch starts at least `intervalMs`
 *   after the previous one started (the wait never exceeds `intervalMs`,
 *   whatever the clock does);
 * - the request, the body and the decoding together take at most
 *   `timeoutMs`: then next() rejects with CameraError TIMEOUT and the
 *   request is aborted, whether the server is silent, slow or trickling;
 * - a non-2xx status is HTTP_STATUS (with `status`), a declared non-image
 *   body (text, HTML, JSON) NOT_AN_IMAGE, an undecodable body BAD_IMAGE, a
 *   body over the image byte limit TOO_LARGE, no connection UNREACHABLE;
 *   every message names the URL (password masked);
 * - credentials in the URL (http://user:pass@cam/snap.jpg) are sent as
 *   HTTP Basic authorization unless `headers` has its own Authorization;
 *   Digest authentication is not supported;
 * - close() aborts a fetch under way; next() then resolves null.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../time/clock.js';
import type { ImageLimits } from '../vision/image-input.js';
import { decodeImage, defaultImageLimits } from '../vision/image-input.js';
import type { Frame, FrameSource } from './frame-source.js';
import { CameraError, maskUrl } from './frame-source.js';

export interface SnapshotCameraOptions {
  /** http(s) URL answering a GET with one JPEG (or PNG) */
  url: string;
  /** least time between the starts of two fetches, ms (default 200) */
  intervalMs?: number;
  /** fetch + body + decode time limit, ms (default 3000) */
  timeoutMs?: number;
  /** extra request headers, e.g. an API token */
  headers?: Record<string, string>;
  limits?: ImageLimits;
}

export const snapshotDefaults = { intervalMs: 200, timeoutMs: 3000 };

/** Content types a camera may label its JPEG with; anything else declared is not an image. */
const BINARY_TYPES = /^(image\/[\w.+-]+|application\/octet-stream|binary\/octet-stream)$/i;

export class SnapshotCamera implements FrameSource {
  readonly kind = 'snapshot';
  /** the URL for messages (password masked) */
  readonly url: string;
  private readonly fetchUrl: string;
  private readonly headers: Record<string, string>;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly limits: ImageLimits;
  private lastStart: number | null = null;
  private seq = 0;
  private closed = false;
  private readonly closing = new AbortController();
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    options: SnapshotCameraOptions,
    private readonly clock: Clock,
  ) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new CameraError('INVALID_OPTIONS', `snapshot camera: ${maskUrl(String(options.url))} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CameraError('INVALID_OPTIONS', `snapshot camera: ${maskUrl(options.url)} is not an http(s) URL`);
    }
    this.url = maskUrl(url.toString());
    this.headers = { ...options.headers };
    const hasAuthorization = Object.keys(this.headers).some((k) => k.toLowerCase() === 'authorization');
    if ((url.username || url.password) && !hasAuthorization) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      this.headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    }
    url.username = '';
    url.password = '';
    this.fetchUrl = url.toString();
    this.intervalMs = checkMs(options.intervalMs ?? snapshotDefaults.intervalMs, 'intervalMs', 0);
    this.timeoutMs = checkMs(options.timeoutMs ?? snapshotDefaults.timeoutMs, 'timeoutMs', 1);
    this.limits = options.limits ?? defaultImageLimits;
  }

  next(): Promise<Frame | null> {
    const run = this.turn.then(() => this.fetchOne());
    this.turn = run.catch(() => undefined);
    return run;
  }

  vehicleArrived(): void {}

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
  }

  private async fetchOne(): Promise<Frame | null> {
    if (this.closed) return null;
    if (this.lastStart !== null) {
      const wait = Math.min(this.intervalMs, Math.max(0, this.lastStart + this.intervalMs - this.clock.now()));
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal: this.closing.signal });
        } catch {
          return null; // closed while waiting
        }
      }
    }
    if (this.closed) return null;
    this.lastStart = this.clock.now();

    const request = new AbortController();
    const onClose = () => request.abort();
    this.closing.signal.addEventListener('abort', onClose);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        request.abort();
        reject(
          new CameraError('TIMEOUT', `snapshot camera ${this.url}: no complete image within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
    });
    try {
      const image = await Promise.race([this.fetchAndDecode(request.signal), timeout]);
      if (this.closed) return null;
      return { rgb: image.data, width: image.width, height: image.height, at: this.clock.now(), seq: ++this.seq };
    } catch (err) {
      if (this.closed) return null;
      throw err;
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', onClose);
    }
  }

  private async fetchAndDecode(signal: AbortSignal) {
    let response: Response;
    try {
      response = await fetch(this.fetchUrl, { headers: this.headers, signal });
    } catch (err) {
      throw this.networkError(err);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      throw new CameraError('HTTP_STATUS', `snapshot camera ${this.url}: HTTP ${status}`, { status: response.status });
    }
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (type && !BINARY_TYPES.test(type)) {
      await response.body?.cancel().catch(() => undefined);
      throw new CameraError(
        'NOT_AN_IMAGE',
        `snapshot camera ${this.url}: HTTP ${response.status} with content-type ${type}, not an image`,
        { status: response.status },
      );
    }
    const body = await this.readBody(response);
    try {
      return await decodeImage(body, this.limits);
    } catch (err) {
      throw new CameraError(
        'BAD_IMAGE',
        `snapshot camera ${this.url}: the body (${body.length} bytes${type ? `, ${type}` : ''}) is not a decodable image: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private async readBody(response: Response): Promise<Uint8Array> {
    const max = this.limits.maxBytes;
    const tooLarge = () =>
      new CameraError('TOO_LARGE', `snapshot camera ${this.url}: the body is over the ${max}-byte image limit`);
    const declared = Number(response.headers.get('content-length'));
    if (declared > max) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return new Uint8Array(0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > max) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof CameraError) throw err;
      throw this.networkError(err);
    }
    return Buffer.concat(chunks, total);
  }

  private networkError(err: unknown): CameraError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    return new CameraError('UNREACHABLE', `snapshot camera ${this.url}: no answer (${reason})`, { cause: err });
  }
}

function checkMs(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min || value > 600_000) {
    throw new CameraError('INVALID_OPTIONS', `snapshot camera: ${name} must be an integer from ${min} to 600000 ms`);
  }
  return value;
}
