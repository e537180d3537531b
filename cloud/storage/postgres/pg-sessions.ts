/** PostgreSQL repository of parking sessions: sessions, lane events with their decisions, pending payments and the review queue. */
import type {
  ParkingSession,
  PendingPayment,
  ReviewItem,
  SessionRepository,
  StoredLaneEvent,
} from '../repositories.js';
import { SESSION_COLUMNS, toPending, toReview, toSession } from '../rows.js';
import type { Query, Write } from './pg-connection.js';
import { one } from './pg-connection.js';
import { sessionKeys } from '../../sessions/plate-keys.js';

/** advisory lock class of a plate in a lot (pg-store.ts uses 7311 for its session-level locks) */
const PLATE_LOCK_CLASS = 7312;

export class PgSessions implements SessionRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insert(s: ParkingSession) {
    await this.w(
      `INSERT INTO parking_sessions (id, lot_id, plate, entry_event_id, entry_lane_id, entry_at, entry_confidence, status,
         exit_event_id, exit_at, fee, paid_at, passback_flag) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
    if (s.status !== 'closed') await this.fileKeys(s.id, s.lotId, s.plate);
  }
  /** the candidate keys of an unclosed session (cloud/sessions/plate-keys.ts), in one statement */
  private async fileKeys(sessionId: string, lotId: string, plate: string) {
    await this.w(
      `INSERT INTO session_keys (lot_id, key, session_id) SELECT $1, k, $3 FROM unnest($2::text[]) AS k
       ON CONFLICT DO NOTHING`,
      [lotId, sessionKeys(plate), sessionId],
    );
  }
  /** on every exit: the few sessions the read's keys find, by index, however many cars the lot holds */
  async unclosedByKeys(lotId: string, keys: readonly string[]) {
    if (keys.length === 0) return [];
    const rows = await this.q(
      `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE id IN
         (SELECT session_id FROM session_keys WHERE lot_id = $1 AND key = ANY($2::text[]))
       AND status != 'closed' ORDER BY entry_at, id COLLATE "C"`,
      [lotId, [...keys]],
    );
    return rows.map((r) => toSession(r)!);
  }
  /** after a wait for the lock, PostgreSQL checks `status` again on the row's newest version */
  async lockUnclosed(id: string) {
    return toSession(
      await one(
        this.q(
          `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE id = $1 AND status != 'closed' FOR NO KEY UPDATE`,
          [id],
        ),
      ),
    );
  }
  /**
   * the plate in the lot is locked first (a transaction-scoped advisory lock: no session of it may exist
   * yet), then its unclosed sessions are read with a fresh snapshot and locked (an entry may flag one)
   */
  async unclosedOfPlate(lotId: string, plate: string) {
    await this.q('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PLATE_LOCK_CLASS, `${lotId}/${plate}`]);
    const rows = await this.q(
      `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE plate = $1 AND lot_id = $2 AND status != 'closed'
       ORDER BY entry_at, id COLLATE "C" FOR NO KEY UPDATE`,
      [plate, lotId],
    );
    return rows.map((r) => toSession(r)!);
  }
  async byId(id: string) {
    return toSession(await one(this.q('SELECT * FROM parking_sessions WHERE id = $1 FOR NO KEY UPDATE', [id])));
  }
  async unclosedInLot(lotId: string) {
    const rows = await this.q(
      `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE lot_id = $1 AND status != 'closed' ORDER BY entry_at, id`,
      [lotId],
    );
    return rows.map((r) => toSession(r)!);
  }
  async update(s: ParkingSession) {
    await this.w(
      `UPDATE parking_sessions SET status = $1, exit_event_id = $2, exit_at = $3, fee = $4, paid_at = $5, passback_flag = $6
       WHERE id = $7`,
      [s.status, s.exitEventId, s.exitAt, s.fee, s.paidAt, s.passbackFlag ? 1 : 0, s.id],
    );
    if (s.status === 'closed') await this.w('DELETE FROM session_keys WHERE session_id = $1', [s.id]);
  }
  async ofPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const rows = await this.q(
      'SELECT * FROM parking_sessions WHERE plate = ANY($1::text[]) ORDER BY entry_at DESC, id COLLATE "C"',
      [plates],
    );
    return rows.map((r) => toSession(r)!);
  }
  async eventById(id: string) {
    const r = await one(this.q('SELECT * FROM lane_events WHERE id = $1', [id]));
    if (!r) return null;
    return {
      id: r.id as string,
      laneId: r.lane_id as string,
      kind: r.kind as StoredLaneEvent['kind'],
      plate: r.plate as string,
      confidence: r.confidence as number,
      at: r.at as number,
      receivedAt: r.received_at as number,
      requestHash: r.request_hash as string,
      decision: r.decision as string,
    };
  }
  async insertEvent(e: StoredLaneEvent) {
    await this.w(
      `INSERT INTO lane_events (id, lane_id, kind, plate, confidence, at, received_at, request_hash, decision)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [e.id, e.laneId, e.kind, e.plate, e.confidence, e.at, e.receivedAt, e.requestHash, e.decision],
    );
  }
  async updateEventDecision(id: string, decision: string) {
    await this.w('UPDATE lane_events SET decision = $1 WHERE id = $2', [decision, id]);
  }
  async insertPendingPayment(p: PendingPayment) {
    await this.w(
      `INSERT INTO pending_payments (id, session_id, plate, amount, currency, status, created_at, paid_at, paid_by_account_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [p.id, p.sessionId, p.plate, p.amount, p.currency, p.status, p.createdAt, p.paidAt, p.paidByAccountId],
    );
  }
  async pendingPaymentById(id: string) {
    return toPending(await one(this.q('SELECT * FROM pending_payments WHERE id = $1 FOR NO KEY UPDATE', [id])));
  }
  async pendingPaymentsOfPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const rows = await this.q(
      'SELECT * FROM pending_payments WHERE plate = ANY($1::text[]) ORDER BY created_at DESC, id COLLATE "C"',
      [plates],
    );
    return rows.map((r) => toPending(r)!);
  }
  async pendingPaymentsInLot(lotId: string) {
    const rows = await this.q(
      `SELECT p.* FROM pending_payments p JOIN parking_sessions s ON s.id = p.session_id
       WHERE s.lot_id = $1 AND p.status = 'pending' ORDER BY p.created_at DESC, p.id COLLATE "C"`,
      [lotId],
    );
    return rows.map((r) => toPending(r)!);
  }
  async updatePendingPayment(p: PendingPayment) {
    await this.w('UPDATE pending_payments SET status = $1, paid_at = $2, paid_by_account_id = $3 WHERE id = $4', [
      p.status,
      p.paidAt,
      p.paidByAccountId,
      p.id,
    ]);
  }
  async insertReview(r: ReviewItem) {
    await this.w(
      `INSERT INTO review_items (id, lot_id, lane_id, event_id, plate, confidence, at, reason, candidate_session_ids, status,
         created_at, resolution, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
  }
  async reviewById(id: string) {
    return toReview(await one(this.q('SELECT * FROM review_items WHERE id = $1 FOR NO KEY UPDATE', [id])));
  }
  async reviews(status?: ReviewItem['status']) {
    const rows = status
      ? await this.q('SELECT * FROM review_items WHERE status = $1 ORDER BY created_at, id', [status])
      : await this.q('SELECT * FROM review_items ORDER BY created_at, id');
    return rows.map((r) => toReview(r)!);
  }
  async openReviewCount() {
    return (await one(this.q("SELECT COUNT(*) AS n FROM review_items WHERE status = 'open'")))!.n as number;
  }
  async reviewQueueCounts() {
    const r = (await one(
      this.q("SELECT COUNT(*) AS queued, COUNT(*) FILTER (WHERE status != 'open') AS resolved FROM review_items"),
    ))!;
    return { queued: Number(r.queued), resolved: Number(r.resolved) };
  }
  async updateReview(r: ReviewItem) {
    await this.w('UPDATE review_items SET status = $1, resolution = $2, resolved_at = $3 WHERE id = $4', [
      r.status,
      r.resolution,
      r.resolvedAt,
      r.id,
    ]);
  }
}
