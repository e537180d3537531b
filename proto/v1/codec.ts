/**
 * Encoding and checking of v1 messages. Every message from the other side
 * goes through `decodeGateToCloud` or `decodeCloudToGate`: too large, not
 * JSON, an unknown version or type, or not matching its schema is a
 * `ProtoError` naming what is wrong.
 */
import { createHash } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { CloudToGate, GateToCloud, LaneEventBody } from './messages.js';
import {
  CloudToGate as CloudToGateSchema,
  GateToCloud as GateToCloudSchema,
  MAX_MESSAGE_BYTES,
  MAX_POLICY_BYTES,
  PROTOCOL_VERSION,
} from './messages.js';
import type { TObject } from '@sinclair/typebox';

export type ProtoErrorCode = 'TOO_LARGE' | 'BAD_MESSAGE' | 'UNSUPPORTED_VERSION';

export class ProtoError extends Error {
  constructor(
    readonly code: ProtoErrorCode,
    message: string,
    /** the id of the offending message, when it had one */
    readonly re: string | null = null,
  ) {
    super(message);
  }
}

const gateToCloud = TypeCompiler.Compile(GateToCloudSchema);
const cloudToGate = TypeCompiler.Compile(CloudToGateSchema);

/** each member of a union by its `type`, so an error can name the field rather than "no union member fits" */
function byType(members: readonly TObject[]): Map<string, Checker> {
  return new Map(members.map((m) => [String(m.properties.type!.const), TypeCompiler.Compile(m) as Checker]));
}
const gateToCloudTypes = byType(GateToCloudSchema.anyOf as TObject[]);
const cloudToGateTypes = byType(CloudToGateSchema.anyOf as TObject[]);

function parse(data: string | Buffer, limit: number): Record<string, unknown> {
  const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  if (size > limit) throw new ProtoError('TOO_LARGE', `message of ${size} bytes is larger than ${limit}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    throw new ProtoError('BAD_MESSAGE', 'message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtoError('BAD_MESSAGE', 'message is not a JSON object');
  }
  const o = value as Record<string, unknown>;
  const re = typeof o.id === 'string' && o.id.length <= 100 ? o.id : null;
  if (o.v !== PROTOCOL_VERSION) {
    throw new ProtoError(
      'UNSUPPORTED_VERSION',
      `protocol version ${JSON.stringify(o.v)} is not supported (this side speaks ${PROTOCOL_VERSION})`,
      re,
    );
  }
  return o;
}

interface Checker {
  Check(value: unknown): boolean;
  Errors(value: unknown): { First(): { path: string; message: string } | undefined };
}

function check<T>(o: Record<string, unknown>, compiled: Checker, types: Map<string, Checker>): T {
  if (compiled.Check(o)) return o as unknown as T;
  const re = typeof o.id === 'string' && o.id.length <= 100 ? o.id : null;
  const member = typeof o.type === 'string' ? types.get(o.type) : undefined;
  if (!member) throw new ProtoError('BAD_MESSAGE', `unknown message type ${JSON.stringify(o.type)}`, re);
  const first = member.Errors(o).First();
  const where = first ? `${first.path || '/'}: ${first.message}` : 'does not match its schema';
  throw new ProtoError('BAD_MESSAGE', `${String(o.type ?? 'message')} ${where}`, re);
}

export function decodeGateToCloud(data: string | Buffer): GateToCloud {
  return check<GateToCloud>(parse(data, MAX_MESSAGE_BYTES), gateToCloud, gateToCloudTypes);
}

export function decodeCloudToGate(data: string | Buffer): CloudToGate {
  return check<CloudToGate>(parse(data, MAX_POLICY_BYTES), cloudToGate, cloudToGateTypes);
}

export function encodeMessage(message: GateToCloud | CloudToGate): string {
  return JSON.stringify(message);
}

/** SHA-256 (hex) of a lane event's plate crop: what the event signature covers for it. */
export function cropDigest(cropBase64: string): string {
  return createHash('sha256').update(Buffer.from(cropBase64, 'base64')).digest('hex');
}

/**
 * The bytes a gate signs for a lane event: a domain prefix and the fields in a fixed order;
 * with a plate crop, its SHA-256 is appended (an event without one signs as before).
 */
export function laneEventSigningBytes(e: LaneEventBody): Buffer {
  return Buffer.from(
    'platepay-lane-event-v1\n' +
      JSON.stringify([
        e.gateId,
        e.counter,
        e.eventId,
        e.laneId,
        e.kind,
        e.plate,
        e.confidence,
        e.evidenceDigest,
        e.triggeredAt,
        e.at,
        e.offlineAction ?? null,
        ...(e.crop === undefined ? [] : [cropDigest(e.crop)]),
      ]),
    'utf8',
  );
}

/** The bytes a gate signs to prove its key during the handshake. */
export function authSigningBytes(gateId: string, nonce: string): Buffer {
  return Buffer.from(`platepay-gate-auth-v1\n${gateId}\n${nonce}`, 'utf8');
}
