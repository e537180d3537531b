/**
 * The edge <-> cloud contract, version 1, schema first: each message is a
 * TypeBox schema (which is JSON Schema; `proto/v1/schema.json` is generated
 * from these and committed, and a test checks it is current), and the
 * TypeScript types are derived from the schemas, never written twice.
 *
 * Wire: one JSON object per WebSocket text frame, at most 64 KiB (policy
 * snapshots up to 4 MiB; before the gate is admitted, 1 KiB). Every message carries `v: 1`, a `type` and an
 * `id`; a reply carries the `id` of its request in `re`.
 *
 * Handshake: gate -> `hello`; cloud -> `challenge` (a fresh nonce); gate ->
 * `auth` (Ed25519 signature over the nonce); cloud -> `welcome` and a
 * `policy` snapshot. Then gate -> `laneEvent` (each signed), cloud ->
 * `decision`; either side -> `ping`/`pong`; cloud -> `error` for anything
 * refused. One-way, no answer: gate -> `gateStatus` (after admission only).
 */
import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';

export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_POLICY_BYTES = 4 * 1024 * 1024;
/**
 * A frame from a gate before it is admitted, at most: the largest valid `hello`, `auth` or `ping`
 * fits (about 800 bytes at worst); the cloud closes a connection that sends more (1009).
 */
export const MAX_HANDSHAKE_BYTES = 1024;
/** a policy's allowlist entries at most (67 bytes each in JSON: within MAX_POLICY_BYTES) */
export const MAX_ALLOWLIST_ENTRIES = 50_000;
/** a reported trigger -> barrier-open time at most (ms): longer is a lane stuck, not a timing */
export const MAX_TRIGGER_TO_BARRIER_MS = 600_000;
/** a lane event's plate crop (JPEG) at most; base64 it still fits in one message */
export const MAX_CROP_BYTES = 32 * 1024;

const Id = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' });
const GateId = Type.String({ pattern: '^gat_[0-9a-f]{32}$' });
const LaneId = Type.String({ pattern: '^lan_[0-9a-f]{32}$' });
const Base64 = (bytes: number) =>
  Type.String({
    minLength: Math.ceil(bytes / 3) * 4,
    maxLength: Math.ceil(bytes / 3) * 4,
    pattern: '^[A-Za-z0-9+/]+={0,2}$',
  });
/** standard base64 of at most `bytes` bytes */
const Base64Up = (bytes: number) =>
  Type.String({ minLength: 4, maxLength: Math.ceil(bytes / 3) * 4, pattern: '^[A-Za-z0-9+/]+={0,2}$' });
const Hex = (bytes: number) => Type.String({ pattern: `^[0-9a-f]{${bytes * 2}}$` });
const Millis = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000 });
const Envelope = <T extends string>(type: T) => ({
  v: Type.Literal(PROTOCOL_VERSION),
  type: Type.Literal(type),
  id: Id,
});

export const Hello = Type.Object(
  { ...Envelope('hello'), gateId: GateId, software: Type.String({ maxLength: 100 }) },
  { additionalProperties: false },
);

export const Challenge = Type.Object(
  { ...Envelope('challenge'), re: Id, nonce: Base64(32), serverTime: Millis },
  { additionalProperties: false },
);

export const Auth = Type.Object(
  { ...Envelope('auth'), gateId: GateId, nonce: Base64(32), signature: Base64(64) },
  { additionalProperties: false },
);

export const Welcome = Type.Object(
  {
    ...Envelope('welcome'),
    re: Id,
    gateId: GateId,
    lotId: Type.String({ maxLength: 64 }),
    lanes: Type.Array(
      Type.Object({ laneId: LaneId, direction: Type.Union([Type.Literal('entry'), Type.Literal('exit')]) }),
      { maxItems: 64 },
    ),
    /** the highest event counter the cloud has applied from this gate */
    lastCounter: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** What the gate saw; signed by the gate's key (see laneEventSigningBytes). */
export const LaneEventBody = Type.Object(
  {
    gateId: GateId,
    /** strictly increasing per gate; a counter at or below the last applied one is a replay */
    counter: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    eventId: Id,
    laneId: LaneId,
    kind: Type.Union([Type.Literal('entry'), Type.Literal('exit')]),
    plate: Type.String({ minLength: 1, maxLength: 32 }),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    /** SHA-256 of the evidence (the frames the read came from), hex */
    evidenceDigest: Hex(32),
    /** when the vehicle triggered the lane, and when the read was done (gate clock) */
    triggeredAt: Millis,
    at: Millis,
    /** set when the lane already decided offline (the cloud still settles the event) */
    offlineAction: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('hold')])),
    /**
     * the plate as the camera saw it: a JPEG crop of the read's plate box, base64, at most
     * MAX_CROP_BYTES; the signature covers its SHA-256 (see laneEventSigningBytes)
     */
    crop: Type.Optional(Base64Up(MAX_CROP_BYTES)),
  },
  { additionalProperties: false },
);

export const LaneEvent = Type.Object(
  { ...Envelope('laneEvent'), event: LaneEventBody, signature: Base64(64) },
  { additionalProperties: false },
);

