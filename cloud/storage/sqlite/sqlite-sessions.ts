/** SQLite repository of parking sessions: sessions, lane events with their decisions, pending payments and the review queue. */
import type {
  ParkingSession,
  PendingPayment,
  ReviewItem,
  SessionRepository,
  StoredLaneEvent,
} from '../repositories.js';
import type { Row } from '../rows.js';
import { str, num, SESSION_COLUMNS, sessionOfValues, toSession, toPending, toReview } from '../rows.js';
import { Statements } from './sqlite-statements.js';
import { sessionKeys } from '../../sessions/plate-keys.js';

/**
 * Sessions. Every lane event reads all the unclosed sessions of its lot (to match an exit, to catch a
 * second entry), and fetching them from SQLite each time costs as much as the rest of the event, so
 * the unclosed sessions of the lots read lately are kept in memory, in step with this repository's
 * writes (it is the only writer of parking_sessions). The copy is dropped whenever a unit or a batch
 * rolls back (SqliteStore calls `forgetCached`) and whenever another connection has committed
 * (PRAGMA data_version moved), so it never shows what the database does not hold.
 */
export class SqliteSessions implements SessionRepository {
  /** lot id -> its unclosed sessions, ordered by (entryAt, id) as the query orders them */
  private readonly unclosed = new Map<string, ParkingSession[]>();
  private dataVersion: unknown = null;

  constructor(private readonly db: Statements) {}

  forgetCached(): void {
    this.unclosed.clear();
  }

