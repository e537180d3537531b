/**
 * The neck model file (`models/plate-neck.json`): a trained plate neck
 * (plate-neck.ts) and the plate head trained with it (plate-head.ts), with
 * the card that says how they were made. Written by `platepay train
 * recognizer --train neck`; read by the `neck` recogniser, which patches
 * the neck into the rec model and runs the head over its features.
 */
import type { PlateAlphabet } from './ctc-decoder.js';
import type { PlateHeadFile } from './plate-head.js';
import { PlateHead } from './plate-head.js';
import type { NeckShape } from './plate-neck.js';
import { NECK_SHAPE, PlateNeck } from './plate-neck.js';

const SCHEMA = 'platepay-plate-neck/1';

export interface NeckModelFile {
  schema: typeof SCHEMA;
  shape: NeckShape;
  /** float32 little endian, base64: w1, b1, w2, b2 (batch norms folded in; plate-neck.ts) */
  neck: string;
  head: PlateHeadFile;
  /** how it was made (data, recipe, validation figures): the model card's summary */
  card: Record<string, unknown>;
}

export interface NeckModel {
  neck: PlateNeck;
  head: PlateHead;
}

export function neckModelToFile(model: NeckModel, card: Record<string, unknown>): NeckModelFile {
  const values = model.neck.parameters;
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return { schema: SCHEMA, shape: model.neck.shape, neck: bytes.toString('base64'), head: model.head.toFile({}), card };
}

/** Reads a neck model file, checked against the model's shape and the plate alphabet. */
export function neckModelFromFile(file: unknown, alphabet: PlateAlphabet): NeckModel {
  const f = file as Partial<NeckModelFile>;
  if (typeof f !== 'object' || f === null || f.schema !== SCHEMA) throw new Error(`plate neck: not a ${SCHEMA} file`);
  const shape = f.shape ?? ({} as Partial<NeckShape>);
  if (shape.input !== NECK_SHAPE.input || shape.hidden !== NECK_SHAPE.hidden || shape.features !== NECK_SHAPE.features)
    throw new Error(`plate neck: shape ${JSON.stringify(f.shape)}, the model's is ${JSON.stringify(NECK_SHAPE)}`);
  const bytes = Buffer.from(String(f.neck ?? ''), 'base64');
  const values = new Float32Array(bytes.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
  if (values.some((v) => !Number.isFinite(v))) throw new Error('plate neck: a parameter is not finite');
  return { neck: PlateNeck.fromParameters(values), head: PlateHead.fromFile(f.head, alphabet) };
}
