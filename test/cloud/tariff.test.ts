/**
 * Parking tariffs (cloud/tariffs/tariff.ts): the free period, units rounded
 * up, time-of-day bands (a unit is priced by its start), the daily cap per
 * lot-local day, RangeErrors for impossible stays, parseTariff's validation,
 * and properties over arbitrary valid tariffs checked against a plain
 * reference model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Tariff, TimeBand } from '../../cloud/tariffs/tariff.js';
import {
  feeFor,
  isPriceableStay,
  localDayIndex,
  MAX_FREE_MINUTES,
  MAX_STAY_MS,
  parseTariff,
  TariffError,
} from '../../cloud/tariffs/tariff.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2024-01-15 00:00 UTC */
const T0 = Date.UTC(2024, 0, 15);

function tariff(overrides: Partial<Tariff> = {}): Tariff {
  return parseTariff({
    currency: 'EUR',
    freeMinutes: 0,
    unitMinutes: 60,
    unitPrice: 100,
    dailyCap: null,
    bands: [],
    graceMinutes: 15,
    utcOffsetMinutes: 0,
    ...overrides,
  });
}

/** The instant `minutes` after lot-local midnight starting day `day` after T0's local day. */
function local(t: Tariff, day: number, minutes: number): number {
  return T0 + day * DAY + minutes * MIN - t.utcOffsetMinutes * MIN;
}

describe('feeFor: free period and units', () => {
  const t = tariff({ freeMinutes: 15, unitMinutes: 60, unitPrice: 100 });

  it('a zero-length stay is free, even with no free minutes', () => {
    assert.equal(feeFor(tariff({ freeMinutes: 0 }), T0, T0), 0);
    assert.equal(feeFor(t, T0, T0), 0);
  });

  it('exactly freeMinutes is free; one millisecond more charges one unit from entry', () => {
    assert.equal(feeFor(t, T0, T0 + 15 * MIN), 0);
    assert.equal(feeFor(t, T0, T0 + 15 * MIN + 1), 100);
  });

  it('with no free minutes, one millisecond is a whole unit', () => {
    assert.equal(feeFor(tariff({ freeMinutes: 0 }), T0, T0 + 1), 100);
  });

  it('every started unit is charged in full', () => {
    assert.equal(feeFor(t, T0, T0 + 60 * MIN), 100);
    assert.equal(feeFor(t, T0, T0 + 60 * MIN + 1), 200);
    assert.equal(feeFor(t, T0, T0 + 119 * MIN), 200);
    assert.equal(feeFor(t, T0, T0 + 120 * MIN), 200);
    assert.equal(feeFor(t, T0, T0 + 120 * MIN + 1), 300);
  });

  it('free minutes are not deducted once exceeded', () => {
    const long = tariff({ freeMinutes: 90, unitMinutes: 60, unitPrice: 100 });
    assert.equal(feeFor(long, T0, T0 + 90 * MIN), 0);
    assert.equal(feeFor(long, T0, T0 + 91 * MIN), 200);
  });

  it('units are counted from the entry time, not from clock boundaries', () => {
    const quarter = tariff({ unitMinutes: 15, unitPrice: 50 });
    const entry = T0 + 7 * MIN + 13_000;
    assert.equal(feeFor(quarter, entry, entry + 45 * MIN), 150);
    assert.equal(feeFor(quarter, entry, entry + 45 * MIN + 1), 200);
  });

  it('a free tariff costs nothing', () => {
    assert.equal(feeFor(tariff({ unitPrice: 0 }), T0, T0 + 3 * DAY), 0);
  });
});

