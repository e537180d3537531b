/**
 * The figures behind the operator console's charts, for one lot and a range
 * of lot-local days (`?from=YYYY-MM-DD&to=YYYY-MM-DD`, both included, at
 * most MAX_RANGE_DAYS): every API key role may read them (an auditor too).
 * The database does the counting (cloud/storage/stats-repository.ts); here
 * the range is checked, the lot's buckets are laid out with the empty ones
 * filled in, and each answer is shaped as its OpenAPI schema says.
 *
 * - `GET /v1/lots/:lotId/stats/hourly`: per lot-local hour, entries, exits,
 *   cars inside at the end of the hour, settlements and revenue;
 * - `.../stats/daily`: per day, the same counts plus lane events, review
 *   items and the review rate;
 * - `.../stats/decisions`: the decisions by action and reason, and the
 *   review items by reason;
 * - `.../stats/confidence`: lane events by read confidence, 20 buckets;
 * - `.../stats/latency`: trigger -> barrier open per lane, p50 and p99
 *   (nearest rank), from the timings the gates report.
 */
import { Type } from '@sinclair/typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../api/auth.js';
import { errorResponse } from '../api/http-errors.js';
import { notFound } from '../errors.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import type { Lot, StatsBucket, Store } from '../storage/repositories.js';
import type { DayRange } from './day-range.js';
import { DAY_MS, HOUR_MS, MAX_RANGE_DAYS, dayRange, localDay } from './day-range.js';

/** slices of the read confidence histogram, each 1/20 = 0.05 wide */
export const CONFIDENCE_BUCKETS = 20;

export interface StatsDeps {
  store: Store;
  keys: OperatorKeys;
}

const Count = Type.Integer({ minimum: 0 });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a lot-local day, YYYY-MM-DD' });
const Millis = Type.Integer({ description: 'ms since the epoch' });

/** what every answer starts with: the lot and the range it covers */
const Header = {
  lotId: Type.String(),
  from: Day,
  to: Day,
  /** lot-local time = UTC + this (the lot's tariff) */
  utcOffsetMinutes: Type.Integer(),
  /** the currency of the amounts (the lot's tariff) */
  currency: Type.String(),
  start: Type.Integer({ description: 'lot-local midnight at the start of `from` (ms since the epoch)' }),
  end: Type.Integer({ description: 'lot-local midnight at the end of `to` (ms since the epoch)' }),
};

const Hour = Type.Object({
  start: Millis,
  entries: Count,
  exits: Count,
  inside: Type.Integer({ description: 'cars inside at the end of the hour (entered, not yet read at an exit)' }),
  settlements: Count,
  revenue: Type.Integer({ description: 'settled amounts of stays that exited in the hour, minor units' }),
});
const Hourly = Type.Object({ ...Header, insideAtStart: Count, hours: Type.Array(Hour) });

const DayFigures = Type.Object({
  day: Day,
  start: Millis,
  entries: Count,
  exits: Count,
  settlements: Count,
  revenue: Type.Integer({ description: 'minor units' }),
  events: Type.Integer({ minimum: 0, description: 'lane events the cloud decided' }),
  reviews: Type.Integer({ minimum: 0, description: 'review items queued' }),
  reviewRate: Type.Union([Type.Number(), Type.Null()], { description: 'reviews / events; null without events' }),
});
const Daily = Type.Object({ ...Header, days: Type.Array(DayFigures) });

const Decisions = Type.Object({
  ...Header,
  events: Count,
  decisions: Type.Array(Type.Object({ action: Type.String(), reason: Type.String(), count: Count })),
  reviews: Type.Array(Type.Object({ reason: Type.String(), count: Count })),
});

const Confidence = Type.Object({
  ...Header,
  reads: Count,
  buckets: Type.Array(
    Type.Object({
      from: Type.Number({ description: 'confidence at least this' }),
      to: Type.Number({ description: 'and below this (the last bucket includes 1)' }),
      count: Count,
    }),
  ),
});

const Latency = Type.Object({
  ...Header,
  method: Type.Literal('nearest-rank', {
    description: 'p is the value at rank ceil(p * count) of the ordered times (as PostgreSQL percentile_disc)',
  }),
  lanes: Type.Array(
    Type.Object({
      laneId: Type.String(),
      laneName: Type.String(),
      count: Count,
      p50Ms: Count,
      p99Ms: Count,
      maxMs: Count,
    }),
  ),
});

