/**
 * Parking tariffs: what a stay costs. Pure logic, no I/O and no clock; all
 * amounts are integers in the currency's minor units (cents), never floats.
 *
 * The rules, in plain words:
 *
 * - Free period. A stay of at most `freeMinutes` minutes (exactly that long
 *   included) costs nothing. One millisecond longer and the whole stay is
 *   billed from the entry time: the free minutes are not deducted.
 * - Billing units. A billed stay is cut into units of `unitMinutes`, the
 *   first starting at entry, the next `unitMinutes` later, and so on while a
 *   unit starts before the exit. Every started unit is charged in full, so
 *   61 minutes with 60-minute units is two units.
 * - Time-of-day bands. A unit costs the `unitPrice` of the band containing
 *   the lot-local time of day at which the unit STARTS (a unit starting at
 *   21:59 is priced as 21:59 even if it runs into a 22:00 band); when no
 *   band contains it, the tariff's own `unitPrice`. A band covers
 *   `from` <= time < `to`; `to` may be '24:00' (end of day), and a band
 *   whose `from` is after its `to` wraps past midnight ('22:00'-'06:00'
 *   covers 22:00-24:00 and 00:00-06:00). Bands must not overlap.
 * - Daily cap. Units are grouped by the lot-local calendar day on which they
 *   start; each day's sum is limited to `dailyCap` (null: no cap). The fee
 *   is the sum of the capped day sums. A day starts at LOCAL midnight.
 * - Lot-local time is UTC + `utcOffsetMinutes` (a fixed offset: the lot's
 *   operator updates the tariff if the offset changes with the season).
 * - `graceMinutes` (time to leave after a manual payment) is stored with the
 *   tariff for the settlement service; `feeFor` does not use it.
 *
 * `parseTariff` is the only way untrusted input (API bodies, config files)
 * becomes a `Tariff`; `feeFor` assumes a tariff that passed it.
 */
import { CURRENCY_EXPECTED, isCurrencyCode } from '../currencies.js';

/** A time-of-day price: `from` <= lot-local time < `to`, both 'HH:MM'. */
export interface TimeBand {
  /** 'HH:MM', 00:00..23:59 */
  from: string;
  /** 'HH:MM', 00:00..24:00; before `from` means the band wraps past midnight */
  to: string;
  /** minor units per billing unit starting inside the band (integer 0..10^9) */
  unitPrice: number;
}

export interface Tariff {
  /** ISO 4217 code, three upper-case letters */
  currency: string;
  /** stays up to and including this many minutes are free (integer >= 0) */
  freeMinutes: number;
  /** billing unit length in minutes (integer 1..1440); every started unit is charged */
  unitMinutes: number;
  /** minor units per unit when no band applies (integer 0..10^9) */
  unitPrice: number;
  /** most charged per lot-local calendar day, minor units (integer 0..10^9), or null for no cap */
  dailyCap: number | null;
  /** time-of-day prices, non-overlapping, at most 48 */
  bands: TimeBand[];
  /** minutes after a manual payment to leave without further charge (integer 0..1440) */
  graceMinutes: number;
  /** lot-local time = UTC + this offset (integer -840..840) */
  utcOffsetMinutes: number;
}

/** A tariff that failed validation; `field` is its path, e.g. "tariff.bands[1].from". */
export class TariffError extends Error {
  readonly code = 'INVALID_TARIFF';

  /** `message` names the field itself, e.g. 'tariff.bands[1].from: expected HH:MM, got "25:00"'. */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'TariffError';
  }
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 1440;
const DAY_MS = DAY_MINUTES * MINUTE_MS;

/** The longest stay `feeFor` prices: 400 days. */
export const MAX_STAY_MS = 400 * DAY_MS;

/**
 * Whether `feeFor` can price a stay from `entryAt` to `exitAt` (an exit
 * before the entry counts as leaving at the entry, as the settlement does):
 * both integer milliseconds and at most MAX_STAY_MS apart. A stay it cannot
 * price has an entry time that cannot be right (seconds taken for
 * milliseconds, a zero), and is settled by an operator, not by a fee.
 */
export function isPriceableStay(entryAt: number, exitAt: number): boolean {
  return Number.isSafeInteger(entryAt) && Number.isSafeInteger(exitAt) && exitAt - entryAt <= MAX_STAY_MS;
}