describe('feeFor: time-of-day bands', () => {
  it('a wrapping night band prices the units that start between 22:00 and 06:00', () => {
    const t = tariff({ unitPrice: 200, bands: [{ from: '22:00', to: '06:00', unitPrice: 50 }] });
    // 20:00 -> 08:00 next day: 20, 21 at 200; 22..05 (8 units) at 50; 06, 07 at 200
    assert.equal(feeFor(t, local(t, 0, 20 * 60), local(t, 1, 8 * 60)), 2 * 200 + 8 * 50 + 2 * 200);
    // inside the band on both sides of midnight
    assert.equal(feeFor(t, local(t, 0, 23 * 60), local(t, 1, 60)), 2 * 50);
    // early morning only
    assert.equal(feeFor(t, local(t, 0, 0), local(t, 0, 6 * 60)), 6 * 50);
  });

  it('a unit is priced by the band containing its start, even if it runs into another band', () => {
    const t = tariff({ unitMinutes: 30, unitPrice: 200, bands: [{ from: '22:00', to: '06:00', unitPrice: 50 }] });
    // units start 21:45 (day price) and 22:15 (night price)
    assert.equal(feeFor(t, local(t, 0, 21 * 60 + 45), local(t, 0, 22 * 60 + 45)), 200 + 50);
    // units start 05:45 (night) and 06:15 (day)
    assert.equal(feeFor(t, local(t, 0, 5 * 60 + 45), local(t, 0, 6 * 60 + 45)), 50 + 200);
    // a band's `from` is inclusive, its `to` exclusive, to the millisecond
    assert.equal(feeFor(t, local(t, 0, 22 * 60), local(t, 0, 22 * 60) + 1), 50);
    assert.equal(feeFor(t, local(t, 0, 22 * 60) - 1, local(t, 0, 22 * 60)), 200);
    assert.equal(feeFor(t, local(t, 0, 6 * 60) - 1, local(t, 0, 6 * 60)), 50);
    assert.equal(feeFor(t, local(t, 0, 6 * 60), local(t, 0, 6 * 60) + 1), 200);
  });

  it("a band ending at '24:00' covers up to midnight", () => {
    const t = tariff({ unitPrice: 100, bands: [{ from: '18:00', to: '24:00', unitPrice: 300 }] });
    assert.equal(feeFor(t, local(t, 0, 23 * 60 + 59), local(t, 0, 23 * 60 + 59) + 1), 300);
    assert.equal(feeFor(t, local(t, 1, 0), local(t, 1, 0) + 1), 100);
    assert.equal(feeFor(t, local(t, 0, 17 * 60), local(t, 1, 60)), 100 + 6 * 300 + 100);
  });

  it('several bands, with the default price between them', () => {
    const t = tariff({
      unitPrice: 100,
      bands: [
        { from: '07:00', to: '10:00', unitPrice: 250 },
        { from: '16:00', to: '19:00', unitPrice: 250 },
        { from: '19:00', to: '07:00', unitPrice: 40 },
      ],
    });
    // 06:00 -> 20:00: 06 night, 07-09 peak, 10-15 day, 16-18 peak, 19 night
    assert.equal(feeFor(t, local(t, 0, 6 * 60), local(t, 0, 20 * 60)), 40 + 3 * 250 + 6 * 100 + 3 * 250 + 40);
  });

  it('bands are in lot-local time', () => {
    const bands: TimeBand[] = [{ from: '22:00', to: '06:00', unitPrice: 50 }];
    const utc = tariff({ unitPrice: 200, bands });
    const tokyo = tariff({ unitPrice: 200, bands, utcOffsetMinutes: 540 });
    const newYork = tariff({ unitPrice: 200, bands, utcOffsetMinutes: -300 });
    // 23:00 UTC is 08:00 in Tokyo and 18:00 in New York
    const at = T0 + 23 * HOUR;
    assert.equal(feeFor(utc, at, at + HOUR), 50);
    assert.equal(feeFor(tokyo, at, at + HOUR), 200);
    assert.equal(feeFor(newYork, at, at + HOUR), 200);
    // 03:30 UTC is 12:30 in Tokyo and 22:30 in New York
    const later = T0 + 3 * HOUR + 30 * MIN;
    assert.equal(feeFor(utc, later, later + HOUR), 50);
    assert.equal(feeFor(tokyo, later, later + HOUR), 200);
    assert.equal(feeFor(newYork, later, later + HOUR), 50);
  });
});

