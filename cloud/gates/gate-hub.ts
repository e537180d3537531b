/**
 * The cloud end of the gate uplink: a WebSocket endpoint (`/v1/gates/ws`)
 * where gate units authenticate and submit signed lane events.
 *
 * Admission: the gate says `hello`, the hub answers with a fresh random
 * nonce, the gate signs it with its Ed25519 key; only a registered, not
 * revoked gate with a valid signature is admitted (within 10 s, else the
 * socket is closed). Revoking a gate closes its connections at once
 * (`disconnectGate`; on other instances at the next refresh).
 *
 * Lane events: each must carry the admitted gate's id, a valid signature
 * over its fields, a lane of the gate's lot, a time not older than
 * `maxEventAgeMs` nor ahead of the clock, and a counter above the last one
 * applied from the gate. A resend of an event already applied (same event
 * id and content) is answered with the first decision (`duplicate: true`)
 * and changes nothing; the same id with another plate, lane, confidence or
 * time is refused (EVENT_ID_REUSED, as over HTTP) and tells nothing of the
 * first; a lower counter with a new id is a replay and is refused. Every
 * refusal is logged and counted; nothing is settled for it.
 *
 * Status: an admitted gate reports, one way, its outbox depth and each
 * lane's state and barrier state (`gateStatus`, not signed: the connection
 * is authenticated, and it moves no money). Before admission it is refused
 * (NOT_AUTHENTICATED); lanes not of the gate's lot are left out.
 *
 * Offline allowlist: an admitted gate gets its lot's list (offline-allowlist.ts)
 * on admission, every `policyRefreshMs`, and, before the decision, when a
 * car that enters is new to it.
 *
 * Watchers (the operator dashboard) follow admissions, disconnections,
 * applied lane events, with their plate crops, and gate statuses on
 * `gateActivity(store)`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Clock } from '../../time/clock.js';
import { ApiError } from '../errors.js';
import type { CardCharges } from '../settlement/card-charges.js';
import type { ParkingService } from '../sessions/parking-service.js';
import type { Decision } from '../settlement/settler.js';
import type { Gate, Store } from '../storage/repositories.js';
import type {
  CloudToGate,
  ErrorCode,
  GateStatus,
  GateToCloud,
  LaneEvent,
  LaneEventBody,
  Policy,
} from '../../proto/v1/messages.js';
import {
  MAX_HANDSHAKE_BYTES,
  MAX_POLICY_BYTES,
  MAX_TRIGGER_TO_BARRIER_MS,
  PROTOCOL_VERSION,
} from '../../proto/v1/messages.js';
import {
  ProtoError,
  authSigningBytes,
  decodeGateToCloud,
  encodeMessage,
  laneEventSigningBytes,
} from '../../proto/v1/codec.js';
import { verifyGateSignature } from '../../proto/v1/gate-key.js';
import { storageFault } from '../storage/storage-errors.js';
import { normalisePlate } from '../../proto/plate-syntax.js';
import { setFrameLimit } from './frame-limit.js';
import type { AllowlistSnapshot, OfflineAllowlistOptions } from './offline-allowlist.js';
import { OfflineAllowlists, defaultOfflineAllowlistOptions } from './offline-allowlist.js';
import type { GateActivity } from './gate-activity.js';
import { gateActivity, isJpeg } from './gate-activity.js';

export const GATE_WS_PATH = '/v1/gates/ws';
/** an admitted gate's frames at most (the codec refuses a message over MAX_MESSAGE_BYTES with an answer) */
const ADMITTED_FRAME_BYTES = MAX_POLICY_BYTES;
/** the close code of a connection whose gate was revoked */
export const GATE_REVOKED_CLOSE = 4003;

export interface GateHubOptions {
  maxEventAgeMs: number;
  maxClockSkewMs: number;
  authTimeoutMs: number;
  policyRefreshMs: number;
  allowlist: OfflineAllowlistOptions;
}

