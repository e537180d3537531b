/**
 * The chart figures over real HTTP, on the test backend (SQLite, or
 * PostgreSQL with PLATEPAY_TEST_DATABASE): a car park seeded with random
 * stays (seed printed on failure) whose figures the test works out on its
 * own from what the cloud answered to each read, compared bucket by bucket;
 * sums that must agree between the hourly and daily answers; and the
 * range checks, roles and errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, ManualClock, T0, TEST_BACKEND, TestCloud, hourlyTariff, setUpLot } from './cloud-harness.js';
import type { SeededCarPark, SeededRead } from './stats-seed.js';
import { seedCarPark } from './stats-seed.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** lot-local 2026-03-02 00:00 in UTC+8 (the harness tariff's offset) */
const DAY1 = Date.UTC(2026, 2, 2) - 8 * HOUR;
const DAYS = 3;
const SEED = Number(process.env.PLATEPAY_STATS_SEED ?? Math.floor(Math.random() * 1_000_000));

/**
 * a stay as the cloud recorded it, from the answers to its reads: an entry opens it; an exit that
 * opened the barrier ends it (a car held for payment or sent to review is still inside)
 */
interface Stay {
  entryAt: number;
  exitAt: number | null;
}

function stays(reads: SeededRead[]): Stay[] {
  const open = new Map<string, Stay>();
  const out: Stay[] = [];
  for (const r of reads) {
    if (r.kind === 'entry' && r.decision.reason === 'entry') {
      const s = { entryAt: r.at, exitAt: null };
      open.set(r.plate, s);
      out.push(s);
    } else if (r.kind === 'exit' && r.decision.action === 'open') {
      const s = open.get(r.plate);
      if (s) s.exitAt = r.at;
    }
  }
  return out;
}

const within = (t: number, from: number, to: number) => t >= from && t < to;