describe('feeFor: daily cap', () => {
  it('caps what one day costs', () => {
    const t = tariff({ unitPrice: 100, dailyCap: 500 });
    assert.equal(feeFor(t, T0 + 8 * HOUR, T0 + 12 * HOUR), 400);
    assert.equal(feeFor(t, T0 + 8 * HOUR, T0 + 13 * HOUR), 500);
    assert.equal(feeFor(t, T0 + 8 * HOUR, T0 + 20 * HOUR), 500);
  });

  it('a zero cap makes every stay free', () => {
    assert.equal(feeFor(tariff({ dailyCap: 0 }), T0, T0 + 5 * DAY), 0);
  });

  it('a multi-day stay pays the cap on full days and the units of partial days', () => {
    const t = tariff({ unitPrice: 100, dailyCap: 1000 });
    // day 0 from 21:00 (3 units = 300), days 1 and 2 full (capped 1000 each), day 3 until 04:30 (5 units = 500)
    assert.equal(feeFor(t, T0 + 21 * HOUR, T0 + 3 * DAY + 4 * HOUR + 30 * MIN), 300 + 1000 + 1000 + 500);
  });

  it('days change at LOCAL midnight: units after local midnight count against the new day', () => {
    const base = { unitPrice: 100, dailyCap: 300 };
    // 18:00 -> 02:00 UTC (8 units starting 18, 19, ..., 01 UTC)
    const entry = T0 + 18 * HOUR;
    const exit = T0 + DAY + 2 * HOUR;
    // UTC: 6 units on the first day (capped 300), 2 on the second (200)
    assert.equal(feeFor(tariff(base), entry, exit), 300 + 200);
    // UTC+2: local 20:00 -> 04:00; 4 units each side of local midnight (22:00 UTC), both capped
    assert.equal(feeFor(tariff({ ...base, utcOffsetMinutes: 120 }), entry, exit), 300 + 300);
    // UTC-5: local 13:00 -> 21:00, all on one local day
    assert.equal(feeFor(tariff({ ...base, utcOffsetMinutes: -300 }), entry, exit), 300);
  });

  it('a unit that starts before local midnight counts for the day it starts on', () => {
    const t = tariff({ unitMinutes: 120, unitPrice: 100, dailyCap: 100, utcOffsetMinutes: 330 });
    // local 23:00 -> 01:00: one unit starting on day 0, none on day 1
    assert.equal(feeFor(t, local(t, 0, 23 * 60), local(t, 1, 60)), 100);
    // local 23:00 -> 01:01: a second unit starting at 01:00 on day 1
    assert.equal(feeFor(t, local(t, 0, 23 * 60), local(t, 1, 60) + 1), 200);
  });

  it('the cap applies to band prices too', () => {
    const t = tariff({ unitPrice: 100, dailyCap: 900, bands: [{ from: '08:00', to: '18:00', unitPrice: 300 }] });
    assert.equal(feeFor(t, local(t, 0, 6 * 60), local(t, 0, 9 * 60)), 100 + 100 + 300);
    assert.equal(feeFor(t, local(t, 0, 6 * 60), local(t, 0, 12 * 60)), 900);
  });
});

