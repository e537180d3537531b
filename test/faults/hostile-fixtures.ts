/**
 * What the hostile-input tests share: valid protocol messages and their
 * hostile mutations (fast-check arbitraries), and how a refusal is read.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ProtoErrorCode } from '../../proto/v1/codec.js';
import { ProtoError, decodeGateToCloud } from '../../proto/v1/codec.js';
import type { LaneEventBody } from '../../proto/v1/messages.js';
import { MAX_MESSAGE_BYTES } from '../../proto/v1/messages.js';

/* ------------------------------------------------------------------ frames */

/* ------------------------------------------------------------------ protocol */

const GATE_ID = `gat_${'a'.repeat(32)}`;

const LANE_ID = `lan_${'b'.repeat(32)}`;

export const SIG = 'A'.repeat(86) + '==';

const NONCE = 'B'.repeat(43) + '=';

export const eventBody: LaneEventBody = {
  gateId: GATE_ID,
  counter: 7,
  eventId: 'ev-7',
  laneId: LANE_ID,
  kind: 'exit',
  plate: '皖A12345',
  confidence: 0.97,
  evidenceDigest: 'cd'.repeat(32),
  triggeredAt: 1_790_000_000_000,
  at: 1_790_000_000_250,
};

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** valid gate -> cloud messages, one of each type */
export const validMessages: Record<string, Record<string, Json>> = {
  hello: { v: 1, type: 'hello', id: 'h1', gateId: GATE_ID, software: 'platepay-edge 0.1.0' },
  auth: { v: 1, type: 'auth', id: 'a1', gateId: GATE_ID, nonce: NONCE, signature: SIG },
  laneEvent: { v: 1, type: 'laneEvent', id: 'e1', event: { ...eventBody }, signature: SIG },
  ping: { v: 1, type: 'ping', id: 'p1' },
  pong: { v: 1, type: 'pong', id: 'p2', re: 'c1' },
};

export const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A message the codec must refuse, the code it must refuse it with, and what the message must mention. */
export interface Hostile {
  what: string;
  data: string | Buffer;
  code: ProtoErrorCode;
  says: RegExp;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const simpleKey = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,11}$/);

