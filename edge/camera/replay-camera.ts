/**
 * Replay camera: frames from an image folder, for demos, tests and benches.
 *
 * Layout: `dir` holds one subfolder per car (taken in name order, numbers
 * compared as numbers: car-2 before car-10), each with that car's frames
 * (.jpg, .jpeg, .png, in the same order); a folder without subfolders is a
 * single car. Hidden entries and other files are ignored.
 *
 * Guarantees:
 * - no car is current until the first vehicleArrived(); each call moves to
 *   the next car; next() then returns that car's frames one by one, then
 *   null (also before the first arrival and after the last car, unless
 *   `loop` starts again with the first car);
 * - a file that does not decode rejects that next() with a CameraError
 *   (BAD_IMAGE) naming the file; the following next() goes on with the
 *   car's next frame;
 * - with `preload` (default), the current car's remaining frames and the
 *   next car's frames are decoded ahead, in order, one at a time, so decode
 *   time is mostly off the gate's latency; at most those two cars are held
 *   in memory.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Clock } from '../../time/clock.js';
import type { ImageLimits, RgbImage } from '../vision/image-input.js';
import { decodeImage, defaultImageLimits } from '../vision/image-input.js';
import type { Frame, FrameSource } from './frame-source.js';
import { CameraError } from './frame-source.js';

export interface ReplayCameraOptions {
  /** after the last car, start again with the first (default false: null for ever) */
  loop?: boolean;
  /** decode the current and the next car's frames ahead (default true) */
  preload?: boolean;
  limits?: ImageLimits;
}

/** A frame decoding ahead; `dropped` when its car is no longer current or next. */
interface Pending {
  image: Promise<RgbImage>;
  token: { dropped: boolean };
}

const DROPPED = new Error('replay frame dropped from the preload queue');
const FRAME_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);
const byName = new Intl.Collator('en', { numeric: true }).compare;

export class ReplayCamera implements FrameSource {
  readonly kind = 'replay';
  private readonly loop: boolean;
  private readonly preload: boolean;
  private readonly limits: ImageLimits;
  private scanning: Promise<string[][]> | null = null;
  /** -1 before the first vehicle; may pass the last car (then there is no current car unless looping) */
  private carIndex = -1;
  private frameIndex = 0;
  private seq = 0;
  private closed = false;
  /** decoded (or decoding) frames by file, for the current and the next car only */
  private readonly decoded = new Map<string, Pending>();
  /** the preload queue: one decode at a time, in the order frames are wanted */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly clock: Clock,
    options: ReplayCameraOptions = {},
  ) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new CameraError('INVALID_OPTIONS', 'replay camera: dir must be a non-empty folder path');
    }
    this.loop = options.loop ?? false;
    this.preload = options.preload ?? true;
    this.limits = options.limits ?? defaultImageLimits;
    if (this.preload) void this.scan().then((cars) => this.prefetch(cars), ignore);
  }

  vehicleArrived(): void {
    if (this.closed) return;
    this.carIndex++;
    this.frameIndex = 0;
    if (this.preload) void this.scan().then((cars) => this.prefetch(cars), ignore);
  }

  async next(): Promise<Frame | null> {
    if (this.closed) return null;
    const cars = await this.scan();
    if (this.closed) return null;
    const car = this.currentCar(cars);
    if (car === null || this.frameIndex >= cars[car]!.length) return null;
    const file = cars[car]![this.frameIndex++]!;
    const pending = this.decoded.get(file)?.image ?? this.decode(file);
    this.decoded.delete(file); // handed out: a later visit (loop) decodes it again
    const image = await pending;
    if (this.closed) return null;
    return { rgb: image.data, width: image.width, height: image.height, at: this.clock.now(), seq: ++this.seq };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.decoded.values()) pending.token.dropped = true;
    this.decoded.clear();
  }

  /** The folder's cars, each a list of frame paths; read once (again after a failure). */
  private scan(): Promise<string[][]> {
    this.scanning ??= listCars(this.dir).catch((err: unknown) => {
      this.scanning = null;
      throw err;
    });
    return this.scanning;
  }

  private currentCar(cars: string[][]): number | null {
    if (this.carIndex < 0 || cars.length === 0) return null;
    if (this.carIndex < cars.length) return this.carIndex;
    return this.loop ? this.carIndex % cars.length : null;
  }

  private decode(file: string): Promise<RgbImage> {
    return decodeImage(file, this.limits).catch((err: unknown) => {
      throw new CameraError('BAD_IMAGE', `replay camera: ${(err as Error).message}`, { cause: err });
    });
  }

  /** Queues the decoding of the current car's remaining frames and the next car's; forgets any other car. */
  private prefetch(cars: string[][]): void {
    if (this.closed || cars.length === 0) return;
    const wanted: string[] = [];
    const current = this.currentCar(cars);
    if (current !== null) wanted.push(...cars[current]!.slice(this.frameIndex));
    const upcoming = this.carIndex + 1;
    const nextCar = upcoming < cars.length ? upcoming : this.loop ? upcoming % cars.length : null;
    if (nextCar !== null && nextCar !== current) wanted.push(...cars[nextCar]!);
    const keep = new Set(wanted);
    for (const [file, pending] of this.decoded) {
      if (keep.has(file)) continue;
      pending.token.dropped = true; // not decoded if still queued
      this.decoded.delete(file);
    }
    for (const file of wanted) {
      if (this.decoded.has(file)) continue;
      const token = { dropped: false };
      const image = this.queue.then(() => (token.dropped ? Promise.reject(DROPPED) : this.decode(file)));
      image.catch(ignore); // reported by the next() that takes this frame
      this.decoded.set(file, { image, token });
      this.queue = image.then(ignore, ignore);
    }
  }
}

/** Cars in a replay folder: its subfolders' frames, or the folder's own frames as one car. */
async function listCars(dir: string): Promise<string[][]> {
  const entries = await listEntries(dir);
  const folders = entries.filter((e) => e.isDir).map((e) => e.path);
  if (folders.length > 0) {
    const cars: string[][] = [];
    for (const folder of folders) cars.push((await listEntries(folder)).filter(isFrame).map((e) => e.path));
    return cars;
  }
  const frames = entries.filter(isFrame).map((e) => e.path);
  if (frames.length === 0) {
    throw new CameraError('REPLAY_EMPTY', `replay folder ${dir} has no car subfolders and no .jpg/.png frames`);
  }
  return [frames];
}

interface Entry {
  name: string;
  path: string;
  isDir: boolean;
}

async function listEntries(dir: string): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new CameraError('REPLAY_DIR', `replay folder ${dir} cannot be read (${(err as Error).message})`, {
      cause: err,
    });
  }
  const entries: Entry[] = [];
  for (const name of names.filter((n) => !n.startsWith('.')).sort(byName)) {
    const path = join(dir, name);
    try {
      const info = await stat(path); // follows symbolic links
      if (info.isDirectory() || info.isFile()) entries.push({ name, path, isDir: info.isDirectory() });
    } catch {
      // a dangling link or an entry removed meanwhile: not a frame
    }
  }
  return entries;
}

function isFrame(entry: Entry): boolean {
  return !entry.isDir && FRAME_EXTENSIONS.has(extname(entry.name).toLowerCase());
}

function ignore(): void {}