describe('feeFor: impossible stays', () => {
  const t = tariff();
  const cases: Array<[string, number, number]> = [
    ['exit before entry', T0, T0 - 1],
    ['NaN entry', NaN, T0],
    ['NaN exit', T0, NaN],
    ['infinite exit', T0, Infinity],
    ['negative infinite entry', -Infinity, T0],
    ['fractional entry', T0 + 0.5, T0 + HOUR],
    ['fractional exit', T0, T0 + 1.5],
    ['unsafe integer', T0, 2 ** 60],
    ['a stay longer than 400 days', T0, T0 + MAX_STAY_MS + 1],
  ];
  for (const [what, entry, exit] of cases) {
    it(`${what} -> RangeError`, () => {
      assert.throws(() => feeFor(t, entry, exit), RangeError);
    });
  }

  it('isPriceableStay says which stays feeFor prices (an exit before the entry counts as leaving at the entry)', () => {
    const stays: Array<[number, number]> = [
      ...cases.map(([, entry, exit]): [number, number] => [entry, exit]),
      [T0, T0],
      [T0, T0 + MAX_STAY_MS],
      [1_700_000_000, T0],
      [0, T0],
    ];
    for (const [entry, exit] of stays) {
      let priced = true;
      try {
        feeFor(t, entry, Math.max(exit, entry));
      } catch {
        priced = false;
      }
      assert.equal(isPriceableStay(entry, exit), priced, `${entry} -> ${exit}`);
    }
  });

  it('MAX_STAY_MS is 400 days and a stay of exactly that is priced', () => {
    assert.equal(MAX_STAY_MS, 400 * DAY);
    assert.equal(feeFor(tariff({ unitMinutes: 1440, unitPrice: 7 }), T0, T0 + MAX_STAY_MS), 400 * 7);
  });

  it('messages say what is wrong', () => {
    assert.throws(() => feeFor(t, T0, T0 - 1), /before entryAt/);
    assert.throws(() => feeFor(t, T0, T0 + MAX_STAY_MS + 1), /longer than the maximum/);
    assert.throws(() => feeFor(t, NaN, T0), /entryAt/);
  });

  it('prices a 400-day stay with 1-minute units (speed is measured in bench, not here)', () => {
    const perMinute = tariff({ unitMinutes: 1, unitPrice: 3 });
    const banded = tariff({
      unitMinutes: 1,
      unitPrice: 3,
      dailyCap: 2000,
      utcOffsetMinutes: 60,
      bands: [{ from: '22:00', to: '06:00', unitPrice: 1 }],
    });
    assert.equal(feeFor(perMinute, T0, T0 + MAX_STAY_MS), 400 * 1440 * 3);
    // a local day: 8 h at 1 + 16 h at 3 = 480 + 2880, capped at 2000; the stay touches 401 local days:
    // day 0 from 01:00 local (5 h night + 16 h day + 2 h night = 300 + 2880 + 120 -> 2000), 399 full days, day 400 until 01:00 (60)
    assert.equal(feeFor(banded, T0, T0 + MAX_STAY_MS), 2000 + 399 * 2000 + 60);
  });
});

