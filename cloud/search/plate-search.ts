/**
 * "Find a car": the stays of a plate across every lot (or one), open and
 * past, newest first, each with what an operator needs to answer a driver:
 * the lot and its time zone, the entry and exit (their lane events, whose
 * plate crops the dashboard serves while it keeps them), the decision, and
 * the receipt (the settlement with its place in the signed ledger).
 *
 * Two ways to match: `exact` (the plate as normalised, see
 * proto/plate-syntax.ts), or `lookalike` (the default): plates that differ
 * only by characters OCR confuses (0/O/D/Q, 1/I, 8/B, 5/S, 2/Z, 6/G), by
 * the same folding the exit matcher uses (proto/look-alikes.ts), through
 * an index on the folded plate (migration 7). Keyset pages: `before` is the
 * `next` of the previous page.
 */
import { foldLookAlikes } from '../../proto/look-alikes.js';
import { normalisePlate } from '../../proto/plate-syntax.js';
import { badRequest, notFound } from '../errors.js';
import { FOLDED_PLATE_SQL } from '../storage/migrations.js';
import type { ReadConnection } from '../storage/read-connection.js';
import type { Row } from '../storage/rows.js';
import { num, numOrNull, str, strOrNull } from '../storage/rows.js';
import type { Tariff } from '../tariffs/tariff.js';

export type PlateMatch = 'exact' | 'lookalike';

export interface SearchQuery {
  plate: string;
  match: PlateMatch;
  lotId: string | null;
  limit: number;
  /** the keyset of the last hit of the previous page */
  before: { entryAt: number; sessionId: string } | null;
}

/** What a lane event decided (the decision as the gate got it). */
export interface HitDecision {
  action: string;
  reason: string;
  fee: number | null;
  currency: string | null;
}

export interface StayHit {
  sessionId: string;
  plate: string;
  /** the plate is the one searched for (not only a look-alike of it) */
  exact: boolean;
  status: string;
  lot: { id: string; name: string; utcOffsetMinutes: number; currency: string };
  entry: { eventId: string; laneId: string; at: number; confidence: number; decision: HitDecision | null };
  exit: { eventId: string; at: number | null; confidence: number | null; decision: HitDecision | null } | null;
  fee: number | null;
  settlement: {
    id: string;
    amount: number;
    currency: string;
    method: string;
    accountId: string | null;
    entryAt: number;
    exitAt: number;
    settledAt: number;
    /** its place in the signed ledger, or null while it waits for one */
    ledgerIndex: number | null;
  } | null;
}

export interface SearchResult {
  plate: string;
  match: PlateMatch;
  hits: StayHit[];
  /** pass as `before` for the next page; null on the last page */
  next: string | null;
}

export const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;
const CURSOR = /^(\d{1,16}):(ses_[0-9a-f]{32})$/;
const LOT_ID = /^lot_[0-9a-f]{32}$/;
const PARAMETERS = ['plate', 'match', 'lotId', 'limit', 'before'];

/** Checks the query string; 400 naming the field (INVALID_PLATE, BAD_REQUEST). */
export function parseSearchQuery(q: Record<string, unknown>): SearchQuery {
  for (const key of Object.keys(q)) {
    if (!PARAMETERS.includes(key)) {
      throw badRequest('BAD_REQUEST', `${key}: not a search parameter (${PARAMETERS.join(', ')})`);
    }
  }
  const raw = q.plate;
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw badRequest('INVALID_PLATE', 'plate: required (the plate to look for, e.g. 粤B12345 or ABC1234)');
  }
  const plate = normalisePlate(raw);
  if (plate === null) {
    throw badRequest(
      'INVALID_PLATE',
      'plate: only letters A-Z, digits and Chinese province characters (spaces and dashes are ignored)',
    );
  }
  const length = [...plate].length;
  if (length < 2 || length > 12) {
    throw badRequest('INVALID_PLATE', `plate: expected 2 to 12 characters, got ${length}`);
  }
  const match = q.match ?? 'lookalike';
  if (match !== 'exact' && match !== 'lookalike') {
    throw badRequest('BAD_REQUEST', 'match: expected "exact" or "lookalike"');
  }
  let lotId: string | null = null;
  if (q.lotId !== undefined && q.lotId !== '') {
    if (typeof q.lotId !== 'string' || !LOT_ID.test(q.lotId)) throw badRequest('BAD_REQUEST', 'lotId: not a lot id');
    lotId = q.lotId;
  }
  let limit = DEFAULT_LIMIT;
  if (q.limit !== undefined) {
    limit = typeof q.limit === 'string' && /^\d{1,4}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw badRequest('BAD_REQUEST', `limit: expected an integer from 1 to ${MAX_LIMIT}`);
    }
  }
  let before: SearchQuery['before'] = null;
  if (q.before !== undefined && q.before !== '') {
    const m = typeof q.before === 'string' ? CURSOR.exec(q.before) : null;
    if (!m) throw badRequest('BAD_REQUEST', 'before: expected the `next` of a previous page');
    before = { entryAt: Number(m[1]), sessionId: m[2]! };
  }
  return { plate, match, lotId, limit, before };
}

