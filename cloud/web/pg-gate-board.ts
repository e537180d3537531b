/**
 * Gate state on PostgreSQL, for the dashboards of every instance:
 * `platepay_dashboard.gate_presence` (migration 4) holds one row per gate
 * and instance it is connected to, with the gate's last status there.
 *
 * Each instance mirrors its own gate activity into its rows, written behind
 * (write-queue.ts) so a gate is never held up by it: a row when a gate
 * connects, its status when it is worth passing on (StatusFilter), the row
 * deleted when the gate disconnects, all rows deleted when the instance
 * stops. Every HEARTBEAT_MS the instance upserts a row for each gate
 * connected to it with the database's time; a row counts while that time is
 * fresh (FRESH), so the gates of an instance that was killed go offline
 * within FRESH without anyone cleaning up, and a row lost to a failed write
 * comes back at the next heartbeat. Times judged by the database's clock
 * only, so instances' clocks need not agree; rows stale for FORGET are
 * deleted.
 *
 * A gate connected to several instances is online since its earliest
 * connection, and shows its most recent status. `changes()` counts the
 * fresh rows and sums their `rev` (taken from a sequence whenever a row
 * appears or its status or connection time changes, not on a heartbeat),
 * so a dashboard polling it learns of other instances' changes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { GateActivity, GatePresence, GateStatusSeen } from '../gates/gate-activity.js';
import { latestLaneStatus } from '../gates/gate-activity.js';
import type { GateBoard, GateView } from './gate-board.js';
import { StatusFilter } from './gate-board.js';
import type { Log } from './write-queue.js';
import { WriteQueue } from './write-queue.js';

const TABLE = 'platepay_dashboard.gate_presence';
export const HEARTBEAT_MS = 5_000;
/** a row counts while its heartbeat is this recent (three heartbeats) */
const FRESH = "heartbeat > now() - interval '15 seconds'";
/** rows whose heartbeat is older than this (their instance died) are deleted */
const FORGET = "heartbeat < now() - interval '10 minutes'";

/** What the queue writes, in order. */
type Write =
  | { kind: 'connected'; gate: GatePresence }
  | { kind: 'heartbeat' } // every gate connected here then
  | { kind: 'status'; since: number; status: GateStatusSeen }
  | { kind: 'gone'; gateId: string }
  | { kind: 'leave' }; // the instance stops: all its rows

/** A status as stored (the row has the gate and lot). */
interface StoredStatus {
  at: number;
  outboxDepth: number;
  lanes: GateStatusSeen['lanes'];
  receivedAt: number;
}