describe('parseTariff', () => {
  const good = {
    currency: 'EUR',
    freeMinutes: 15,
    unitMinutes: 60,
    unitPrice: 250,
    dailyCap: 2000,
    bands: [
      { from: '22:00', to: '06:00', unitPrice: 100 },
      { from: '06:00', to: '09:00', unitPrice: 300 },
    ],
    graceMinutes: 10,
    utcOffsetMinutes: 60,
  };
  const clone = (): Record<string, unknown> => JSON.parse(JSON.stringify(good)) as Record<string, unknown>;

  it('accepts a good tariff and returns a fresh, normalised copy', () => {
    const input = clone();
    const parsed = parseTariff(input);
    assert.deepEqual(parsed, {
      ...good,
      bands: [
        { from: '06:00', to: '09:00', unitPrice: 300 },
        { from: '22:00', to: '06:00', unitPrice: 100 },
      ],
    });
    assert.notEqual(parsed, input);
    assert.notEqual(parsed.bands, input.bands);
    assert.notEqual(parsed.bands[0], (input.bands as unknown[])[1]);
    assert.deepEqual(input, clone(), 'the input is not modified');
  });

  it('accepts a null cap, no bands, limits and adjacent bands, and turns -0 into 0', () => {
    const parsed = parseTariff({
      ...good,
      freeMinutes: -0,
      unitMinutes: 1440,
      unitPrice: 1_000_000_000,
      dailyCap: null,
      graceMinutes: 1440,
      utcOffsetMinutes: -840,
      bands: [
        { from: '00:00', to: '12:00', unitPrice: 0 },
        { from: '12:00', to: '24:00', unitPrice: 1_000_000_000 },
      ],
    });
    assert.equal(Object.is(parsed.freeMinutes, 0), true);
    assert.equal(parsed.dailyCap, null);
    assert.equal(parseTariff({ ...good, bands: [] }).bands.length, 0);
    assert.equal(parseTariff({ ...good, utcOffsetMinutes: 840, dailyCap: 0 }).utcOffsetMinutes, 840);
    assert.equal(
      parseTariff({ ...good, freeMinutes: MAX_FREE_MINUTES, graceMinutes: 0 }).freeMinutes,
      MAX_FREE_MINUTES,
    );
  });

  it('accepts 48 bands and a band covering the whole day', () => {
    const bands = Array.from({ length: 48 }, (_, i) => ({ from: hhmm(i * 30), to: hhmm(i * 30 + 30), unitPrice: i }));
    assert.equal(parseTariff({ ...good, bands }).bands.length, 48);
    assert.equal(parseTariff({ ...good, bands: [{ from: '00:00', to: '24:00', unitPrice: 5 }] }).bands.length, 1);
    assert.equal(parseTariff({ ...good, bands: [{ from: '12:00', to: '11:59', unitPrice: 5 }] }).bands.length, 1);
  });

  const rejected: Array<[string, unknown, string]> = [
    ['null', null, 'tariff'],
    ['an array', [good], 'tariff'],
    ['a string', JSON.stringify(good), 'tariff'],
    ['a missing field', without('dailyCap'), 'tariff.dailyCap'],
    ['a missing null cap given as undefined', { ...good, dailyCap: undefined }, 'tariff.dailyCap'],
    ['missing bands', without('bands'), 'tariff.bands'],
    ['an unknown field', { ...good, discount: 10 }, 'tariff.discount'],
    [
      'a __proto__ field from JSON',
      JSON.parse(`{"__proto__": {}, ${JSON.stringify(good).slice(1)}`),
      'tariff.__proto__',
    ],
    ['a lower-case currency', { ...good, currency: 'eur' }, 'tariff.currency'],
    ['a four-letter currency', { ...good, currency: 'EURO' }, 'tariff.currency'],
    ['a numeric currency', { ...good, currency: 978 }, 'tariff.currency'],
    ['a code of no currency', { ...good, currency: 'ZZZ' }, 'tariff.currency'],
    ['the code for no currency', { ...good, currency: 'XXX' }, 'tariff.currency'],
    ['a fractional price', { ...good, unitPrice: 2.5 }, 'tariff.unitPrice'],
    ['a NaN price', { ...good, unitPrice: NaN }, 'tariff.unitPrice'],
    ['an infinite price', { ...good, unitPrice: Infinity }, 'tariff.unitPrice'],
    ['a negative price', { ...good, unitPrice: -1 }, 'tariff.unitPrice'],
    ['a price as a string', { ...good, unitPrice: '250' }, 'tariff.unitPrice'],
    ['a price above 10^9', { ...good, unitPrice: 1_000_000_001 }, 'tariff.unitPrice'],
    ['a cap above 10^9', { ...good, dailyCap: 1e10 }, 'tariff.dailyCap'],
    ['a fractional cap', { ...good, dailyCap: 10.01 }, 'tariff.dailyCap'],
    ['a negative cap', { ...good, dailyCap: -5 }, 'tariff.dailyCap'],
    ['negative free minutes', { ...good, freeMinutes: -1 }, 'tariff.freeMinutes'],
    ['fractional free minutes', { ...good, freeMinutes: 0.5 }, 'tariff.freeMinutes'],
    ['a zero unit', { ...good, unitMinutes: 0 }, 'tariff.unitMinutes'],
    ['a unit over a day', { ...good, unitMinutes: 1441 }, 'tariff.unitMinutes'],
    ['free minutes beyond the longest stay', { ...good, freeMinutes: MAX_FREE_MINUTES + 1 }, 'tariff.freeMinutes'],
    ['a negative unit', { ...good, unitMinutes: -60 }, 'tariff.unitMinutes'],
    ['a fractional unit', { ...good, unitMinutes: 7.5 }, 'tariff.unitMinutes'],
    ['grace over a day', { ...good, graceMinutes: 1441 }, 'tariff.graceMinutes'],
    ['negative grace', { ...good, graceMinutes: -1 }, 'tariff.graceMinutes'],
    ['fractional grace', { ...good, graceMinutes: 0.5 }, 'tariff.graceMinutes'],
    ['an unsafe integer price', { ...good, unitPrice: 2 ** 53 }, 'tariff.unitPrice'],
    ['a fractional offset', { ...good, utcOffsetMinutes: 60.5 }, 'tariff.utcOffsetMinutes'],
    ['an offset beyond +14:00', { ...good, utcOffsetMinutes: 841 }, 'tariff.utcOffsetMinutes'],
    ['an offset beyond -14:00', { ...good, utcOffsetMinutes: -841 }, 'tariff.utcOffsetMinutes'],
    ['bands not an array', { ...good, bands: {} }, 'tariff.bands'],
    ['a band that is not an object', { ...good, bands: ['22:00-06:00'] }, 'tariff.bands[0]'],
    ['an hour 25', withBand(1, { from: '25:00' }), 'tariff.bands[1].from'],
    ['a from of 24:00', withBand(1, { from: '24:00' }), 'tariff.bands[1].from'],
    ['a single-digit hour', withBand(0, { from: '9:00' }), 'tariff.bands[0].from'],
    ['minute 60', withBand(0, { to: '06:60' }), 'tariff.bands[0].to'],
    ['a to past 24:00', withBand(0, { to: '24:01' }), 'tariff.bands[0].to'],
    ['seconds in a time', withBand(0, { to: '06:00:00' }), 'tariff.bands[0].to'],
    ['a fractional band price', withBand(1, { unitPrice: 0.5 }), 'tariff.bands[1].unitPrice'],
    ['a negative band price', withBand(1, { unitPrice: -1 }), 'tariff.bands[1].unitPrice'],
    ['a negative band price on the first band', withBand(0, { unitPrice: -100 }), 'tariff.bands[0].unitPrice'],
    ['a band price as a string', withBand(1, { unitPrice: '300' }), 'tariff.bands[1].unitPrice'],
    ['a NaN band price', withBand(1, { unitPrice: NaN }), 'tariff.bands[1].unitPrice'],
    ['a band price above 10^9', withBand(1, { unitPrice: 2e9 }), 'tariff.bands[1].unitPrice'],
    ['an empty band', withBand(1, { from: '07:00', to: '07:00' }), 'tariff.bands[1]'],
    ['an unknown band field', withBand(1, { days: 'Mon-Fri' }), 'tariff.bands[1].days'],
    ['a missing band price', { ...good, bands: [{ from: '10:00', to: '11:00' }] }, 'tariff.bands[0].unitPrice'],
    ['overlapping bands', withBand(1, { from: '05:00', to: '07:00' }), 'tariff.bands[1]'],
    ['a band overlapping a wrap', withBand(1, { from: '23:00', to: '23:30' }), 'tariff.bands[1]'],
    ['two wrapping bands', withBand(1, { from: '23:00', to: '01:00' }), 'tariff.bands[1]'],
    ['a band inside another', withBand(1, { from: '22:00', to: '24:00' }), 'tariff.bands[1]'],
    [
      'more than 48 bands',
      {
        ...good,
        bands: Array.from({ length: 49 }, (_, i) => ({ from: hhmm(i * 20), to: hhmm(i * 20 + 20), unitPrice: 1 })),
      },
      'tariff.bands',
    ],
  ];
  for (const [what, input, field] of rejected) {
    it(`rejects ${what}, naming ${field}`, () => {
      assert.throws(
        () => parseTariff(input),
        (err: unknown) => {
          assert.ok(err instanceof TariffError, `expected a TariffError, got ${String(err)}`);
          assert.equal(err.code, 'INVALID_TARIFF');
          assert.equal(err.field, field);
          assert.ok(err.message.startsWith(`${field}: `), err.message);
          return true;
        },
      );
    });
  }

  it('says what it expected and what it got', () => {
    assert.throws(() => parseTariff(withBand(1, { from: '25:00' })), {
      message: 'tariff.bands[1].from: expected HH:MM from 00:00 to 23:59, got "25:00"',
    });
    assert.throws(() => parseTariff({ ...good, unitPrice: NaN }), { message: /tariff\.unitPrice: .*got NaN/ });
    assert.throws(() => parseTariff(withBand(1, { unitPrice: -1 })), {
      message: 'tariff.bands[1].unitPrice: expected an integer from 0 to 1000000000, got -1',
    });
    assert.throws(() => parseTariff(withBand(1, { from: '05:00', to: '07:00' })), {
      message: /tariff\.bands\[1\]: band 05:00-07:00 overlaps tariff\.bands\[0\] \(22:00-06:00\)/,
    });
  });

  function without(key: string): Record<string, unknown> {
    const input = clone();
    delete input[key];
    return input;
  }

  function withBand(index: number, change: Record<string, unknown>): Record<string, unknown> {
    const input = clone();
    const bands = input.bands as Array<Record<string, unknown>>;
    bands[index] = { ...bands[index], ...change };
    return input;
  }
});

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