export const defaultGateHubOptions: GateHubOptions = {
  maxEventAgeMs: 7 * 24 * 3_600_000,
  maxClockSkewMs: 5 * 60_000,
  authTimeoutMs: 10_000,
  policyRefreshMs: 30_000,
  allowlist: defaultOfflineAllowlistOptions,
};

export interface GateHubObserver {
  gateRefused(code: string): void;
  gatesConnected(n: number): void;
}

interface Connection {
  socket: WebSocket;
  gate: Gate | null;
  nonce: string | null;
  /** the lanes of the admitted gate's lot (read at admission, again when a status names another) */
  laneIds: Set<string>;
  /** the foreign lanes last warned about, so a misconfigured gate is not logged every 5 s */
  foreignWarned: string;
  /** per lane, the last opened car's event whose timing was stored (a status repeats it every few seconds) */
  openedStored: Map<string, string>;
  /** lane events of one gate are handled one at a time, in order */
  queue: Promise<unknown>;
}

class Refusal extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

export class GateHub {
  /** before admission a frame may hold the handshake and no more (closed with 1009 past it); see frame-limit.ts */
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_HANDSHAKE_BYTES });
  private readonly connections = new Set<Connection>();
  private readonly timer: NodeJS.Timeout;
  private messageCounter = 0;
  /** who watches the gates (see gate-activity.ts) */
  readonly activity: GateActivity;
  /** each lot's offline allowlist (see offline-allowlist.ts) */
  private readonly allowlists: OfflineAllowlists;

  constructor(
    private readonly store: Store,
    private readonly parking: ParkingService,
    private readonly cardCharges: CardCharges,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    private readonly observer: GateHubObserver,
    private readonly options: GateHubOptions = defaultGateHubOptions,
  ) {
    this.activity = gateActivity(store);
    this.allowlists = new OfflineAllowlists(store, clock, options.allowlist);
    this.timer = setInterval(() => void this.refresh(), options.policyRefreshMs);
    this.timer.unref();
  }

  /** Takes over HTTP upgrades to GATE_WS_PATH; returns false for other paths. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if ((request.url ?? '').split('?')[0] !== GATE_WS_PATH) return false;
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws));
    return true;
  }

  /**
   * Closes every connection of a gate at once (close code 4003): it sends nothing more that is taken
   * (lane events, statuses) and gets nothing more (decisions, policy).
   */
  disconnectGate(gateId: string, reason: string): void {
    for (const c of this.connections) {
      if (c.gate?.id !== gateId || c.socket.readyState !== c.socket.OPEN) continue;
      this.log.warn({ gateId, reason }, 'gate disconnected');
      c.socket.close(GATE_REVOKED_CLOSE, reason);
      this.dismiss(c);
    }
  }

  /** The connection no longer stands for its gate: the watchers see the gate go, now rather than at the close. */
  private dismiss(c: Connection): void {
    const gate = c.gate;
    if (!gate) return;
    c.gate = null;
    this.observer.gatesConnected(this.connectedGates);
    this.activity.gateDisconnected({ gateId: gate.id, lotId: gate.lotId, at: this.clock.now() });
  }

  get connectedGates(): number {
    return [...this.connections].filter((c) => c.gate).length;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.connections) c.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private nextId(): string {
    return `c${++this.messageCounter}`;
  }

  private send(c: Connection, message: CloudToGate): void {
    if (c.socket.readyState === c.socket.OPEN) c.socket.send(encodeMessage(message));
  }

  private refuse(c: Connection, re: string | null, r: Refusal): void {
    this.observer.gateRefused(r.code);
    this.log.warn({ gateId: c.gate?.id ?? null, code: r.code, reason: r.message }, 'gate message refused');
    this.send(c, {
      v: PROTOCOL_VERSION,
      type: 'error',
      id: this.nextId(),
      re,
      code: r.code,
      message: r.message.slice(0, 500),
      retryable: r.retryable,
    });
  }

  private accept(socket: WebSocket): void {
    const c: Connection = {
      socket,
      gate: null,
      nonce: null,
      laneIds: new Set(),
      foreignWarned: '',
      openedStored: new Map(),
      queue: Promise.resolve(),
    };
    this.connections.add(c);
    const authTimer = setTimeout(() => {
      if (!c.gate) socket.close(4001, 'not authenticated in time');
    }, this.options.authTimeoutMs);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (socket.readyState !== socket.OPEN) return; // closing (revoked): nothing more is taken
      const message = this.decode(c, data, isBinary);
      if (!message) return;
      // liveness is answered at once, not behind the lane events before it: with a slow database a
      // ping queued behind them would make the gate drop a connection that works
      if (message.type === 'ping') return this.send(c, { v: 1, type: 'pong', id: this.nextId(), re: message.id });
      c.queue = c.queue
        .then(() => this.onMessage(c, message))
        .catch((err: unknown) => {
          this.log.error({ err }, 'gate message failed');
        });
    });
    socket.on('close', () => {
      clearTimeout(authTimer);
      this.connections.delete(c);
      if (c.gate) this.dismiss(c);
      else this.observer.gatesConnected(this.connectedGates);
    });
    socket.on('error', () => socket.terminate());
  }

  /** The message in a frame, or null when the frame is refused (and the gate told why). */
  private decode(c: Connection, data: Buffer, isBinary: boolean): GateToCloud | null {
    try {
      if (isBinary) throw new ProtoError('BAD_MESSAGE', 'binary frames are not part of the protocol');
      return decodeGateToCloud(data);
    } catch (err) {
      if (err instanceof ProtoError) this.refuse(c, err.re, new Refusal(err.code, err.message));
      else this.log.error({ err }, 'gate message could not be decoded');
      return null;
    }
  }

  private async onMessage(c: Connection, message: GateToCloud): Promise<void> {
    try {
      switch (message.type) {
        case 'hello': {
          c.nonce = randomBytes(32).toString('base64');
          this.send(c, {
            v: 1,
            type: 'challenge',
            id: this.nextId(),
            re: message.id,
            nonce: c.nonce,
            serverTime: this.clock.now(),
          });
          return;
        }
        case 'auth':
          return await this.authenticate(c, message.id, message.gateId, message.nonce, message.signature);
        case 'laneEvent':
          return await this.laneEvent(c, message);
        case 'gateStatus':
          return await this.gateStatus(c, message);
        case 'ping': // answered on arrival (see accept)
        case 'pong':
          return;
      }
    } catch (err) {
      if (err instanceof Refusal) return this.refuse(c, message.id, err);
      if (err instanceof ApiError && err.code === 'EVENT_ID_REUSED')
        return this.refuse(c, message.id, new Refusal('EVENT_ID_REUSED', err.message));
      if (err instanceof ApiError && err.statusCode < 500)
        return this.refuse(c, message.id, new Refusal('REFUSED', err.message));
      const storage = storageFault(err);
      this.log.error({ err }, storage ? 'gate message failed: storage' : 'gate message failed');
      // retryable: the gate keeps the event in its outbox and sends it again
      if (storage) return this.refuse(c, message.id, new Refusal('INTERNAL', storage.message, true));
      return this.refuse(c, message.id, new Refusal('INTERNAL', 'internal error; send it again later', true));
    }
  }

  private async authenticate(
    c: Connection,
    id: string,
    gateId: string,
    nonce: string,
    signature: string,
  ): Promise<void> {
    if (!c.nonce || nonce !== c.nonce)
      throw new Refusal('BAD_SIGNATURE', "auth must answer this connection's challenge");
    c.nonce = null; // one attempt per challenge
    const gate = await this.store.transaction((repos) => repos.lots.gateById(gateId));
    if (!gate) throw new Refusal('UNKNOWN_GATE', `gate ${gateId} is not registered`);
    if (gate.revokedAt !== null) throw new Refusal('REVOKED_GATE', `gate ${gateId} has been revoked`);
    if (!verifyGateSignature(gate.publicKey, authSigningBytes(gateId, nonce), signature)) {
      throw new Refusal('BAD_SIGNATURE', "the challenge signature does not match the gate's key");
    }
    // admitted: frames up to the largest the protocol has; a message over 64 KiB is refused (TOO_LARGE)
    setFrameLimit(c.socket, ADMITTED_FRAME_BYTES);
    c.gate = gate;
    const lanes = await this.store.transaction((repos) => repos.lots.lanesOf(gate.lotId));
    c.laneIds = new Set(lanes.map((l) => l.id));
    this.send(c, {
      v: 1,
      type: 'welcome',
      id: this.nextId(),
      re: id,
      gateId,
      lotId: gate.lotId,
      lanes: lanes.map((l) => ({ laneId: l.id, direction: l.direction })),
      lastCounter: gate.lastCounter,
    });
    this.log.info({ gateId }, 'gate connected');
    this.observer.gatesConnected(this.connectedGates);
    this.activity.gateConnected({ gateId, lotId: gate.lotId, at: this.clock.now() });
    void this.sendPolicy(c, gate.lotId);
  }

  /**
   * One lane event: the signature is checked against the key the gate
   * authenticated with (CPU, outside any transaction); then one transaction
   * re-reads the gate (revoked meanwhile?) and the lane, checks the counter
   * and the event's age, applies the event (or finds its first decision)
   * and raises the gate's counter. A refusal rolls all of it back.
   */
  private async laneEvent(c: Connection, message: LaneEvent): Promise<void> {
    if (!c.gate) throw new Refusal('NOT_AUTHENTICATED', 'authenticate before sending lane events');
    const e = message.event;
    if (e.gateId !== c.gate.id) throw new Refusal('BAD_SIGNATURE', 'the event names another gate');
    const signedBy = c.gate.publicKey;
    if (!verifyGateSignature(signedBy, laneEventSigningBytes(e), message.signature)) {
      throw new Refusal('BAD_SIGNATURE', "the event signature does not match the gate's key");
    }
    const lotId = c.gate.lotId;
    const outcome = await this.store.transaction(async (repos) => {
      const input = { eventId: e.eventId, laneId: e.laneId, plate: e.plate, confidence: e.confidence, at: e.at };
      // the gate, and what the event's decision starts from, in one round trip (PostgreSQL)
      const [gate, context] = await repos.together(() =>
        Promise.all([
          repos.lots.gateById(e.gateId),
          this.parking.eventContext(repos, input, { lotId, direction: e.kind }),
        ]),
      );
      if (!gate || gate.revokedAt !== null) throw new Refusal('REVOKED_GATE', `gate ${e.gateId} has been revoked`);
      if (gate.publicKey !== signedBy) throw new Refusal('BAD_SIGNATURE', "the gate's key has changed");
      const lane = context.lane;
      if (!lane || lane.lotId !== gate.lotId)
        throw new Refusal('WRONG_LANE', `lane ${e.laneId} is not in this gate's lot`);
      if (lane.direction !== e.kind) throw new Refusal('WRONG_LANE', `lane ${e.laneId} is an ${lane.direction} lane`);
      // a resend of an applied event gets its first decision; the same id with other content is refused
      const previous = this.parking.resentDecisionOf(context.stored, input);
      if (e.counter <= gate.lastCounter) {
        if (!previous)
          throw new Refusal(
            'REPLAY',
            `counter ${e.counter} is not above ${gate.lastCounter}, and event ${e.eventId} is new`,
          );
        return { gate, decision: previous, duplicate: true };
      }
      const now = this.clock.now();
      if (e.at > now + this.options.maxClockSkewMs) throw new Refusal('STALE', 'the event is from the future');
      if (e.at < now - this.options.maxEventAgeMs) throw new Refusal('STALE', 'the event is too old to apply');
      const checked = { lane, idIsNew: true as const, lot: context.lot, candidates: context.candidates };
      const decision = previous ?? (await this.parking.applyEvent(repos, input, checked));
      await repos.lots.raiseGateCounter(gate.id, e.counter);
      return { gate, decision, duplicate: previous !== null };
    });
    // a card charge is asked of the provider outside the transaction, within the lane's budget
    const decision = await this.cardCharges.decide(outcome.decision);
    // the car that just entered can leave even if the cloud goes away while it is parked
    if (e.kind === 'entry' && decision.action === 'open' && !outcome.duplicate)
      await this.allowArrival(outcome.gate.lotId, e.plate);
    this.seen(outcome.gate, e, decision, outcome.duplicate);
    this.reply(c, message.id, decision, outcome.duplicate);
  }

  /**
   * A gate's status report: no answer (it is one way). Lanes not of the gate's lot are left out;
   * the lot's lanes are read again first in case one was added since the gate connected.
   */
  private async gateStatus(c: Connection, m: GateStatus): Promise<void> {
    const gate = c.gate;
    if (!gate) throw new Refusal('NOT_AUTHENTICATED', 'authenticate before sending a status');
    if (m.lanes.some((l) => !c.laneIds.has(l.laneId))) {
      try {
        const lanes = await this.store.transaction((repos) => repos.lots.lanesOf(gate.lotId));
        c.laneIds = new Set(lanes.map((l) => l.id));
      } catch (err) {
        this.log.warn({ err, gateId: gate.id }, 'could not re-read the lanes for a gate status; using the known ones');
      }
    }
    const seen = new Set<string>();
    const lanes = m.lanes.filter((l) => c.laneIds.has(l.laneId) && !seen.has(l.laneId) && seen.add(l.laneId));
    const foreign = m.lanes
      .filter((l) => !c.laneIds.has(l.laneId))
      .map((l) => l.laneId)
      .join(',');
    if (foreign !== c.foreignWarned) {
      c.foreignWarned = foreign;
      if (foreign)
        this.log.warn({ gateId: gate.id, lanes: foreign }, "gate status names lanes not of the gate's lot; ignored");
    }
    try {
      this.activity.gateStatus({
        gateId: gate.id,
        lotId: gate.lotId,
        at: m.at,
        outboxDepth: m.outboxDepth,
        lanes,
        receivedAt: this.clock.now(),
      });
    } catch (err) {
      this.log.error({ err }, 'a gate activity watcher failed');
    }
    await this.storeBarrierTimings(c, gate, lanes);
  }

  /**
   * Stores the trigger -> barrier-open time of each lane's last opened car (`lastOpened`), once per
   * event: for the operator console's latency chart. Only for a lane event stored for that lane,
   * triggered at most MAX_TRIGGER_TO_BARRIER_MS before its read (a gate cannot claim another lane's
   * event, or one it never saw, and so keep its real timing out); one not stored yet is tried again
   * with the next status. A failure is logged, never answered (the status is one way).
   */
  private async storeBarrierTimings(c: Connection, gate: Gate, lanes: GateStatus['lanes']): Promise<void> {
    const fresh = lanes.filter((l) => l.lastOpened && c.openedStored.get(l.laneId) !== l.lastOpened.eventId);
    if (!fresh.length) return;
    try {
      const handled = await this.store.transaction(async (repos) => {
        const done: typeof fresh = [];
        for (const l of fresh) {
          const opened = l.lastOpened!;
          const event = await repos.sessions.eventById(opened.eventId);
          if (!event) continue;
          done.push(l);
          if (
            event.laneId !== l.laneId ||
            opened.triggeredAt > event.at ||
            event.at - opened.triggeredAt > MAX_TRIGGER_TO_BARRIER_MS
          ) {
            this.log.warn(
              { gateId: gate.id, laneId: l.laneId, eventId: opened.eventId },
              'a gate status reports a barrier timing for an event of another lane, or with a trigger time that does not fit it: not stored',
            );
            continue;
          }
          await repos.stats.recordBarrierTiming({
            eventId: opened.eventId,
            gateId: gate.id,
            lotId: gate.lotId,
            laneId: l.laneId,
            triggeredAt: opened.triggeredAt,
            triggerToBarrierMs: opened.triggerToBarrierMs,
            receivedAt: this.clock.now(),
          });
        }
        return done;
      });
      for (const l of handled) c.openedStored.set(l.laneId, l.lastOpened!.eventId);
    } catch (err) {
      this.log.warn({ err, gateId: gate.id }, 'could not store the barrier timings of a gate status');
    }
  }

  /** Tells the watchers about an applied (or resent) event; a crop that is not a JPEG is dropped. */
  private seen(gate: Gate, e: LaneEventBody, decision: Decision, duplicate: boolean): void {
    const { crop: cropText, ...event } = e;
    let crop = cropText === undefined ? null : Buffer.from(cropText, 'base64');
    if (crop && !isJpeg(crop)) {
      this.log.warn({ gateId: gate.id, eventId: e.eventId }, 'lane event crop is not a JPEG; dropped');
      crop = null;
    }
    try {
      this.activity.laneEvent({
        gateId: gate.id,
        lotId: gate.lotId,
        event,
        crop,
        decision,
        duplicate,
        receivedAt: this.clock.now(),
      });
    } catch (err) {
      this.log.error({ err }, 'a gate activity watcher failed');
    }
  }

  private reply(c: Connection, re: string, d: Decision, duplicate: boolean): void {
    this.send(c, {
      v: 1,
      type: 'decision',
      id: this.nextId(),
      re,
      decision: {
        eventId: d.eventId,
        action: d.action,
        reason: d.reason,
        fee: d.fee,
        currency: d.currency,
        settlementId: d.settlementId,
        reviewId: d.reviewId,
        duplicate,
      },
    });
  }

  /** The gate's lot's allowlist, sent when ready (a rotation may take a while to hash; nothing waits for it). */
  private async sendPolicy(c: Connection, lotId: string): Promise<void> {
    try {
      const snapshot = await this.allowlists.refresh(lotId);
      if (c.gate) this.send(c, { ...snapshot, id: this.nextId() });
    } catch (err) {
      this.log.error({ err, lotId }, 'policy for a new connection failed');
    }
  }

  /** A car just entered: when its plate is new to the lot's allowlist, the lot's gates get the list before the decision. */
  private async allowArrival(lotId: string, plate: string): Promise<void> {
    const normalised = normalisePlate(plate);
    if (!normalised) return;
    try {
      const snapshot = await this.allowlists.admitArrival(lotId, normalised);
      if (snapshot) this.sendToLot(lotId, snapshot);
    } catch (err) {
      this.log.error({ err, lotId }, 'could not add an arrival to the offline allowlist');
    }
  }

  private sendToLot(lotId: string, snapshot: AllowlistSnapshot): void {
    const policy: Policy = { ...snapshot, id: this.nextId() };
    for (const c of this.connections) if (c.gate?.lotId === lotId) this.send(c, policy);
  }

  /** On the hub's timer: gates revoked meanwhile (on any instance) are cut off, the others get a fresh policy. */
  private async refresh(): Promise<void> {
    await this.closeRevoked();
    await this.pushPolicyToAll();
  }

  private async closeRevoked(): Promise<void> {
    const ids = new Set([...this.connections].flatMap((c) => (c.gate ? [c.gate.id] : [])));
    if (ids.size === 0) return;
    try {
      const revoked = await this.store.transaction(async (repos) => {
        const out: string[] = [];
        for (const id of ids) if ((await repos.lots.gateById(id))?.revokedAt !== null) out.push(id);
        return out;
      });
      for (const id of revoked) this.disconnectGate(id, 'the gate has been revoked');
    } catch (err) {
      this.log.error({ err }, 'could not check the connected gates for revocation');
    }
  }

  /** Every admitted gate gets its lot's allowlist, read anew. */
  async pushPolicyToAll(): Promise<void> {
    const lots = new Set([...this.connections].flatMap((c) => (c.gate ? [c.gate.lotId] : [])));
    for (const lotId of lots) {
      try {
        this.sendToLot(lotId, await this.allowlists.refresh(lotId));
      } catch (err) {
        this.log.error({ err, lotId }, 'policy push failed');
      }
    }
  }
}
