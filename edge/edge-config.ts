/**
 * The gate unit's configuration file (`platepay edge --config FILE`), JSON,
 * checked in full before anything starts; a bad value is an error naming
 * its path, e.g. `lanes[0].budgetMs: expected an integer from 200 to 10000`.
 */
import { defaultPlateReaderOptions, defaultRecognizerKind, recognizerKinds } from './vision/plate-reader.js';
import type { RecognizerKind } from './vision/plate-reader.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { BarrierConfig } from './barrier/barrier-config.js';
import { parseBarrierConfig } from './barrier/barrier-config.js';
import type { CameraConfig } from './camera/camera-config.js';
import { parseCameraConfig } from './camera/camera-config.js';
import type { OfflinePolicy } from './lane/lane.js';
import type { Rect } from './vision/geometry.js';
import type { Country } from '../proto/regions.js';
import { allCountries, parseRegions } from '../proto/regions.js';

export interface EdgeLaneConfig {
  laneId: string;
  direction: 'entry' | 'exit';
  camera: CameraConfig;
  barrier: BarrierConfig;
  /** 'trigger': an external trigger (HTTP or a loop detector); 'motion': motion in the ROI */
  presence: 'trigger' | 'motion';
  roi: Rect | null;
  budgetMs: number;
  maxFrames: number;
  offlinePolicy: OfflinePolicy;
  holdMs: number;
}

export interface EdgeConfig {
  gateId: string;
  /** ws(s)://host:port/v1/gates/ws */
  cloudUrl: string;
  keyFile: string;
  journal: string;
  http: { host: string; port: number };
  threads: number;
  /** the countries whose plates this gate reads (default all; e.g. ["CN"] at a Chinese car park, ["LATAM"] expands) */
  regions: Country[];
  /** which recogniser reads plates: `plate` (neck and head trained for plates, default), `head` (only the last layer) or `generic` */
  recognizer: RecognizerKind;
  /** rank a text line judged not a plate loses (the plate-or-not classifier; default 3, 0: off) */
  plateOrNot: number;
  lanes: EdgeLaneConfig[];
}

export class EdgeConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
}

type Obj = Record<string, unknown>;

function object(v: unknown, path: string, allowed: string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EdgeConfigError(`${path}: expected an object`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) throw new EdgeConfigError(`${path}.${k}: unknown setting`);
  }
  return v as Obj;
}

function string(o: Obj, key: string, path: string, pattern?: RegExp, fallback?: string): string {
  const v = o[key] === undefined ? fallback : o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096 || (pattern && !pattern.test(v))) {
    throw new EdgeConfigError(
      `${path}.${key}: expected ${pattern ? `a string like ${pattern.source}` : 'a non-empty string'}`,
    );
  }
  return v;
}