// ---- properties ----------------------------------------------------------

/**
 * Non-overlapping bands: distinct sorted minutes paired up, either
 * (p0,p1),(p2,p3),... or shifted by one so the last band wraps past midnight.
 */
const bandsArb: fc.Arbitrary<TimeBand[]> = fc
  .record({
    points: fc.uniqueArray(fc.integer({ min: 0, max: 1440 }), { maxLength: 12 }),
    wrap: fc.boolean(),
    prices: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 6, maxLength: 6 }),
  })
  .map(({ points, wrap, prices }) => {
    const p = [...points].sort((a, b) => a - b).slice(0, points.length - (points.length % 2));
    const shift = wrap && p.length > 0 && p[p.length - 1] < 1440 ? 1 : 0;
    const bands: TimeBand[] = [];
    for (let i = 0; i < p.length; i += 2) {
      const from = p[(i + shift) % p.length];
      const to = p[(i + 1 + shift) % p.length];
      if (from === to) continue;
      bands.push({ from: hhmm(from), to: hhmm(to), unitPrice: prices[(i / 2) % prices.length] });
    }
    return bands;
  });

const tariffArb = (opts: { bands?: boolean; cap?: boolean } = {}): fc.Arbitrary<Tariff> =>
  fc
    .record({
      currency: fc.constantFrom('EUR', 'USD', 'JPY', 'CZK'),
      freeMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 180 })),
      unitMinutes: fc.oneof(fc.constantFrom(1, 5, 15, 30, 60, 1440), fc.integer({ min: 1, max: 1440 })),
      unitPrice: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1_000_000_000 })),
      dailyCap: opts.cap === false ? fc.constant(null) : fc.option(fc.integer({ min: 0, max: 20_000 })),
      bands: opts.bands === false ? fc.constant([]) : bandsArb,
      graceMinutes: fc.integer({ min: 0, max: 1440 }),
      utcOffsetMinutes: fc.oneof(
        fc.constantFrom(0, 60, -300, 330, 540, 840, -840),
        fc.integer({ min: -840, max: 840 }),
      ),
    })
    .map((t) => parseTariff(t));

const entryArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) });
/** stays from a moment to three weeks, most of them short */
const stayArb = fc.oneof(
  fc.integer({ min: 0, max: 4 * HOUR }),
  fc.integer({ min: 0, max: 3 * DAY }),
  fc.integer({ min: 0, max: 21 * DAY }),
);
const RUNS = { numRuns: 200 };

/** The rules written out the slow, obvious way: a list of units, a band search, a map of days. */
function referenceFee(t: Tariff, entryAt: number, exitAt: number): number {
  if (exitAt - entryAt <= t.freeMinutes * MIN) return 0;
  const perDay = new Map<number, number>();
  for (let start = entryAt; start < exitAt; start += t.unitMinutes * MIN) {
    const localMs = start + t.utcOffsetMinutes * MIN;
    const day = Math.floor(localMs / DAY);
    const minute = (localMs - day * DAY) / MIN;
    const band = t.bands.find((b) => {
      const from = toMinutes(b.from);
      const to = toMinutes(b.to);
      return from < to ? from <= minute && minute < to : minute >= from || minute < to;
    });
    perDay.set(day, (perDay.get(day) ?? 0) + (band ? band.unitPrice : t.unitPrice));
  }
  let total = 0;
  for (const sum of perDay.values()) total += t.dailyCap === null ? sum : Math.min(sum, t.dailyCap);
  return total;
}

function toMinutes(hhmmText: string): number {
  const [h, m] = hhmmText.split(':').map(Number);
  return h * 60 + m;
}

