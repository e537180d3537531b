/**
 * The settlements of a lot over a period, read for the accounting export:
 * the period's days are the lot's local days (its tariff's
 * `utcOffsetMinutes`); settlements are taken by when they were settled, in
 * that order (then by id), in keyset pages from the read connection, so
 * that an export of any length holds one page at a time and each page is a
 * short statement (SQLite is synchronous: a long one would hold the event
 * loop). A settlement committed while the export runs is in it when it
 * sorts after the page being read; none is ever written twice.
 */
import { badRequest } from '../errors.js';
import type { ReadConnection } from '../storage/read-connection.js';
import type { Row } from '../storage/rows.js';
import { num, numOrNull, str, strOrNull } from '../storage/rows.js';
import type { ExportedSettlement } from './settlement-csv.js';

/** A period of whole local days, `from` to `to` inclusive, and its bounds in ms since the epoch. */
export interface ExportPeriod {
  from: string;
  to: string;
  /** the first local midnight, inclusive */
  startMs: number;
  /** the local midnight after `to`, exclusive */
  endMs: number;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** "2026-03-02" -> ms of that day's 00:00 UTC, or null for anything that is not a real day from 2000 to 2099 */
function utcMidnight(day: string): number | null {
  const m = DAY.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 2000 || y > 2099) return null;
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? ms : null;
}

/** Checks `from` and `to` (YYYY-MM-DD, lot-local days); 400 INVALID_PERIOD naming what is wrong. */
export function parsePeriod(from: unknown, to: unknown, utcOffsetMinutes: number): ExportPeriod {
  const bounds: number[] = [];
  for (const [field, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (value === undefined || value === '')
      throw badRequest('INVALID_PERIOD', `${field}: required (a day, YYYY-MM-DD)`);
    const ms = typeof value === 'string' ? utcMidnight(value) : null;
    if (ms === null) {
      throw badRequest(
        'INVALID_PERIOD',
        `${field}: expected a day as YYYY-MM-DD from 2000 to 2099, got ${JSON.stringify(String(value)).slice(0, 40)}`,
      );
    }
    bounds.push(ms);
  }
  const [fromMs, toMs] = bounds as [number, number];
  if (toMs < fromMs) throw badRequest('INVALID_PERIOD', `to: ${String(to)} is before from (${String(from)})`);
  const offset = utcOffsetMinutes * 60_000;
  return { from: from as string, to: to as string, startMs: fromMs - offset, endMs: toMs + DAY_MS - offset };
}

const PAGE_SQL = `
  SELECT s.id, s.session_id, p.plate, s.entry_at, s.exit_at, s.amount, s.currency, s.account_id, s.method,
         s.created_at, r.idx AS ledger_index
  FROM settlements s
  JOIN parking_sessions p ON p.id = s.session_id
  LEFT JOIN ledger_records r ON r.ref = s.id
  WHERE s.lot_id = ? AND s.created_at >= ? AND s.created_at < ?
    AND (s.created_at > ? OR (s.created_at = ? AND s.id > ?))
  ORDER BY s.created_at, s.id
  LIMIT ?`;

function toExported(r: Row): ExportedSettlement {
  return {
    id: str(r.id),
    sessionId: str(r.session_id),
    plate: str(r.plate),
    entryAt: num(r.entry_at),
    exitAt: num(r.exit_at),
    amount: num(r.amount),
    currency: str(r.currency),
    accountId: strOrNull(r.account_id),
    method: str(r.method),
    ledgerIndex: numOrNull(r.ledger_index),
    settledAt: num(r.created_at),
  };
}

/** The lot's settlements in the period, settled first first, one page of `pageSize` at a time. */
export async function* settlementPages(
  reader: ReadConnection,
  lotId: string,
  period: ExportPeriod,
  pageSize = 1000,
): AsyncGenerator<ExportedSettlement[]> {
  // keyset: the last row of the previous page (before the first: the start of the period, no id sorts before '')
  let afterAt = period.startMs - 1;
  let afterId = '';
  for (;;) {
    const rows = await reader.all(PAGE_SQL, [lotId, period.startMs, period.endMs, afterAt, afterAt, afterId, pageSize]);
    if (rows.length === 0) return;
    const page = rows.map(toExported);
    yield page;
    if (rows.length < pageSize) return;
    const last = page[page.length - 1]!;
    afterAt = last.settledAt;
    afterId = last.id;
  }
}
