/**
 * The reads operators look at: every lane event a gate sent, with its
 * decision and the plate crop (JPEG) when the gate sent one.
 *
 * `LaneReadLog` is what the dashboard needs of them; two implementations:
 * - `SqliteLaneReadLog` (here), next to a SQLite database: its own file
 *   (`<database>.evidence`; in memory for a ":memory:" database). Evidence
 *   images are bulky and not money, so they stay out of the settlement
 *   database's transactions (a second writer on that file would wait on
 *   its group commit, and better-sqlite3 waits synchronously).
 * - `PgLaneReadLog` (pg-lane-read-log.ts) on PostgreSQL: a table in the
 *   service database, shared by every instance.
 *
 * Both write behind (write-queue.ts): `add` never waits and never throws,
 * so a gate decision is never slowed or failed by its evidence; reads wait
 * for the writes queued before them, so an instance always shows its own
 * gates' reads. Rows older than `keepDays` are pruned as new ones arrive.
 */
import Database from 'better-sqlite3';
import type { LaneEventSeen } from '../gates/gate-activity.js';
import type { Log } from './write-queue.js';
import { WriteQueue } from './write-queue.js';

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

export interface LaneReadLog {
  /** Queues the read of a lane event for writing; never waits, never throws (failures are logged). */
  add(e: LaneEventSeen): void;
  /** each lane's latest reads, newest first (lanes without reads are left out) */
  recent(laneIds: string[], perLane: number): Promise<Map<string, LaneRead[]>>;
  /** the reads of these events (those that came through a gate) */
  ofEvents(eventIds: string[]): Promise<Map<string, LaneRead>>;
  crop(eventId: string): Promise<Buffer | null>;
  /** a token that changes when another instance adds reads ('' when none can) */
  changes(): Promise<string>;
  /** Writes what is queued and closes. */
  close(): Promise<void>;
}

export interface LaneReadLogOptions {
  log: Log;
  /** reads older than this are pruned; default 30 */
  keepDays?: number;
}

/** reads waiting to be written at most (crops are at most 32 KiB each) */
export const READ_QUEUE_LIMIT = 1000;
export const READ_BATCH = 100;
/** old reads are pruned once every this many reads written */
export const PRUNE_EVERY = 200;

/** The columns of a read, in table order (the same on both backends). */
export interface ReadRow {
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
  crop: Buffer | null;
  received_at: number;
}

export const READ_COLUMNS = [
  'event_id',
  'gate_id',
  'lot_id',
  'lane_id',
  'kind',
  'plate',
  'confidence',
  'at',
  'action',
  'reason',
  'fee',
  'currency',
  'review_id',
  'crop',
  'received_at',
] as const satisfies ReadonlyArray<keyof ReadRow>;

export function toReadRow(e: LaneEventSeen): ReadRow {
  const d = e.decision;
  return {
    event_id: e.event.eventId,
    gate_id: e.gateId,
    lot_id: e.lotId,
    lane_id: e.event.laneId,
    kind: e.event.kind,
    plate: e.event.plate,
    confidence: e.event.confidence,
    at: e.event.at,
    action: d.action,
    reason: d.reason,
    fee: d.fee,
    currency: d.currency,
    review_id: d.reviewId,
    crop: e.crop,
    received_at: e.receivedAt,
  };
}

/** A read as selected (SELECTED_COLUMNS): the crop replaced by whether there is one (SQLite 0/1, PostgreSQL a boolean). */
export type SelectedRow = Omit<ReadRow, 'crop'> & { has_crop: number | boolean };

export const SELECTED_COLUMNS =
  'event_id, gate_id, lot_id, lane_id, kind, plate, confidence, at, action, reason, fee, currency, review_id, ' +
  '(crop IS NOT NULL) AS has_crop, received_at';

export const toRead = (r: SelectedRow): LaneRead => ({
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
  hasCrop: Boolean(r.has_crop),
  receivedAt: r.received_at,
});

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

/** The read log in its own SQLite file (see the top of this file). */
export class SqliteLaneReadLog implements LaneReadLog {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly queue: WriteQueue<ReadRow>;
  private readonly keepDays: number;
  /** reads written since the last pruning */
  private sincePrune = 0;

  constructor(path: string, options: LaneReadLogOptions) {
    this.keepDays = options.keepDays ?? 30;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.stmt = {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO lane_reads (${READ_COLUMNS.join(', ')}) VALUES (${READ_COLUMNS.map(() => '?').join(', ')})`,
      ),
      recent: this.db.prepare(
        `SELECT ${SELECTED_COLUMNS} FROM lane_reads WHERE lane_id = ? ORDER BY received_at DESC LIMIT ?`,
      ),
      byEvents: this.db.prepare(
        `SELECT ${SELECTED_COLUMNS} FROM lane_reads WHERE event_id IN (SELECT value FROM json_each(?))`,
      ),
      crop: this.db.prepare('SELECT crop FROM lane_reads WHERE event_id = ?'),
      prune: this.db.prepare('DELETE FROM lane_reads WHERE received_at < ?'),
    };
    const insertAll = this.db.transaction((rows: ReadRow[]) => {
      for (const r of rows) this.stmt.insert.run(...READ_COLUMNS.map((c) => r[c]));
    });
    this.queue = new WriteQueue<ReadRow>({
      what: 'lane reads',
      log: options.log,
      limit: READ_QUEUE_LIMIT,
      batch: READ_BATCH,
      write: (rows) => {
        insertAll(rows);
        this.sincePrune += rows.length;
        if (this.sincePrune >= PRUNE_EVERY) {
          this.sincePrune = 0;
          this.stmt.prune.run(rows[rows.length - 1]!.received_at - this.keepDays * 86_400_000);
        }
      },
    });
  }

  /** The evidence file for a SQLite service database path. */
  static pathFor(database: string): string {
    if (database === ':memory:' || database === '') return ':memory:';
    return `${database}.evidence`;
  }

  add(e: LaneEventSeen): void {
    this.queue.push(toReadRow(e));
  }

  async recent(laneIds: string[], perLane: number): Promise<Map<string, LaneRead[]>> {
    await this.queue.flushed();
    const out = new Map<string, LaneRead[]>();
    for (const laneId of laneIds) {
      const rows = this.stmt.recent.all(laneId, perLane) as SelectedRow[];
      if (rows.length) out.set(laneId, rows.map(toRead));
    }
    return out;
  }

  async ofEvents(eventIds: string[]): Promise<Map<string, LaneRead>> {
    if (eventIds.length === 0) return new Map();
    await this.queue.flushed();
    const rows = this.stmt.byEvents.all(JSON.stringify(eventIds)) as SelectedRow[];
    return new Map(rows.map((r) => [r.event_id, toRead(r)]));
  }

  async crop(eventId: string): Promise<Buffer | null> {
    await this.queue.flushed();
    const r = this.stmt.crop.get(eventId) as { crop: Buffer | null } | undefined;
    return r?.crop ?? null;
  }

  /** only this process writes the file, and it tells its dashboard itself */
  async changes(): Promise<string> {
    return '';
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.db.close();
  }
}
