/**
 * A range of whole lot-local days, as the charts ask for it (`from` and `to`
 * as YYYY-MM-DD, both included), turned into the half-open range of
 * instants [start, end) it covers: lot-local time is UTC plus the tariff's
 * fixed `utcOffsetMinutes`, so each day is exactly 24 hours. Pure: no clock,
 * no I/O.
 */
import { badRequest } from '../errors.js';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
/** the longest range a chart asks for, in days (a quarter) */
export const MAX_RANGE_DAYS = 92;

export interface DayRange {
  from: string;
  to: string;
  /** lot-local midnight at the start of `from` (ms since the epoch) */
  start: number;
  /** lot-local midnight at the end of `to` */
  end: number;
  days: number;
}

const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Midnight UTC of a YYYY-MM-DD calendar day, or null when it is no such day (2026-02-30). */
function utcMidnight(day: string): number | null {
  const m = DAY_PATTERN.exec(day);
  if (!m) return null;
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = Date.UTC(year, month - 1, date);
  const back = new Date(at);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== date) return null;
  return at;
}

/** The range of lot-local days `from`..`to`; a 400 naming the parameter when it is not a day or not a range. */
export function dayRange(from: string, to: string, utcOffsetMinutes: number): DayRange {
  const first = utcMidnight(from);
  if (first === null) throw badRequest('INVALID_DAY', `from: ${JSON.stringify(from)} is not a day (YYYY-MM-DD)`);
  const last = utcMidnight(to);
  if (last === null) throw badRequest('INVALID_DAY', `to: ${JSON.stringify(to)} is not a day (YYYY-MM-DD)`);
  if (last < first) throw badRequest('INVALID_RANGE', `to: ${to} is before from (${from})`);
  const days = (last - first) / DAY_MS + 1;
  if (days > MAX_RANGE_DAYS) {
    throw badRequest('RANGE_TOO_LONG', `to: ${from}..${to} is ${days} days; a chart covers at most ${MAX_RANGE_DAYS}`);
  }
  const offset = utcOffsetMinutes * 60_000;
  return { from, to, start: first - offset, end: last + DAY_MS - offset, days };
}

/** The lot-local calendar day (YYYY-MM-DD) that the lot-local midnight `start` begins. */
export function localDay(start: number, utcOffsetMinutes: number): string {
  return new Date(start + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}