/** Upper limit for `unitPrice`, band prices and `dailyCap` (minor units). */
export const MAX_PRICE = 1_000_000_000;
/** Upper limit for the number of bands. */
export const MAX_BANDS = 48;
/** Upper limit for `freeMinutes`: a free period longer than the longest stay means nothing. */
export const MAX_FREE_MINUTES = MAX_STAY_MS / MINUTE_MS;

/**
 * The lot-local calendar day of an instant, as a day count since
 * 1970-01-01 lot-local: two instants are on the same local day exactly when
 * their indexes are equal.
 */
export function localDayIndex(tariff: Pick<Tariff, 'utcOffsetMinutes'>, at: number): number {
  return Math.floor((at + tariff.utcOffsetMinutes * MINUTE_MS) / DAY_MS);
}

/**
 * The fee in minor units for a stay from `entryAt` to `exitAt` (integer
 * milliseconds since the Unix epoch). Throws RangeError for times that are
 * not safe integers, an exit before the entry, or a stay longer than
 * MAX_STAY_MS.
 */
export function feeFor(tariff: Tariff, entryAt: number, exitAt: number): number {
  if (!Number.isSafeInteger(entryAt)) throw new RangeError(`entryAt must be integer milliseconds, got ${entryAt}`);
  if (!Number.isSafeInteger(exitAt)) throw new RangeError(`exitAt must be integer milliseconds, got ${exitAt}`);
  if (exitAt < entryAt) throw new RangeError(`exitAt (${exitAt}) is before entryAt (${entryAt})`);
  const stay = exitAt - entryAt;
  if (stay > MAX_STAY_MS) throw new RangeError(`stay of ${stay} ms is longer than the maximum of ${MAX_STAY_MS} ms`);
  // Guard the loop below against a tariff that did not come from parseTariff.
  if (!Number.isInteger(tariff.unitMinutes) || tariff.unitMinutes < 1 || tariff.unitMinutes > DAY_MINUTES) {
    throw new RangeError(`tariff.unitMinutes must be an integer 1..${DAY_MINUTES}, got ${tariff.unitMinutes}`);
  }
  if (stay <= tariff.freeMinutes * MINUTE_MS) return 0;

  const unitMs = tariff.unitMinutes * MINUTE_MS;
  const offsetMs = tariff.utcOffsetMinutes * MINUTE_MS;
  const cap = tariff.dailyCap ?? Infinity;
  // Band edges fall on whole minutes, so the price of any instant is that of
  // its minute of the day.
  const pricePerMinute = tariff.bands.length > 0 ? minutePrices(tariff) : null;

  let total = 0;
  let day = Math.floor((entryAt + offsetMs) / DAY_MS);
  let daySum = 0;
  for (let start = entryAt; start < exitAt; start += unitMs) {
    const local = start + offsetMs;
    const unitDay = Math.floor(local / DAY_MS);
    if (unitDay !== day) {
      total += Math.min(daySum, cap);
      daySum = 0;
      day = unitDay;
    }
    daySum +=
      pricePerMinute === null ? tariff.unitPrice : pricePerMinute[Math.floor((local - unitDay * DAY_MS) / MINUTE_MS)];
  }
  return total + Math.min(daySum, cap);
}

/** The unit price for each minute of the lot-local day. */
function minutePrices(tariff: Tariff): Float64Array {
  const prices = new Float64Array(DAY_MINUTES).fill(tariff.unitPrice);
  for (const band of tariff.bands) {
    for (const [from, to] of bandIntervals(band)) prices.fill(band.unitPrice, from, to);
  }
  return prices;
}

/** A band as one or two half-open minute intervals within [0, 1440). */
function bandIntervals(band: TimeBand): Array<[number, number]> {
  const from = minuteOfDay(band.from);
  const to = minuteOfDay(band.to);
  if (from < to) return [[from, to]];
  const parts: Array<[number, number]> = [[from, DAY_MINUTES]];
  if (to > 0) parts.push([0, to]);
  return parts;
}

