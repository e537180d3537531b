/**
 * The reads operators look at: every lane event a gate sent, with its
 * decision and the plate crop (JPEG) when the gate sent one. Kept in its
 * own SQLite file next to the service database (`<database>.evidence`;
 * in memory for a ":memory:" database): evidence images are bulky and not
 * money, so they stay out of the settlement database's transactions (a
 * second writer on that file would wait on its group commit, and
 * better-sqlite3 waits synchronously). Rows older than `keepDays` are
 * pruned as new ones arrive.
 */
import Database from 'better-sqlite3';
import type { LaneEventSeen } from '../gates/gate-activity.js';

export interface LaneRead {
  eventId: string;
  gateId: string;
  lotId: string;
  laneId: string;
  kind: 'entry' | 'exit';
  plate: string;
  confidence: number;
  at: number;
  action: 'open' | 'hold';
  reason: string;
  fee: number | null;
  currency: string | null;
  reviewId: string | null;
  hasCrop: boolean;
  receivedAt: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS lane_reads (
    event_id TEXT PRIMARY KEY,
    gate_id TEXT NOT NULL,
    lot_id TEXT NOT NULL,
    lane_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    plate TEXT NOT NULL,
    confidence REAL NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    fee INTEGER,
    currency TEXT,
    review_id TEXT,
    crop BLOB,
    received_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS lane_reads_lane ON lane_reads(lane_id, received_at);
  CREATE INDEX IF NOT EXISTS lane_reads_received ON lane_reads(received_at);
`;

const COLUMNS =
  'event_id, gate_id, lot_id, lane_id, kind, plate, confidence, at, action, reason, fee, currency, review_id, crop IS NOT NULL AS has_crop, received_at';

export class LaneReadLog {
  private readonly db: Database.Database;
  private readonly stmt;
  private inserts = 0;

  constructor(
    path: string,
    private readonly keepDays = 30,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.stmt = {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO lane_reads (event_id, gate_id, lot_id, lane_id, kind, plate, confidence, at, action, reason,
           fee, currency, review_id, crop, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      recent: this.db.prepare(`SELECT ${COLUMNS} FROM lane_reads WHERE lane_id = ? ORDER BY received_at DESC LIMIT ?`),
      byEvents: this.db.prepare(`SELECT ${COLUMNS} FROM lane_reads WHERE event_id IN (SELECT value FROM json_each(?))`),
      crop: this.db.prepare('SELECT crop FROM lane_reads WHERE event_id = ?'),
      prune: this.db.prepare('DELETE FROM lane_reads WHERE received_at < ?'),
    };
  }

  /** The evidence file for a service database path. */
  static pathFor(database: string): string {
    // on PostgreSQL (several instances, no local database file) each instance keeps its reads in memory
    if (database === ':memory:' || database === '' || /^postgres(ql)?:\/\//i.test(database)) return ':memory:';
    return `${database}.evidence`;
  }

  add(e: LaneEventSeen): void {
    const d = e.decision;
    this.stmt.insert.run(
      e.event.eventId,
      e.gateId,
      e.lotId,
      e.event.laneId,
      e.event.kind,
      e.event.plate,
      e.event.confidence,
      e.event.at,
      d.action,
      d.reason,
      d.fee,
      d.currency,
      d.reviewId,
      e.crop,
      e.receivedAt,
    );
    if (++this.inserts % 200 === 0) this.stmt.prune.run(e.receivedAt - this.keepDays * 86_400_000);
  }

  /** the lane's latest reads, newest first */
  recent(laneId: string, limit: number): LaneRead[] {
    return (this.stmt.recent.all(laneId, limit) as Row[]).map(toRead);
  }

  /** the reads of these events (those that came through a gate) */
  ofEvents(eventIds: string[]): Map<string, LaneRead> {
    if (eventIds.length === 0) return new Map();
    const rows = this.stmt.byEvents.all(JSON.stringify(eventIds)) as Row[];
    return new Map(rows.map((r) => [r.event_id, toRead(r)]));
  }

  crop(eventId: string): Buffer | null {
    const r = this.stmt.crop.get(eventId) as { crop: Buffer | null } | undefined;
    return r?.crop ?? null;
  }

  close(): void {
    this.db.close();
  }
}

interface Row {
  event_id: string;
  gate_id: string;
  lot_id: string;
  lane_id: string;
  kind: 'entry' | 'exit';
  plate: string;
  confidence: number;
  at: number;
  action: 'open' | 'hold';
  reason: string;
  fee: number | null;
  currency: string | null;
  review_id: string | null;
  has_crop: number;
  received_at: number;
}

const toRead = (r: Row): LaneRead => ({
  eventId: r.event_id,
  gateId: r.gate_id,
  lotId: r.lot_id,
  laneId: r.lane_id,
  kind: r.kind,
  plate: r.plate,
  confidence: r.confidence,
  at: r.at,
  action: r.action,
  reason: r.reason,
  fee: r.fee,
  currency: r.currency,
  reviewId: r.review_id,
  hasCrop: r.has_crop === 1,
  receivedAt: r.received_at,
});
