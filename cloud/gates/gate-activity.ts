/**
 * What the gate hub sees, for whoever watches (the operator dashboard):
 * gates connecting and disconnecting, every applied lane event with its
 * decision and the plate crop the gate sent, and the status each connected
 * gate reports (the latest one per gate is kept in memory until the gate
 * disconnects). One feed per store (that is,
 * per cloud), so the watchers and the hub find each other without being
 * wired together; listeners run synchronously and must not throw.
 *
 * This is one process's view: on PostgreSQL, where gates connect to any of
 * several instances, the dashboard reads gate state from the database
 * instead, mirrored there from here (cloud/web/pg-gate-board.ts).
 */
import { EventEmitter } from 'node:events';
import type { GateStatus, LaneEventBody } from '../../proto/v1/messages.js';
import type { Decision } from '../settlement/settler.js';
import type { Store } from '../storage/repositories.js';

export interface GatePresence {
  gateId: string;
  lotId: string;
  at: number;
}

export interface LaneEventSeen {
  gateId: string;
  lotId: string;
  /** the signed event, without its crop */
  event: Omit<LaneEventBody, 'crop'>;
  /** the plate crop (JPEG) the gate sent, checked to be a JPEG; its digest is covered by the event signature */
  crop: Buffer | null;
  decision: Decision;
  /** a resend of an event applied before */
  duplicate: boolean;
  receivedAt: number;
}

/** A gate's own report (`gateStatus`), with only the lanes of its lot. */
export interface GateStatusSeen {
  gateId: string;
  lotId: string;
  /** when the gate took it (gate clock) */
  at: number;
  /** lane events the gate holds that the cloud has not answered yet */
  outboxDepth: number;
  lanes: GateStatus['lanes'];
  /** when the hub received it (cloud clock) */
  receivedAt: number;
}

/** One lane as a gate last reported it. */
export interface LaneStatusSeen {
  gateId: string;
  state: GateStatus['lanes'][number]['state'];
  barrier: GateStatus['lanes'][number]['barrier'];
  at: number;
  receivedAt: number;
}

export interface GateActivityEvents {
  connected: [GatePresence];
  disconnected: [GatePresence];
  laneEvent: [LaneEventSeen];
  status: [GateStatusSeen];
}

export class GateActivity extends EventEmitter<GateActivityEvents> {
  /** admitted gates now connected, by gate id (a gate may hold more than one connection) */
  private readonly online = new Map<string, { lotId: string; since: number; connections: number }>();
  /** the latest status of each connected gate */
  private readonly statuses = new Map<string, GateStatusSeen>();

  gateConnected(p: GatePresence): void {
    const o = this.online.get(p.gateId);
    if (o) o.connections++;
    else this.online.set(p.gateId, { lotId: p.lotId, since: p.at, connections: 1 });
    this.emit('connected', p);
  }

  gateDisconnected(p: GatePresence): void {
    const o = this.online.get(p.gateId);
    if (!o) return;
    if (--o.connections > 0) return;
    this.online.delete(p.gateId);
    this.statuses.delete(p.gateId);
    this.emit('disconnected', p);
  }

  /** since when the gate is connected, or null */
  onlineSince(gateId: string): number | null {
    return this.online.get(gateId)?.since ?? null;
  }

  /** the gates connected now, each with the time of its first connection still open */
  connectedGates(): GatePresence[] {
    return [...this.online].map(([gateId, o]) => ({ gateId, lotId: o.lotId, at: o.since }));
  }

  laneEvent(e: LaneEventSeen): void {
    this.emit('laneEvent', e);
  }

  /** A connected gate's report; one from a gate not connected (any more) is dropped. */
  gateStatus(s: GateStatusSeen): void {
    if (!this.online.has(s.gateId)) return;
    this.statuses.set(s.gateId, s);
    this.emit('status', s);
  }

  /** the latest status the gate reported while connected, or null */
  statusOf(gateId: string): GateStatusSeen | null {
    return this.statuses.get(gateId) ?? null;
  }

  /** the lane as a connected gate last reported it (the most recent report, if more than one gate does) */
  laneStatus(laneId: string): LaneStatusSeen | null {
    return latestLaneStatus(this.statuses.values(), laneId);
  }
}

/** The lane as the most recent of these gate statuses reports it, or null if none names it. */
export function latestLaneStatus(statuses: Iterable<GateStatusSeen>, laneId: string): LaneStatusSeen | null {
  let best: LaneStatusSeen | null = null;
  for (const s of statuses) {
    const lane = s.lanes.find((l) => l.laneId === laneId);
    if (lane && (!best || s.receivedAt >= best.receivedAt))
      best = { gateId: s.gateId, state: lane.state, barrier: lane.barrier, at: s.at, receivedAt: s.receivedAt };
  }
  return best;
}

const feeds = new WeakMap<Store, GateActivity>();

/** The activity feed of the cloud that owns `store`. */
export function gateActivity(store: Store): GateActivity {
  let feed = feeds.get(store);
  if (!feed) {
    feed = new GateActivity();
    feeds.set(store, feed);
  }
  return feed;
}

/** A JPEG starts with SOI and a marker; anything else is not shown as an image. */
export function isJpeg(b: Buffer): boolean {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}