export const DecisionBody = Type.Object(
  {
    eventId: Id,
    action: Type.Union([Type.Literal('open'), Type.Literal('hold')]),
    reason: Type.String({ maxLength: 40 }),
    fee: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    currency: Type.Union([Type.String({ pattern: '^[A-Z]{3}$' }), Type.Null()]),
    /** the settlement, when there is one: the driver's receipt reference */
    settlementId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    reviewId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    /** true when this event had been applied before (a resend): nothing was done twice */
    duplicate: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const Decision = Type.Object(
  { ...Envelope('decision'), re: Id, decision: DecisionBody },
  { additionalProperties: false },
);

/**
 * How an allowlist entry is made from a plate (see proto/v1/allowlist-entry.ts): scrypt with these
 * parameters, bounded so that a gate checks one plate in milliseconds and never runs out of memory.
 */
export const AllowlistKdf = Type.Object(
  {
    name: Type.Literal('scrypt'),
    /** scrypt's N, a power of two */
    cost: Type.Union([1024, 2048, 4096, 8192, 16384].map((n) => Type.Literal(n))),
    /** scrypt's r */
    blockSize: Type.Integer({ minimum: 1, maximum: 8 }),
    /** scrypt's p */
    parallelization: Type.Integer({ minimum: 1, maximum: 2 }),
  },
  { additionalProperties: false },
);

export const Policy = Type.Object(
  {
    ...Envelope('policy'),
    issuedAt: Millis,
    /** the lot whose plates these are: the gate's own */
    lotId: Type.String({ minLength: 1, maxLength: 64 }),
    /** random per lot and replaced at every rotation (daily); the gate hashes a read plate with it to look it up */
    salt: Base64(16),
    kdf: AllowlistKdf,
    /**
     * hex scrypt(plate, salt) of the plates this lot needs: linked, in good standing, and parked here
     * now or lately (see docs/offline-allowlist.md); while offline, these open
     */
    allow: Type.Array(Hex(32), { maxItems: MAX_ALLOWLIST_ENTRIES }),
  },
  { additionalProperties: false },
);

export const Ping = Type.Object({ ...Envelope('ping') }, { additionalProperties: false });
export const Pong = Type.Object({ ...Envelope('pong'), re: Id }, { additionalProperties: false });
export const Ack = Type.Object({ ...Envelope('ack'), re: Id }, { additionalProperties: false });

/**
 * What the gate reports about itself, one way (no answer): sent after admission, after every lane
 * outcome and barrier change, and every few seconds. Not signed: the connection is authenticated,
 * and it changes no money (the dashboard shows it).
 */
export const GateStatus = Type.Object(
  {
    ...Envelope('gateStatus'),
    /** when the gate took this status (gate clock) */
    at: Millis,
    /** lane events journaled but not yet answered by the cloud (the offline queue) */
    outboxDepth: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    lanes: Type.Array(
      Type.Object(
        {
          laneId: LaneId,
          /** the lane's state machine (edge/lane/lane.ts) */
          state: Type.Union([
            Type.Literal('idle'),
            Type.Literal('reading'),
            Type.Literal('deciding'),
            Type.Literal('barrier'),
            Type.Literal('occupied'),
          ]),
          /** the barrier as its driver last confirmed it; 'unknown' after a failed or unanswered command */
          barrier: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('unknown')]),
          /**
           * the last car this lane opened the barrier for (its driver confirmed it open): the lane
           * event, when the car triggered the lane (gate clock) and the time from that trigger to
           * the confirmed open. Optional (added in place; gates before it send none): the cloud
           * keeps the first report of each event for the operator console's latency chart
           */
          lastOpened: Type.Optional(
            Type.Object(
              {
                eventId: Id,
                triggeredAt: Millis,
                triggerToBarrierMs: Type.Integer({ minimum: 0, maximum: MAX_TRIGGER_TO_BARRIER_MS }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      { maxItems: 16 },
    ),
  },
  { additionalProperties: false },
);

export const ErrorCode = Type.Union(
  [
    'BAD_MESSAGE',
    'UNSUPPORTED_VERSION',
    'TOO_LARGE',
    'NOT_AUTHENTICATED',
    'UNKNOWN_GATE',
    'REVOKED_GATE',
    'BAD_SIGNATURE',
    'REPLAY',
    /** the event id was applied before with other content (plate, lane, confidence or time) */
    'EVENT_ID_REUSED',
    'STALE',
    'WRONG_LANE',
    'REFUSED',
    'INTERNAL',
  ].map((c) => Type.Literal(c)),
);

export const ErrorMessage = Type.Object(
  {
    ...Envelope('error'),
    re: Type.Union([Id, Type.Null()]),
    code: ErrorCode,
    message: Type.String({ maxLength: 500 }),
    /** false when sending the same request again cannot succeed */
    retryable: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const GateToCloud = Type.Union([Hello, Auth, LaneEvent, GateStatus, Ping, Pong]);
export const CloudToGate = Type.Union([Challenge, Welcome, Decision, Policy, Ping, Pong, Ack, ErrorMessage]);

export type Hello = Static<typeof Hello>;
export type Challenge = Static<typeof Challenge>;
export type Auth = Static<typeof Auth>;
export type Welcome = Static<typeof Welcome>;
export type LaneEventBody = Static<typeof LaneEventBody>;
export type LaneEvent = Static<typeof LaneEvent>;
export type DecisionBody = Static<typeof DecisionBody>;
export type Decision = Static<typeof Decision>;
export type AllowlistKdf = Static<typeof AllowlistKdf>;
export type Policy = Static<typeof Policy>;
export type Ping = Static<typeof Ping>;
export type Pong = Static<typeof Pong>;
export type Ack = Static<typeof Ack>;
export type GateStatus = Static<typeof GateStatus>;
export type ErrorCode = Static<typeof ErrorCode>;
export type ErrorMessage = Static<typeof ErrorMessage>;
export type GateToCloud = Static<typeof GateToCloud>;
export type CloudToGate = Static<typeof CloudToGate>;

/** Every message schema by name, for the generated schema.json. */
export const schemas: Record<string, TSchema> = {
  Hello,
  Challenge,
  Auth,
  Welcome,
  LaneEventBody,
  LaneEvent,
  DecisionBody,
  Decision,
  AllowlistKdf,
  Policy,
  Ping,
  Pong,
  Ack,
  GateStatus,
  ErrorMessage,
};
