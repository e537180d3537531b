/**
 * Where the operator dashboard reads gate state from: which gates are
 * online (since when), the last status each reported (its offline queue),
 * and each lane's state as its gate reports it.
 *
 * - SQLite (one process): `localGateBoard`, straight from this process's
 *   gate activity (gate-activity.ts), where every gate connects.
 * - PostgreSQL (several instances, a gate connects to any of them):
 *   `PgGateBoard` (pg-gate-board.ts), which mirrors each instance's gate
 *   activity into the database, so every instance shows every gate.
 */
import type { GateActivity, GateStatusSeen, LaneStatusSeen } from '../gates/gate-activity.js';

/** The gates' state at one moment. */
export interface GateView {
  /** since when the gate is connected (to any instance), or null when it is offline */
  onlineSince(gateId: string): number | null;
  /** the latest status the gate reported while connected, or null */
  statusOf(gateId: string): GateStatusSeen | null;
  /** the lane as a connected gate last reported it, or null */
  laneStatus(laneId: string): LaneStatusSeen | null;
}

export interface GateBoard {
  /** the gates' state now (including every change this instance saw before the call) */
  view(): Promise<GateView>;
  /** a token that changes when another instance changed the gates' state ('' when none can) */
  changes(): Promise<string>;
  close(): Promise<void>;
}

/** The board of a single process: its gate activity is the whole truth, and it tells its dashboard itself. */
export function localGateBoard(activity: GateActivity): GateBoard {
  return {
    view: async () => activity,
    changes: async () => '',
    close: async () => undefined,
  };
}

/** an unchanged gate status is passed on at most this often (a gate reports every few seconds) */
export const SAME_STATUS_MS = 30_000;

/**
 * Which gate statuses are worth passing on (to the dashboards, to the
 * database): one that differs from the gate's last one passed on, or an
 * unchanged one every SAME_STATUS_MS, so the report time stays fresh
 * without a refresh every few seconds per gate.
 */
export class StatusFilter {
  /** per gate: what its last status passed on said, and when it was received */
  private readonly last = new Map<string, { key: string; at: number }>();

  passes(s: GateStatusSeen): boolean {
    const key = JSON.stringify([s.outboxDepth, s.lanes]);
    const last = this.last.get(s.gateId);
    if (last && last.key === key && s.receivedAt - last.at < SAME_STATUS_MS) return false;
    this.last.set(s.gateId, { key, at: s.receivedAt });
    return true;
  }

  /** the gate is gone: its next status passes whatever it says */
  forget(gateId: string): void {
    this.last.delete(gateId);
  }
}