function minuteOfDay(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

const TARIFF_FIELDS = [
  'currency',
  'freeMinutes',
  'unitMinutes',
  'unitPrice',
  'dailyCap',
  'bands',
  'graceMinutes',
  'utcOffsetMinutes',
] as const;
const BAND_FIELDS = ['from', 'to', 'unitPrice'] as const;
const FROM_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const TO_PATTERN = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;

/**
 * Validates untrusted input (parsed JSON) as a tariff and returns a fresh,
 * normalised copy (fields in a fixed order, -0 as 0, bands sorted by `from`).
 * Throws TariffError naming the first offending field: a missing or unknown
 * field, a wrong type, a number that is not an integer (NaN, Infinity and
 * fractions of a minor unit included) or is out of range, a malformed or
 * empty band, overlapping bands, or more than 48 bands.
 */
export function parseTariff(input: unknown): Tariff {
  const obj = record(input, 'tariff', TARIFF_FIELDS);
  const currency = obj.currency;
  if (!isCurrencyCode(currency)) {
    fail('tariff.currency', `expected ${CURRENCY_EXPECTED}, got ${show(currency)}`);
  }
  const tariff: Tariff = {
    currency,
    freeMinutes: integer(obj.freeMinutes, 'tariff.freeMinutes', 0, MAX_FREE_MINUTES),
    unitMinutes: integer(obj.unitMinutes, 'tariff.unitMinutes', 1, DAY_MINUTES),
    unitPrice: integer(obj.unitPrice, 'tariff.unitPrice', 0, MAX_PRICE),
    dailyCap: obj.dailyCap === null ? null : integer(obj.dailyCap, 'tariff.dailyCap', 0, MAX_PRICE, ' or null'),
    bands: bandList(obj.bands),
    graceMinutes: integer(obj.graceMinutes, 'tariff.graceMinutes', 0, DAY_MINUTES),
    utcOffsetMinutes: integer(obj.utcOffsetMinutes, 'tariff.utcOffsetMinutes', -840, 840),
  };
  return tariff;
}

function bandList(value: unknown): TimeBand[] {
  if (!Array.isArray(value)) fail('tariff.bands', `expected an array of bands, got ${show(value)}`);
  if (value.length > MAX_BANDS) fail('tariff.bands', `expected at most ${MAX_BANDS} bands, got ${value.length}`);
  const bands: TimeBand[] = [];
  const taken: Array<{ index: number; from: number; to: number }> = [];
  value.forEach((item: unknown, index) => {
    const path = `tariff.bands[${index}]`;
    const obj = record(item, path, BAND_FIELDS);
    const from = obj.from;
    if (typeof from !== 'string' || !FROM_PATTERN.test(from)) {
      fail(`${path}.from`, `expected HH:MM from 00:00 to 23:59, got ${show(from)}`);
    }
    const to = obj.to;
    if (typeof to !== 'string' || !TO_PATTERN.test(to)) {
      fail(`${path}.to`, `expected HH:MM from 00:00 to 24:00, got ${show(to)}`);
    }
    if (minuteOfDay(from) === minuteOfDay(to)) {
      fail(path, `band is empty: from and to are both ${from}`);
    }
    const band: TimeBand = { from, to, unitPrice: integer(obj.unitPrice, `${path}.unitPrice`, 0, MAX_PRICE) };
    for (const [start, end] of bandIntervals(band)) {
      const clash = taken.find((t) => start < t.to && t.from < end);
      if (clash) {
        const other = value[clash.index] as TimeBand;
        fail(path, `band ${from}-${to} overlaps tariff.bands[${clash.index}] (${other.from}-${other.to})`);
      }
    }
    for (const [start, end] of bandIntervals(band)) taken.push({ index, from: start, to: end });
    bands.push(band);
  });
  return bands.sort((a, b) => minuteOfDay(a.from) - minuteOfDay(b.from));
}

/** `value` as an object with exactly the own fields `fields`. */
function record<K extends string>(value: unknown, path: string, fields: readonly K[]): Record<K, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(path, `expected an object, got ${show(value)}`);
  }
  const known: readonly string[] = fields;
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`${path}.${key}`, 'unknown field');
  }
  const out = {} as Record<K, unknown>;
  for (const key of fields) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) fail(`${path}.${key}`, 'required field is missing');
    out[key] = (value as Record<string, unknown>)[key];
  }
  return out;
}

function integer(value: unknown, path: string, min: number, max: number, orElse = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `expected an integer from ${min} to ${max}${orElse}, got ${show(value)}`);
  }
  return value === 0 ? 0 : value; // -0 -> 0
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value); // NaN and Infinity, which JSON.stringify turns into null
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function' || typeof value === 'symbol') return typeof value;
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof value;
  }
}

function fail(field: string, detail: string): never {
  throw new TariffError(field, `${field}: ${detail}`);
}