/** `o[key]`, an integer from min to max; a missing key takes `fallback` (none: the key is required); null is no integer. */
function integer(o: Obj, key: string, path: string, min: number, max: number, fallback?: number): number {
  const v = o[key] === undefined ? fallback : o[key];
  if (v === undefined) throw new EdgeConfigError(`${path}.${key}: required, an integer from ${min} to ${max}`);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new EdgeConfigError(`${path}.${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[], fallback: T): T {
  const v = o[key] === undefined ? fallback : o[key];
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw new EdgeConfigError(`${path}.${key}: expected one of ${values.join(', ')}`);
  }
  return v as T;
}

function prefixed<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new EdgeConfigError(`${path}: ${(err as Error).message}`);
  }
}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof EdgeConfigError) throw err;
    throw new EdgeConfigError((err as Error).message);
  }
}

export function parseEdgeConfig(raw: unknown, baseDir: string): EdgeConfig {
  const o = object(raw, 'config', [
    'gateId',
    'cloudUrl',
    'keyFile',
    'journal',
    'http',
    'threads',
    'regions',
    'recognizer',
    'plateOrNot',
    'lanes',
  ]);
  const http = object(o.http === undefined ? {} : o.http, 'config.http', ['host', 'port']);
  if (!Array.isArray(o.lanes) || o.lanes.length === 0 || o.lanes.length > 16) {
    throw new EdgeConfigError('config.lanes: expected 1 to 16 lanes');
  }
  const lanes = o.lanes.map((l, i): EdgeLaneConfig => {
    const path = `lanes[${i}]`;
    const lane = object(l, path, [
      'laneId',
      'direction',
      'camera',
      'barrier',
      'presence',
      'roi',
      'budgetMs',
      'maxFrames',
      'offlinePolicy',
      'holdMs',
    ]);
    let roi: Rect | null = null;
    if (lane.roi !== undefined && lane.roi !== null) {
      const r = object(lane.roi, `${path}.roi`, ['x', 'y', 'width', 'height']);
      roi = {
        x: integer(r, 'x', `${path}.roi`, 0, 20000),
        y: integer(r, 'y', `${path}.roi`, 0, 20000),
        width: integer(r, 'width', `${path}.roi`, 16, 20000),
        height: integer(r, 'height', `${path}.roi`, 16, 20000),
      };
    }
    const camera = wrap(() => parseCameraConfig(lane.camera, `${path}.camera`));
    if (camera.type === 'replay') camera.dir = resolve(baseDir, camera.dir);
    return {
      laneId: string(lane, 'laneId', path, /^lan_[0-9a-f]{32}$/),
      direction: oneOf(lane, 'direction', path, ['entry', 'exit'] as const, 'entry'),
      camera,
      barrier: wrap(() => parseBarrierConfig(lane.barrier, `${path}.barrier`)),
      presence: oneOf(lane, 'presence', path, ['trigger', 'motion'] as const, 'trigger'),
      roi,
      budgetMs: integer(lane, 'budgetMs', path, 200, 10_000, 1500),
      maxFrames: integer(lane, 'maxFrames', path, 1, 30, 4),
      offlinePolicy: oneOf(lane, 'offlinePolicy', path, ['allowlist', 'hold-all', 'open-all'] as const, 'allowlist'),
      holdMs: integer(lane, 'holdMs', path, 0, 600_000, 3000),
    };
  });
  const ids = new Set(lanes.map((l) => l.laneId));
  if (ids.size !== lanes.length) throw new EdgeConfigError('config.lanes: two lanes share a laneId');
  return {
    gateId: string(o, 'gateId', 'config', /^gat_[0-9a-f]{32}$/),
    cloudUrl: string(o, 'cloudUrl', 'config', /^wss?:\/\/\S+$/),
    keyFile: resolve(baseDir, string(o, 'keyFile', 'config')),
    journal: resolve(baseDir, string(o, 'journal', 'config', undefined, 'edge-journal.db')),
    http: {
      host: string(http, 'host', 'config.http', undefined, '127.0.0.1'),
      port: integer(http, 'port', 'config.http', 0, 65535, 9090),
    },
    threads: integer(o, 'threads', 'config', 1, 64, 2),
    regions: o.regions === undefined ? [...allCountries] : prefixed('config.regions', () => parseRegions(o.regions)),
    recognizer: recognizerOf(o.recognizer),
    plateOrNot: plateOrNotOf(o.plateOrNot),
    lanes,
  };
}

export function loadEdgeConfig(path: string): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EdgeConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseEdgeConfig(raw, dirname(resolve(path)));
}

function plateOrNotOf(v: unknown): number {
  if (v === undefined) return defaultPlateReaderOptions.plateOrNotWeight;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 10) {
    throw new EdgeConfigError(`config.plateOrNot: expected a number from 0 (off) to 10, got ${JSON.stringify(v)}`);
  }
  return v;
}

function recognizerOf(v: unknown): RecognizerKind {
  if (v === undefined) return defaultRecognizerKind;
  if (typeof v !== 'string' || !(recognizerKinds as readonly string[]).includes(v)) {
    throw new EdgeConfigError(
      `config.recognizer: expected one of ${recognizerKinds.join(', ')}, got ${JSON.stringify(v)}`,
    );
  }
  return v as RecognizerKind;
}