describe(`chart figures over HTTP (${TEST_BACKEND}, seed ${SEED})`, { timeout: 180_000 }, () => {
  let t: TestCloud;
  let lotId: string;
  let auditor: string;
  let park: SeededCarPark;
  const get = (path: string, token = auditor) => t.call('GET', `/v1/lots/${lotId}/stats/${path}`, { token });
  const range = `from=2026-03-02&to=2026-03-0${1 + DAYS}`;

  before(async () => {
    // the clock after every seeded read, so none is "in the future"
    t = await TestCloud.start(new ManualClock(T0 + 5 * DAY));
    const lot = await setUpLot(t);
    lotId = lot.lotId;
    auditor = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'auditor', label: 'bank' } })).body
      .secret;
    park = await seedCarPark((m, p, o) => t.call(m, p, o), {
      adminKey: ADMIN_KEY,
      lanes: { entry: lot.entry, exit: lot.exit },
      // from half a day before the range to half a day after it: stays across both edges
      start: DAY1 - 12 * HOUR,
      spanMs: (DAYS + 1) * DAY,
      cars: 80,
      seed: SEED,
      email: 'charts@example.com',
    });
  });
  after(async () => {
    await t?.stop();
  });

  it('hourly: entries, exits, cars inside, settlements and revenue of each lot-local hour', async () => {
    const r = await get(`hourly?${range}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.start, DAY1);
    assert.equal(r.body.end, DAY1 + DAYS * DAY);
    assert.equal(r.body.currency, 'CNY');
    assert.equal(r.body.utcOffsetMinutes, 480);
    assert.equal(r.body.hours.length, DAYS * 24);
    const all = stays(park.reads);
    const expected = Array.from({ length: DAYS * 24 }, (_, i) => {
      const from = DAY1 + i * HOUR;
      const to = from + HOUR;
      const settled = park.reads.filter((x) => x.decision.settlementId !== null && within(x.at, from, to));
      return {
        start: from,
        entries: all.filter((s) => within(s.entryAt, from, to)).length,
        exits: all.filter((s) => s.exitAt !== null && within(s.exitAt, from, to)).length,
        inside: all.filter((s) => s.entryAt < to && (s.exitAt === null || s.exitAt >= to)).length,
        settlements: settled.length,
        revenue: settled.reduce((n, x) => n + x.decision.fee!, 0),
      };
    });
    assert.deepEqual(r.body.hours, expected);
    assert.equal(
      r.body.insideAtStart,
      all.filter((s) => s.entryAt < DAY1 && (s.exitAt === null || s.exitAt >= DAY1)).length,
    );
    // the seed is busy enough for every figure to show
    for (const k of ['entries', 'exits', 'settlements', 'revenue'] as const)
      assert.ok(
        expected.some((h) => h[k] > 0),
        `some hour has ${k}`,
      );
  });

  it('daily: the same counts per day, lane events, reviews and the review rate; sums agree with hourly', async () => {
    const [daily, hourly] = await Promise.all([get(`daily?${range}`), get(`hourly?${range}`)]);
    assert.equal(daily.status, 200, JSON.stringify(daily.body));
    assert.deepEqual(
      daily.body.days.map((d: { day: string }) => d.day),
      ['2026-03-02', '2026-03-03', '2026-03-04'],
    );
    const all = stays(park.reads);
    for (const [i, d] of daily.body.days.entries()) {
      const from = DAY1 + i * DAY;
      const to = from + DAY;
      const reads = park.reads.filter((x) => within(x.at, from, to));
      const reviews = reads.filter((x) => x.decision.reviewId !== null).length;
      assert.deepEqual(d, {
        day: d.day,
        start: from,
        entries: all.filter((s) => within(s.entryAt, from, to)).length,
        exits: all.filter((s) => s.exitAt !== null && within(s.exitAt, from, to)).length,
        settlements: reads.filter((x) => x.decision.settlementId !== null).length,
        revenue: reads.reduce((n, x) => n + (x.decision.settlementId !== null ? x.decision.fee! : 0), 0),
        events: reads.length,
        reviews,
        reviewRate: reads.length ? reviews / reads.length : null,
      });
      const hours = hourly.body.hours.slice(i * 24, (i + 1) * 24);
      for (const k of ['entries', 'exits', 'settlements', 'revenue'] as const)
        assert.equal(
          d[k],
          hours.reduce((n: number, h: Record<string, number>) => n + h[k]!, 0),
          `day ${d.day}: ${k} is the sum of its hours`,
        );
    }
  });

  it('decisions: by action and reason; review items by reason', async () => {
    const r = await get(`decisions?${range}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const reads = park.reads.filter((x) => within(x.at, DAY1, DAY1 + DAYS * DAY));
    const counts = new Map<string, number>();
    for (const x of reads) {
      const k = `${x.decision.action}/${x.decision.reason}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const got = new Map<string, number>(
      r.body.decisions.map((d: { action: string; reason: string; count: number }) => [
        `${d.action}/${d.reason}`,
        d.count,
      ]),
    );
    assert.deepEqual(got, counts);
    assert.equal(r.body.events, reads.length);
    const counted = r.body.decisions.map((d: { count: number }) => d.count);
    assert.deepEqual(
      counted,
      [...counted].sort((a, b) => b - a),
      'most frequent first',
    );
    assert.ok(got.get('open/entry')! > 0 && got.get('hold/review')! > 0, 'entries and reviews in the mix');
    assert.equal(
      r.body.reviews.reduce((n: number, x: { count: number }) => n + x.count, 0),
      reads.filter((x) => x.decision.reviewId !== null).length,
    );
    assert.ok(r.body.reviews.some((x: { reason: string }) => x.reason === 'no-session'));
  });

  it('confidence: 20 buckets of 0.05, each read in the one its confidence falls in (1 in the last)', async () => {
    const r = await get(`confidence?${range}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.buckets.length, 20);
    const expected = new Array<number>(20).fill(0);
    for (const x of park.reads.filter((x) => within(x.at, DAY1, DAY1 + DAYS * DAY)))
      expected[Math.min(19, Math.floor((Math.round(x.confidence * 10_000) * 20) / 10_000))]!++;
    assert.deepEqual(
      r.body.buckets.map((b: { count: number }) => b.count),
      expected,
    );
    assert.deepEqual(r.body.buckets[19], { from: 0.95, to: 1, count: expected[19] });
    assert.equal(
      r.body.reads,
      expected.reduce((a, b) => a + b),
    );
  });

  it('latency: no lane has timings until a gate reports them', async () => {
    const r = await get(`latency?${range}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.lanes, []);
    assert.equal(r.body.method, 'nearest-rank');
  });

  it('a range of one day with nothing in it: every bucket is there, empty', async () => {
    const r = await get('hourly?from=2026-01-10&to=2026-01-10');
    assert.equal(r.status, 200);
    assert.equal(r.body.hours.length, 24);
    assert.ok(r.body.hours.every((h: { entries: number; inside: number }) => h.entries === 0 && h.inside === 0));
  });

  it("buckets by the lot's own local time: a lot at UTC-05:30, its midnight edges exact", async () => {
    const offset = -330;
    const lot = await t.call('POST', '/v1/lots', {
      token: ADMIN_KEY,
      body: { name: 'West lot', tariff: { ...hourlyTariff, utcOffsetMinutes: offset } },
    });
    assert.equal(lot.status, 201, JSON.stringify(lot.body));
    const entry = await t.call('POST', `/v1/lots/${lot.body.id}/lanes`, {
      token: ADMIN_KEY,
      body: { name: 'in', direction: 'entry' },
    });
    // lot-local 2026-03-03 00:00 is 05:30 UTC
    const midnight = Date.UTC(2026, 2, 3) - offset * 60_000;
    const local = [-1, 0, 59 * 60_000 + 59_999, HOUR, DAY - 1, DAY];
    for (const [i, dt] of local.entries()) {
      const r = await t.call('POST', '/v1/events', {
        token: ADMIN_KEY,
        body: {
          eventId: `west-${i}`,
          laneId: entry.body.id,
          plate: `WST${347 + i}`,
          confidence: 0.9,
          at: midnight + dt,
        },
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const hourly = await t.call('GET', `/v1/lots/${lot.body.id}/stats/hourly?from=2026-03-03&to=2026-03-03`, {
      token: auditor,
    });
    assert.equal(hourly.body.start, midnight);
    assert.equal(hourly.body.insideAtStart, 1, 'the car a millisecond before midnight');
    const entries = hourly.body.hours.map((h: { entries: number }) => h.entries);
    assert.deepEqual(
      entries,
      Array.from({ length: 24 }, (_, h) => ({ 0: 2, 1: 1, 23: 1 })[h] ?? 0),
    );
    assert.deepEqual(hourly.body.hours.map((h: { inside: number }) => h.inside).slice(0, 2), [3, 4]);
    const daily = await t.call('GET', `/v1/lots/${lot.body.id}/stats/daily?from=2026-03-02&to=2026-03-04`, {
      token: auditor,
    });
    assert.deepEqual(
      daily.body.days.map((d: { day: string; entries: number }) => [d.day, d.entries]),
      [
        ['2026-03-02', 1],
        ['2026-03-03', 4],
        ['2026-03-04', 1],
      ],
    );
  });

  it('refuses a bad range with a 400 that names the parameter', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['from=2026-3-2&to=2026-03-03', 'INVALID_DAY', /^from: /],
      ['from=2026-02-30&to=2026-03-03', 'INVALID_DAY', /^from: "2026-02-30" is not a day/],
      ['from=2026-03-02&to=tomorrow', 'INVALID_DAY', /^to: /],
      ['from=2026-03-05&to=2026-03-02', 'INVALID_RANGE', /^to: 2026-03-02 is before from/],
      ['from=2026-01-01&to=2026-04-03', 'RANGE_TOO_LONG', /^to: .*93 days; a chart covers at most 92/],
      ['from=2026-03-02', 'BAD_REQUEST', /to/],
      ['from=2026-03-02&to=2026-03-02&lane=x', 'BAD_REQUEST', /lane|additional/],
    ];
    for (const [query, code, message] of cases) {
      for (const chart of ['hourly', 'daily', 'decisions', 'confidence', 'latency']) {
        const r = await get(`${chart}?${query}`);
        assert.equal(r.status, 400, `${chart}?${query}: ${JSON.stringify(r.body).slice(0, 300)}`);
        assert.equal(r.body.error.code, code, `${chart}?${query}`);
        assert.match(r.body.error.message, message, `${chart}?${query}`);
      }
    }
    // 92 days is the longest range allowed
    assert.equal((await get('daily?from=2026-01-01&to=2026-04-03')).status, 400);
    assert.equal((await get('daily?from=2026-01-01&to=2026-04-02')).status, 200);
  });

  it('every operator role may read; no key, a bad lot id or an unknown lot may not', async () => {
    const operator = (await t.call('POST', '/v1/keys', { token: ADMIN_KEY, body: { role: 'operator', label: 'o' } }))
      .body.secret;
    for (const token of [ADMIN_KEY, operator, auditor]) assert.equal((await get(`daily?${range}`, token)).status, 200);
    const anonymous = await t.call('GET', `/v1/lots/${lotId}/stats/daily?${range}`);
    assert.equal(anonymous.status, 401);
    const unknown = await t.call('GET', `/v1/lots/lot_${'0'.repeat(32)}/stats/daily?${range}`, { token: auditor });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
    const bad = await t.call('GET', `/v1/lots/nope/stats/daily?${range}`, { token: auditor });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /lotId/);
  });

  it('the endpoints are in the OpenAPI document with their schemas', async () => {
    const doc = await t.call('GET', '/docs/json');
    assert.equal(doc.status, 200);
    for (const chart of ['hourly', 'daily', 'decisions', 'confidence', 'latency']) {
      const op = doc.body.paths[`/v1/lots/{lotId}/stats/${chart}`]?.get;
      assert.ok(op, `${chart} documented`);
      assert.ok(op.responses['200'].content['application/json'].schema.properties.lotId, `${chart} answer schema`);
      assert.deepEqual(
        op.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name),
        ['from', 'to'],
      );
    }
  });
});