/** The sessions that fit, one page (plus one, to tell whether there is a next); only parking_sessions here, so
 *  `plate` is its column and the folded form is the indexed expression. */
function sessionsSql(q: SearchQuery): { sql: string; params: unknown[] } {
  const where = [q.match === 'exact' ? 'plate = ?' : `${FOLDED_PLATE_SQL} = ?`];
  const params: unknown[] = [q.match === 'exact' ? q.plate : foldLookAlikes(q.plate)];
  if (q.lotId) {
    where.push('lot_id = ?');
    params.push(q.lotId);
  }
  if (q.before) {
    where.push('(entry_at < ? OR (entry_at = ? AND id < ?))');
    params.push(q.before.entryAt, q.before.entryAt, q.before.sessionId);
  }
  params.push(q.limit + 1);
  return {
    sql: `SELECT * FROM parking_sessions WHERE ${where.join(' AND ')} ORDER BY entry_at DESC, id DESC LIMIT ?`,
    params,
  };
}

const HITS_SQL = (sessions: string) => `
  SELECT p.id, p.lot_id, p.plate, p.status, p.entry_event_id, p.entry_lane_id, p.entry_at, p.entry_confidence,
         p.exit_event_id, p.exit_at, p.fee,
         l.name AS lot_name, l.tariff,
         en.decision AS entry_decision, ex.decision AS exit_decision, ex.confidence AS exit_confidence,
         s.id AS settlement_id, s.amount, s.currency, s.method, s.account_id, s.entry_at AS settled_entry_at,
         s.exit_at AS settled_exit_at, s.created_at AS settled_at, r.idx AS ledger_index
  FROM (${sessions}) p
  JOIN lots l ON l.id = p.lot_id
  LEFT JOIN lane_events en ON en.id = p.entry_event_id
  LEFT JOIN lane_events ex ON ex.id = p.exit_event_id
  LEFT JOIN settlements s ON s.session_id = p.id
  LEFT JOIN ledger_records r ON r.ref = s.id
  ORDER BY p.entry_at DESC, p.id DESC`;

function decisionOf(text: unknown): HitDecision | null {
  if (typeof text !== 'string') return null;
  try {
    const d = JSON.parse(text) as Partial<Record<string, unknown>>;
    return {
      action: String(d.action),
      reason: String(d.reason),
      fee: typeof d.fee === 'number' ? d.fee : null,
      currency: typeof d.currency === 'string' ? d.currency : null,
    };
  } catch {
    return null;
  }
}

function toHit(r: Row, searched: string): StayHit {
  const tariff = JSON.parse(str(r.tariff)) as Tariff;
  const exitEventId = strOrNull(r.exit_event_id);
  const settlementId = strOrNull(r.settlement_id);
  return {
    sessionId: str(r.id),
    plate: str(r.plate),
    exact: str(r.plate) === searched,
    status: str(r.status),
    lot: {
      id: str(r.lot_id),
      name: str(r.lot_name),
      utcOffsetMinutes: tariff.utcOffsetMinutes,
      currency: tariff.currency,
    },
    entry: {
      eventId: str(r.entry_event_id),
      laneId: str(r.entry_lane_id),
      at: num(r.entry_at),
      confidence: num(r.entry_confidence),
      decision: decisionOf(r.entry_decision),
    },
    exit: exitEventId
      ? {
          eventId: exitEventId,
          at: numOrNull(r.exit_at),
          confidence: numOrNull(r.exit_confidence),
          decision: decisionOf(r.exit_decision),
        }
      : null,
    fee: numOrNull(r.fee),
    settlement: settlementId
      ? {
          id: settlementId,
          amount: num(r.amount),
          currency: str(r.currency),
          method: str(r.method),
          accountId: strOrNull(r.account_id),
          entryAt: num(r.settled_entry_at),
          exitAt: num(r.settled_exit_at),
          settledAt: num(r.settled_at),
          ledgerIndex: numOrNull(r.ledger_index),
        }
      : null,
  };
}

/** One page of the stays that fit the query, newest entry first. */
export async function searchStays(reader: ReadConnection, q: SearchQuery): Promise<SearchResult> {
  if (q.lotId && (await reader.all('SELECT id FROM lots WHERE id = ?', [q.lotId])).length === 0) {
    throw notFound('lot', q.lotId);
  }
  const sessions = sessionsSql(q);
  const rows = await reader.all(HITS_SQL(sessions.sql), sessions.params);
  const hits = rows.slice(0, q.limit).map((r) => toHit(r, q.plate));
  const last = hits[hits.length - 1];
  return {
    plate: q.plate,
    match: q.match,
    hits,
    next: rows.length > q.limit && last ? `${last.entry.at}:${last.sessionId}` : null,
  };
}