/** Mutations of valid messages that are never valid: each field dropped, retyped, extra fields, bad versions... */
export const hostileMessage: fc.Arbitrary<Hostile> = fc.constantFrom(...Object.keys(validMessages)).chain((name) => {
  const base = validMessages[name]!;
  const fields = Object.keys(base).map((k) => [k]);
  if (name === 'laneEvent') fields.push(...Object.keys(eventBody).map((k) => ['event', k]));
  const field = fc.constantFrom(...fields);
  const clone = () => structuredClone(base) as Record<string, Json>;
  const parentOf = (o: Record<string, Json>, path: string[]) =>
    (path.length === 2 ? o[path[0]!] : o) as Record<string, Json>;
  const expectFor = (path: string[]): { code: ProtoErrorCode; says: RegExp } =>
    path[0] === 'v' && path.length === 1
      ? { code: 'UNSUPPORTED_VERSION', says: /protocol version .* is not supported/ }
      : path[0] === 'type' && path.length === 1
        ? { code: 'BAD_MESSAGE', says: /unknown message type/ }
        : { code: 'BAD_MESSAGE', says: new RegExp(`/${path.map(escapeRe).join('/')}`) };
  return fc.oneof(
    // a required field missing
    field.map((path): Hostile => {
      const o = clone();
      delete parentOf(o, path)[path[path.length - 1]!];
      return { what: `${name} without ${path.join('.')}`, data: JSON.stringify(o), ...expectFor(path) };
    }),
    // a field of the wrong JSON type
    fc
      .tuple(field, fc.jsonValue({ maxDepth: 3 }))
      .filter(([path, v]) => jsonType(v) !== jsonType(parentOf(base, path)[path[path.length - 1]!]))
      .map(([path, v]): Hostile => {
        const o = clone();
        parentOf(o, path)[path[path.length - 1]!] = v as Json;
        return {
          what: `${name} with ${path.join('.')} = ${JSON.stringify(v).slice(0, 40)}`,
          data: JSON.stringify(o),
          ...expectFor(path),
        };
      }),
    // an extra field, at the top or in the lane event
    fc
      .tuple(simpleKey, fc.jsonValue({ maxDepth: 2 }), fc.boolean())
      .filter(([k]) => !(k in base) && !(k in eventBody) && k !== 'crop')
      .map(([k, v, nested]): Hostile => {
        const o = clone();
        const inEvent = nested && name === 'laneEvent';
        (inEvent ? (o.event as Record<string, Json>) : o)[k] = v as Json;
        return {
          what: `${name} with an extra ${inEvent ? 'event.' : ''}${k}`,
          data: JSON.stringify(o),
          code: 'BAD_MESSAGE',
          says: new RegExp(`${inEvent ? '/event' : ''}/${k}`),
        };
      }),
    // another protocol version
    fc
      .jsonValue({ maxDepth: 2 })
      .filter((v) => v !== 1)
      .map((v): Hostile => ({
        what: `${name} of version ${JSON.stringify(v).slice(0, 40)}`,
        data: JSON.stringify({ ...base, v }),
        code: 'UNSUPPORTED_VERSION',
        says: /protocol version .* is not supported \(this side speaks 1\)/,
      })),
    // a type the gate may not send (including the cloud's own message types)
    fc
      .oneof(
        fc.string(),
        fc.constantFrom('decision', 'policy', 'welcome', 'challenge', 'error', 'ack', 'resolveReview'),
      )
      .filter((t) => !(t in validMessages))
      .map((t): Hostile => ({
        what: `${name} retyped ${JSON.stringify(t)}`,
        data: JSON.stringify({ ...base, type: t }),
        code: 'BAD_MESSAGE',
        says: /unknown message type|does not match|\//,
      })),
    // cut short anywhere
    fc.nat().map((n): Hostile => {
      const text = JSON.stringify(base);
      return {
        what: `${name} cut to ${n % text.length} bytes`,
        data: text.slice(0, n % text.length),
        code: 'BAD_MESSAGE',
        says: /not valid JSON/,
      };
    }),
    // over 64 KiB (whitespace inside the JSON)
    fc.integer({ min: 1, max: 200_000 }).map((extra): Hostile => ({
      what: `${name} padded past 64 KiB`,
      data: JSON.stringify(base).replace('{', '{' + ' '.repeat(MAX_MESSAGE_BYTES + extra)),
      code: 'TOO_LARGE',
      says: /larger than 65536/,
    })),
    // not an object
    fc.constantFrom('array', 'string', 'number', 'null').map((kind): Hostile => ({
      what: `${name} wrapped as ${kind}`,
      data:
        kind === 'array'
          ? JSON.stringify([base])
          : kind === 'string'
            ? JSON.stringify(JSON.stringify(base))
            : kind === 'number'
              ? '1'
              : 'null',
      code: 'BAD_MESSAGE',
      says: /not a JSON object/,
    })),
    // bytes that are not UTF-8 JSON
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes): Hostile => ({
      what: `${name} prefixed with ${bytes.length} random bytes`,
      data: Buffer.concat([Buffer.from([0xff]), Buffer.from(bytes), Buffer.from(JSON.stringify(base))]),
      code: 'BAD_MESSAGE',
      says: /not valid JSON/,
    })),
  );
});

export function refusal(data: string | Buffer): ProtoError {
  try {
    decodeGateToCloud(data);
  } catch (err) {
    assert.ok(err instanceof ProtoError, `not a ProtoError: ${String(err)}`);
    return err;
  }
  assert.fail('the codec accepted it');
}

/* ------------------------------------------------------------------ API bodies */