  async insert(s: ParkingSession) {
    this.db
      .prepare(
        `INSERT INTO parking_sessions (id, lot_id, plate, entry_event_id, entry_lane_id, entry_at, entry_confidence, status,
           exit_event_id, exit_at, fee, paid_at, passback_flag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.lotId,
        s.plate,
        s.entryEventId,
        s.entryLaneId,
        s.entryAt,
        s.entryConfidence,
        s.status,
        s.exitEventId,
        s.exitAt,
        s.fee,
        s.paidAt,
        s.passbackFlag ? 1 : 0,
      );
    if (s.status !== 'closed') this.fileKeys(s.id, s.lotId, s.plate);
    const list = this.unclosed.get(s.lotId);
    if (list && s.status !== 'closed') {
      // after the last session that sorts before it (ids are ASCII: JS and SQLite order them alike)
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = list[mid]!;
        if (m.entryAt < s.entryAt || (m.entryAt === s.entryAt && m.id < s.id)) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, { ...s });
    }
  }
  async byId(id: string) {
    return toSession(this.db.prepare('SELECT * FROM parking_sessions WHERE id = ?').get(id) as Row | undefined);
  }
  /** one writer at a time: the session cannot change before this transaction ends */
  async lockUnclosed(id: string) {
    const s = await this.byId(id);
    return s && s.status !== 'closed' ? s : null;
  }
  /** on every lane event, over every car in the lot: rows come as arrays, the cheapest form to read */
  async unclosedInLot(lotId: string) {
    const version = (this.db.prepareRaw('PRAGMA data_version').get() as unknown[])[0];
    if (version !== this.dataVersion) {
      this.unclosed.clear(); // another connection committed: what we hold may be stale
      this.dataVersion = version;
    }
    let list = this.unclosed.get(lotId);
    if (!list) {
      const rows = this.db
        .prepareRaw(
          `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE lot_id = ? AND status != 'closed' ORDER BY entry_at, id`,
        )
        .all(lotId) as unknown[][];
      list = rows.map(sessionOfValues);
      this.unclosed.set(lotId, list);
    }
    return list.map((s) => ({ ...s }));
  }
  /** the candidate keys of an unclosed session (cloud/sessions/plate-keys.ts) */
  private fileKeys(sessionId: string, lotId: string, plate: string): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO session_keys (lot_id, key, session_id) VALUES (?, ?, ?)');
    for (const key of sessionKeys(plate)) insert.run(lotId, key, sessionId);
  }
  /** on every exit: the few sessions the read's keys find, by index, however many cars the lot holds */
  async unclosedByKeys(lotId: string, keys: readonly string[]) {
    if (keys.length === 0) return [];
    const marks = keys.map(() => '?').join(', ');
    const rows = this.db
      .prepareRaw(
        `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE id IN
           (SELECT session_id FROM session_keys WHERE lot_id = ? AND key IN (${marks}))
         AND status != 'closed' ORDER BY entry_at, id`,
      )
      .all(lotId, ...keys) as unknown[][];
    return rows.map(sessionOfValues);
  }
  async unclosedOfPlate(lotId: string, plate: string) {
    const rows = this.db
      .prepareRaw(
        `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE plate = ? AND lot_id = ? AND status != 'closed' ORDER BY entry_at, id`,
      )
      .all(plate, lotId) as unknown[][];
    return rows.map(sessionOfValues);
  }
  async update(s: ParkingSession) {
    const { changes } = this.db
      .prepare(
        `UPDATE parking_sessions SET status = ?, exit_event_id = ?, exit_at = ?, fee = ?, paid_at = ?, passback_flag = ?
         WHERE id = ?`,
      )
      .run(s.status, s.exitEventId, s.exitAt, s.fee, s.paidAt, s.passbackFlag ? 1 : 0, s.id);
    if (changes === 0) return;
    if (s.status === 'closed') this.db.prepare('DELETE FROM session_keys WHERE session_id = ?').run(s.id);
    const list = this.unclosed.get(s.lotId);
    const i = list ? list.findIndex((x) => x.id === s.id) : -1;
    if (!list || i < 0) {
      this.unclosed.clear(); // not where it should be (or not held): start again from the database
      return;
    }
    if (s.status === 'closed') list.splice(i, 1);
    else
      list[i] = {
        ...list[i]!,
        status: s.status,
        exitEventId: s.exitEventId,
        exitAt: s.exitAt,
        fee: s.fee,
        paidAt: s.paidAt,
        passbackFlag: s.passbackFlag,
      };
  }
  async ofPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const marks = plates.map(() => '?').join(', ');
    return (
      this.db
        .prepare(`SELECT * FROM parking_sessions WHERE plate IN (${marks}) ORDER BY entry_at DESC, id`)
        .all(...plates) as Row[]
    ).map((r) => toSession(r)!);
  }
  async eventById(id: string) {
    const r = this.db.prepare('SELECT * FROM lane_events WHERE id = ?').get(id) as Row | undefined;
    if (!r) return null;
    return {
      id: str(r.id),
      laneId: str(r.lane_id),
      kind: str(r.kind) as StoredLaneEvent['kind'],
      plate: str(r.plate),
      confidence: num(r.confidence),
      at: num(r.at),
      receivedAt: num(r.received_at),
      requestHash: str(r.request_hash),
      decision: str(r.decision),
    };
  }
  async insertEvent(e: StoredLaneEvent) {
    this.db
      .prepare(
        `INSERT INTO lane_events (id, lane_id, kind, plate, confidence, at, received_at, request_hash, decision)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.id, e.laneId, e.kind, e.plate, e.confidence, e.at, e.receivedAt, e.requestHash, e.decision);
  }
  async updateEventDecision(id: string, decision: string) {
    this.db.prepare('UPDATE lane_events SET decision = ? WHERE id = ?').run(decision, id);
  }
  async insertPendingPayment(p: PendingPayment) {
    this.db
      .prepare(
        `INSERT INTO pending_payments (id, session_id, plate, amount, currency, status, created_at, paid_at, paid_by_account_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(p.id, p.sessionId, p.plate, p.amount, p.currency, p.status, p.createdAt, p.paidAt, p.paidByAccountId);
  }
  async pendingPaymentById(id: string) {
    return toPending(this.db.prepare('SELECT * FROM pending_payments WHERE id = ?').get(id) as Row | undefined);
  }
  async pendingPaymentsOfPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const marks = plates.map(() => '?').join(', ');
    return (
      this.db
        .prepare(`SELECT * FROM pending_payments WHERE plate IN (${marks}) ORDER BY created_at DESC, id`)
        .all(...plates) as Row[]
    ).map((r) => toPending(r)!);
  }
  async pendingPaymentsInLot(lotId: string) {
    const rows = this.db
      .prepare(
        `SELECT p.* FROM pending_payments p JOIN parking_sessions s ON s.id = p.session_id
         WHERE s.lot_id = ? AND p.status = 'pending' ORDER BY p.created_at DESC, p.id`,
      )
      .all(lotId) as Row[];
    return rows.map((r) => toPending(r)!);
  }
  async updatePendingPayment(p: PendingPayment) {
    this.db
      .prepare('UPDATE pending_payments SET status = ?, paid_at = ?, paid_by_account_id = ? WHERE id = ?')
      .run(p.status, p.paidAt, p.paidByAccountId, p.id);
  }
  async insertReview(r: ReviewItem) {
    this.db
      .prepare(
        `INSERT INTO review_items (id, lot_id, lane_id, event_id, plate, confidence, at, reason, candidate_session_ids, status,
           created_at, resolution, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.lotId,
        r.laneId,
        r.eventId,
        r.plate,
        r.confidence,
        r.at,
        r.reason,
        JSON.stringify(r.candidateSessionIds),
        r.status,
        r.createdAt,
        r.resolution,
        r.resolvedAt,
      );
  }
  async reviewById(id: string) {
    return toReview(this.db.prepare('SELECT * FROM review_items WHERE id = ?').get(id) as Row | undefined);
  }
  async reviews(status?: ReviewItem['status']) {
    const rows = (
      status
        ? this.db.prepare('SELECT * FROM review_items WHERE status = ? ORDER BY created_at, id').all(status)
        : this.db.prepare('SELECT * FROM review_items ORDER BY created_at, id').all()
    ) as Row[];
    return rows.map((r) => toReview(r)!);
  }
  async openReviewCount() {
    return num((this.db.prepare("SELECT COUNT(*) AS n FROM review_items WHERE status = 'open'").get() as Row).n);
  }
  async reviewQueueCounts() {
    const r = this.db
      .prepare("SELECT COUNT(*) AS queued, COUNT(*) FILTER (WHERE status != 'open') AS resolved FROM review_items")
      .get() as Row;
    return { queued: num(r.queued), resolved: num(r.resolved) };
  }
  async updateReview(r: ReviewItem) {
    this.db
      .prepare('UPDATE review_items SET status = ?, resolution = ?, resolved_at = ? WHERE id = ?')
      .run(r.status, r.resolution, r.resolvedAt, r.id);
  }
}