export class PgGateBoard implements GateBoard {
  /** this instance's name in the table (unique per start: two instances may share a process) */
  readonly instance = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly queue: WriteQueue<Write>;
  private readonly filter = new StatusFilter();
  private readonly timer: NodeJS.Timeout;
  private readonly detach: () => void;
  private heartbeatQueued = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly activity: GateActivity,
    log: Log,
  ) {
    this.queue = new WriteQueue<Write>({
      what: 'gate presence',
      log,
      limit: 1000,
      // one statement each: a failed one is logged and dropped alone (a heartbeat always runs its `finally`)
      batch: 1,
      write: ([w]) => this.write(w!),
    });
    const onConnected = (p: GatePresence) =>
      this.queue.push({ kind: 'connected', gate: { ...p, at: activity.onlineSince(p.gateId) ?? p.at } });
    const onDisconnected = (p: GatePresence) => {
      this.filter.forget(p.gateId);
      this.queue.push({ kind: 'gone', gateId: p.gateId });
    };
    const onStatus = (s: GateStatusSeen) => {
      const since = activity.onlineSince(s.gateId);
      if (since !== null && this.filter.passes(s)) this.queue.push({ kind: 'status', since, status: s });
    };
    activity.on('connected', onConnected);
    activity.on('disconnected', onDisconnected);
    activity.on('status', onStatus);
    this.detach = () => {
      activity.off('connected', onConnected);
      activity.off('disconnected', onDisconnected);
      activity.off('status', onStatus);
    };
    this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  private heartbeat(): void {
    if (this.heartbeatQueued) return; // the database is slow: one waiting heartbeat is enough
    this.heartbeatQueued = this.queue.push({ kind: 'heartbeat' });
  }

  /** Upserts the rows of these gates: a new row takes a new rev; an existing one a fresh heartbeat (and a new rev if its connection time changed). */
  private async here(gates: GatePresence[]): Promise<void> {
    if (gates.length === 0) return;
    await this.pool.query(
      `INSERT INTO ${TABLE} (gate_id, instance, lot_id, since)
         SELECT g, $1, l, s FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(g, l, s)
       ON CONFLICT (gate_id, instance) DO UPDATE SET heartbeat = now(), since = EXCLUDED.since,
         rev = CASE WHEN ${TABLE}.since = EXCLUDED.since THEN ${TABLE}.rev ELSE EXCLUDED.rev END`,
      [this.instance, gates.map((g) => g.gateId), gates.map((g) => g.lotId), gates.map((g) => g.at)],
    );
  }

  private async write(w: Write): Promise<void> {
    switch (w.kind) {
      case 'connected':
        return this.here([w.gate]);
      case 'heartbeat':
        try {
          // the gates connected now (not when it was queued: what came or went since is queued after it)
          await this.here(this.activity.connectedGates());
          await this.pool.query(`DELETE FROM ${TABLE} WHERE ${FORGET}`);
        } finally {
          this.heartbeatQueued = false;
        }
        return;
      case 'status': {
        const s = w.status;
        const stored: StoredStatus = { at: s.at, outboxDepth: s.outboxDepth, lanes: s.lanes, receivedAt: s.receivedAt };
        await this.pool.query(
          `INSERT INTO ${TABLE} (gate_id, instance, lot_id, since, status) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (gate_id, instance) DO UPDATE SET status = EXCLUDED.status, rev = EXCLUDED.rev, heartbeat = now()`,
          [s.gateId, this.instance, s.lotId, w.since, JSON.stringify(stored)],
        );
        return;
      }
      case 'gone':
        await this.pool.query(`DELETE FROM ${TABLE} WHERE gate_id = $1 AND instance = $2`, [w.gateId, this.instance]);
        return;
      case 'leave':
        await this.pool.query(`DELETE FROM ${TABLE} WHERE instance = $1`, [this.instance]);
        return;
    }
  }

  async view(): Promise<GateView> {
    await this.queue.flushed();
    const { rows } = await this.pool.query<{ gate_id: string; lot_id: string; since: number; status: string | null }>(
      `SELECT gate_id, lot_id, since, status FROM ${TABLE} WHERE ${FRESH}`,
    );
    const since = new Map<string, number>();
    const statuses = new Map<string, GateStatusSeen>();
    for (const r of rows) {
      since.set(r.gate_id, Math.min(r.since, since.get(r.gate_id) ?? Infinity));
      if (r.status === null) continue;
      const s = JSON.parse(r.status) as StoredStatus;
      const known = statuses.get(r.gate_id);
      if (!known || s.receivedAt > known.receivedAt)
        statuses.set(r.gate_id, { gateId: r.gate_id, lotId: r.lot_id, ...s });
    }
    return {
      onlineSince: (gateId) => since.get(gateId) ?? null,
      statusOf: (gateId) => statuses.get(gateId) ?? null,
      laneStatus: (laneId) => latestLaneStatus(statuses.values(), laneId),
    };
  }

  async changes(): Promise<string> {
    const { rows } = await this.pool.query<{ n: number; revs: number | null }>(
      `SELECT count(*) AS n, sum(rev) AS revs FROM ${TABLE} WHERE ${FRESH}`,
    );
    return `${rows[0]?.n ?? 0}:${rows[0]?.revs ?? 0}`;
  }

  /** Stops mirroring and deletes this instance's rows, so the other dashboards show its gates gone at once. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.detach();
    this.queue.push({ kind: 'leave' });
    await this.queue.close();
  }
}