const Params = Type.Object(
  { lotId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[0-9a-f]{32}$' }) },
  { additionalProperties: false },
);
const Query = Type.Object(
  {
    from: Type.String({ maxLength: 10, description: 'first lot-local day, YYYY-MM-DD' }),
    to: Type.String({ maxLength: 10, description: `last lot-local day, YYYY-MM-DD (at most ${MAX_RANGE_DAYS} days)` }),
  },
  { additionalProperties: false },
);
type Request = { Params: Static<typeof Params>; Querystring: Static<typeof Query> };

const schema = (summary: string, reply: TSchema) => ({
  tags: ['stats'],
  summary,
  params: Params,
  querystring: Query,
  response: { 200: reply, 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse },
});

export function statsRoutes(d: StatsDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const anyRole = requireRole(d.keys, 'admin', 'operator', 'auditor');

    /** the lot and the checked range, and the header every answer starts with */
    const begin = async (request: { params: { lotId: string }; query: { from: string; to: string } }) => {
      const lot = await d.store.transaction((repos) => repos.lots.lotById(request.params.lotId));
      if (!lot) throw notFound('lot', request.params.lotId);
      const range = dayRange(request.query.from, request.query.to, lot.tariff.utcOffsetMinutes);
      return { lot, range, header: header(lot, range), span: { lotId: lot.id, from: range.start, to: range.end } };
    };

    app.get<Request>(
      '/v1/lots/:lotId/stats/hourly',
      { schema: schema('Per lot-local hour: entries, exits, cars inside, revenue', Hourly), preHandler: anyRole },
      async (request): Promise<Static<typeof Hourly>> => {
        const { lot, range, header, span } = await begin(request);
        const { insideAtStart, buckets } = await d.store.transaction(async (repos) => ({
          insideAtStart: await repos.stats.insideAt(lot.id, range.start),
          buckets: await repos.stats.buckets(span, HOUR_MS, lot.tariff.currency),
        }));
        let inside = insideAtStart;
        const hours = filled(buckets, range.days * 24).map((b, i) => {
          inside += b.entries - b.exits;
          return {
            start: range.start + i * HOUR_MS,
            entries: b.entries,
            exits: b.exits,
            inside,
            settlements: b.settlements,
            revenue: b.revenue,
          };
        });
        return { ...header, insideAtStart, hours };
      },
    );

    app.get<Request>(
      '/v1/lots/:lotId/stats/daily',
      { schema: schema('Per lot-local day: entries, exits, revenue, review rate', Daily), preHandler: anyRole },
      async (request): Promise<Static<typeof Daily>> => {
        const { lot, range, header, span } = await begin(request);
        const buckets = await d.store.transaction((repos) => repos.stats.buckets(span, DAY_MS, lot.tariff.currency));
        const days = filled(buckets, range.days).map((b, i) => ({
          day: localDay(range.start + i * DAY_MS, lot.tariff.utcOffsetMinutes),
          start: range.start + i * DAY_MS,
          entries: b.entries,
          exits: b.exits,
          settlements: b.settlements,
          revenue: b.revenue,
          events: b.events,
          reviews: b.reviews,
          reviewRate: b.events ? b.reviews / b.events : null,
        }));
        return { ...header, days };
      },
    );

    app.get<Request>(
      '/v1/lots/:lotId/stats/decisions',
      { schema: schema('Decisions by action and reason; review items by reason', Decisions), preHandler: anyRole },
      async (request): Promise<Static<typeof Decisions>> => {
        const { header, span } = await begin(request);
        const { decisions, reviews } = await d.store.transaction(async (repos) => ({
          decisions: await repos.stats.decisions(span),
          reviews: await repos.stats.reviewReasons(span),
        }));
        return { ...header, events: decisions.reduce((n, x) => n + x.count, 0), decisions, reviews };
      },
    );

    app.get<Request>(
      '/v1/lots/:lotId/stats/confidence',
      { schema: schema('Lane events by read confidence (histogram)', Confidence), preHandler: anyRole },
      async (request): Promise<Static<typeof Confidence>> => {
        const { header, span } = await begin(request);
        const counts = await d.store.transaction((repos) => repos.stats.confidence(span, CONFIDENCE_BUCKETS));
        const buckets = Array.from({ length: CONFIDENCE_BUCKETS }, (_, i) => ({
          from: i / CONFIDENCE_BUCKETS,
          to: (i + 1) / CONFIDENCE_BUCKETS,
          count: counts.get(i) ?? 0,
        }));
        return { ...header, reads: buckets.reduce((n, b) => n + b.count, 0), buckets };
      },
    );

    app.get<Request>(
      '/v1/lots/:lotId/stats/latency',
      { schema: schema('Trigger -> barrier open per lane: p50, p99', Latency), preHandler: anyRole },
      async (request): Promise<Static<typeof Latency>> => {
        const { header, span } = await begin(request);
        const lanes = await d.store.transaction((repos) => repos.stats.latency(span));
        return { ...header, method: 'nearest-rank', lanes };
      },
    );
  };
}

function header(lot: Lot, range: DayRange) {
  return {
    lotId: lot.id,
    from: range.from,
    to: range.to,
    utcOffsetMinutes: lot.tariff.utcOffsetMinutes,
    currency: lot.tariff.currency,
    start: range.start,
    end: range.end,
  };
}

/** `count` buckets in order, the ones the database left out (nothing happened) as zeros */
function filled(buckets: StatsBucket[], count: number): StatsBucket[] {
  const byIndex = new Map(buckets.map((b) => [b.index, b]));
  return Array.from(
    { length: count },
    (_, index) =>
      byIndex.get(index) ?? { index, entries: 0, exits: 0, settlements: 0, revenue: 0, events: 0, reviews: 0 },
  );
}