describe('feeFor properties', () => {
  it('agrees with a plain reference model', () => {
    fc.assert(
      fc.property(tariffArb(), entryArb, stayArb, (t, entry, stay) => {
        assert.equal(feeFor(t, entry, entry + stay), referenceFee(t, entry, entry + stay));
      }),
      RUNS,
    );
  });

  it('is never negative and always an integer', () => {
    fc.assert(
      fc.property(tariffArb(), entryArb, stayArb, (t, entry, stay) => {
        const fee = feeFor(t, entry, entry + stay);
        assert.ok(Number.isSafeInteger(fee) && fee >= 0, `fee ${fee}`);
      }),
      RUNS,
    );
  });

  it('is monotone in the exit time', () => {
    fc.assert(
      fc.property(tariffArb(), entryArb, stayArb, stayArb, (t, entry, s1, s2) => {
        const [b, c] = s1 <= s2 ? [s1, s2] : [s2, s1];
        assert.ok(feeFor(t, entry, entry + b) <= feeFor(t, entry, entry + c));
      }),
      RUNS,
    );
  });

  it('a stay within one local day never exceeds the daily cap', () => {
    fc.assert(
      fc.property(
        tariffArb(),
        fc.integer({ min: 10_000, max: 25_000 }),
        fc.integer({ min: 0, max: DAY - 1 }),
        fc.integer({ min: 0, max: DAY - 1 }),
        (t, day, x, y) => {
          const midnight = day * DAY - t.utcOffsetMinutes * MIN;
          const [entry, exit] = [midnight + Math.min(x, y), midnight + Math.max(x, y)];
          assert.equal(localDayIndex(t, entry), localDayIndex(t, exit));
          if (t.dailyCap !== null) assert.ok(feeFor(t, entry, exit) <= t.dailyCap);
        },
      ),
      RUNS,
    );
  });

  it('never exceeds the cap times the number of local days on which units start', () => {
    fc.assert(
      fc.property(tariffArb(), entryArb, stayArb, (t, entry, stay) => {
        const fee = feeFor(t, entry, entry + stay);
        if (t.dailyCap === null || fee === 0) return;
        const unitMs = t.unitMinutes * MIN;
        const lastStart = entry + (Math.ceil(stay / unitMs) - 1) * unitMs;
        const days = localDayIndex(t, lastStart) - localDayIndex(t, entry) + 1;
        assert.ok(fee <= t.dailyCap * days, `${fee} > ${t.dailyCap} * ${days}`);
      }),
      RUNS,
    );
  });

  it('with no bands and no cap, is the number of started units times the price', () => {
    fc.assert(
      fc.property(tariffArb({ bands: false, cap: false }), entryArb, stayArb, (t, entry, stay) => {
        const expected = stay <= t.freeMinutes * MIN ? 0 : Math.ceil(stay / (t.unitMinutes * MIN)) * t.unitPrice;
        assert.equal(feeFor(t, entry, entry + stay), expected);
      }),
      RUNS,
    );
  });

  it('does not depend on where the entry falls when nothing is time-dependent', () => {
    fc.assert(
      fc.property(tariffArb({ bands: false, cap: false }), entryArb, entryArb, stayArb, (t, a, b, stay) => {
        assert.equal(feeFor(t, a, a + stay), feeFor(t, b, b + stay));
      }),
      RUNS,
    );
  });
});

describe('parseTariff properties', () => {
  it('accepts its own output unchanged, also after a JSON round trip', () => {
    fc.assert(
      fc.property(tariffArb(), (t) => {
        assert.deepEqual(parseTariff(t), t);
        assert.deepEqual(parseTariff(JSON.parse(JSON.stringify(t))), t);
      }),
      RUNS,
    );
  });

  it('rejects any unknown top-level field', () => {
    const known = new Set(['currency', 'freeMinutes', 'unitMinutes', 'unitPrice', 'dailyCap', 'bands']);
    known.add('graceMinutes').add('utcOffsetMinutes');
    fc.assert(
      fc.property(
        tariffArb(),
        fc.string({ minLength: 1 }).filter((k) => !known.has(k) && k !== '__proto__'),
        fc.jsonValue(),
        (t, key, value) => {
          assert.throws(() => parseTariff({ ...t, [key]: value }), { field: `tariff.${key}` });
        },
      ),
      RUNS,
    );
  });
});
