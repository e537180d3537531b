/**
 * The figures behind the operator console's charts, computed in the
 * database (GROUP BY, window functions) so that only aggregates leave it:
 * one implementation for both backends over the same small SQL seam as the
 * payments (`?` placeholders), with the two spots where the dialects differ
 * (reading a JSON field, rounding down to an integer) given by `dialect`.
 *
 * Times are bucketed by `(t - from) / bucketMs` in integer arithmetic (the
 * CASTs: SQLite may take a bound number as a REAL), so that with
 * `from` a lot-local midnight and `bucketMs` an hour or a day, bucket i is
 * the i-th local hour or day of the range (lot-local time is a fixed UTC
 * offset). Tables: migration 1, and 7 for the barrier timings and the
 * indexes these queries use.
 */
import type { Dialect } from './migrations.js';
import type { SqlSeam } from './payment-repository.js';
import type { BarrierTiming, StatsBucket, StatsRange, StatsRepository } from './repositories.js';
import type { Row } from './rows.js';
import { num, str } from './rows.js';

export class SqlStatsRepository implements StatsRepository {
  constructor(
    private readonly db: SqlSeam,
    private readonly dialect: Dialect,
  ) {}

  /** the text of a JSON object's field */
  private jsonField(column: string, field: string): string {
    return this.dialect === 'sqlite' ? `json_extract(${column}, '$.${field}')` : `(${column}::jsonb ->> '${field}')`;
  }

  /** a non-negative number rounded down to an integer */
  private floorInt(expr: string): string {
    return this.dialect === 'sqlite' ? `CAST(${expr} AS INTEGER)` : `CAST(FLOOR(${expr}) AS BIGINT)`;
  }

  async insideAt(lotId: string, at: number) {
    const rows = await this.db.all(
      `SELECT COUNT(*) AS n FROM parking_sessions
       WHERE lot_id = ? AND entry_at < ? AND (exit_at IS NULL OR exit_at >= ?)`,
      [lotId, at, at],
    );
    return num(rows[0]?.n ?? 0);
  }

  async buckets({ lotId, from, to }: StatsRange, bucketMs: number, currency: string) {
    const rows = await this.db.all(
      `SELECT 'entries' AS k, CAST((entry_at - ?) / ? AS BIGINT) AS b, COUNT(*) AS n, 0 AS amount FROM parking_sessions
         WHERE lot_id = ? AND entry_at >= ? AND entry_at < ? GROUP BY 2
       UNION ALL
       SELECT 'exits', CAST((exit_at - ?) / ? AS BIGINT), COUNT(*), 0 FROM parking_sessions
         WHERE lot_id = ? AND exit_at >= ? AND exit_at < ? GROUP BY 2
       UNION ALL
       SELECT 'settlements', CAST((exit_at - ?) / ? AS BIGINT), COUNT(*), SUM(amount) FROM settlements
         WHERE lot_id = ? AND currency = ? AND exit_at >= ? AND exit_at < ? GROUP BY 2
       UNION ALL
       SELECT 'events', CAST((e.at - ?) / ? AS BIGINT), COUNT(*), 0 FROM lane_events e JOIN lanes l ON l.id = e.lane_id
         WHERE l.lot_id = ? AND e.at >= ? AND e.at < ? GROUP BY 2
       UNION ALL
       SELECT 'reviews', CAST((at - ?) / ? AS BIGINT), COUNT(*), 0 FROM review_items
         WHERE lot_id = ? AND at >= ? AND at < ? GROUP BY 2`,
      [
        ...[from, bucketMs, lotId, from, to],
        ...[from, bucketMs, lotId, from, to],
        ...[from, bucketMs, lotId, currency, from, to],
        ...[from, bucketMs, lotId, from, to],
        ...[from, bucketMs, lotId, from, to],
      ],
    );
    const byIndex = new Map<number, StatsBucket>();
    for (const r of rows) {
      const index = num(r.b);
      let b = byIndex.get(index);
      if (!b) {
        b = { index, entries: 0, exits: 0, settlements: 0, revenue: 0, events: 0, reviews: 0 };
        byIndex.set(index, b);
      }
      const kind = str(r.k) as 'entries' | 'exits' | 'settlements' | 'events' | 'reviews';
      b[kind] = num(r.n);
      if (kind === 'settlements') b.revenue = num(r.amount);
    }
    return [...byIndex.values()].sort((a, b) => a.index - b.index);
  }

  async decisions({ lotId, from, to }: StatsRange) {
    const rows = await this.db.all(
      `SELECT action, reason, COUNT(*) AS n FROM (
         SELECT ${this.jsonField('e.decision', 'action')} AS action, ${this.jsonField('e.decision', 'reason')} AS reason
         FROM lane_events e JOIN lanes l ON l.id = e.lane_id
         WHERE l.lot_id = ? AND e.at >= ? AND e.at < ?
       ) d GROUP BY action, reason ORDER BY n DESC, action, reason`,
      [lotId, from, to],
    );
    return rows.map((r: Row) => ({ action: str(r.action), reason: str(r.reason), count: num(r.n) }));
  }

  async reviewReasons({ lotId, from, to }: StatsRange) {
    const rows = await this.db.all(
      `SELECT reason, COUNT(*) AS n FROM review_items WHERE lot_id = ? AND at >= ? AND at < ?
       GROUP BY reason ORDER BY n DESC, reason`,
      [lotId, from, to],
    );
    return rows.map((r: Row) => ({ reason: str(r.reason), count: num(r.n) }));
  }

  async confidence({ lotId, from, to }: StatsRange, buckets: number) {
    // confidences come with at most 4 decimals (the gate rounds them): slice their integer ten-thousandths
    const tenThousandths = this.floorInt('e.confidence * 10000 + 0.5');
    const rows = await this.db.all(
      `SELECT CASE WHEN b >= ? THEN ? ELSE b END AS b, COUNT(*) AS n FROM (
         SELECT CAST(${tenThousandths} * ? / 10000 AS BIGINT) AS b FROM lane_events e JOIN lanes l ON l.id = e.lane_id
         WHERE l.lot_id = ? AND e.at >= ? AND e.at < ?
       ) c GROUP BY 1`,
      [buckets, buckets - 1, buckets, lotId, from, to],
    );
    const out = new Map<number, number>();
    for (const r of rows) out.set(num(r.b), (out.get(num(r.b)) ?? 0) + num(r.n));
    return out;
  }

  async latency({ lotId, from, to }: StatsRange) {
    const rows = await this.db.all(
      `SELECT r.lane_id, l.name, MAX(r.n) AS n,
         MAX(CASE WHEN r.rn = (50 * r.n + 99) / 100 THEN r.ms END) AS p50,
         MAX(CASE WHEN r.rn = (99 * r.n + 99) / 100 THEN r.ms END) AS p99,
         MAX(r.ms) AS max
       FROM (
         SELECT lane_id, trigger_to_barrier_ms AS ms,
           ROW_NUMBER() OVER (PARTITION BY lane_id ORDER BY trigger_to_barrier_ms) AS rn,
           COUNT(*) OVER (PARTITION BY lane_id) AS n
         FROM barrier_timings WHERE lot_id = ? AND triggered_at >= ? AND triggered_at < ?
       ) r JOIN lanes l ON l.id = r.lane_id
       GROUP BY r.lane_id, l.name ORDER BY l.name, r.lane_id`,
      [lotId, from, to],
    );
    return rows.map((r: Row) => ({
      laneId: str(r.lane_id),
      laneName: str(r.name),
      count: num(r.n),
      p50Ms: num(r.p50),
      p99Ms: num(r.p99),
      maxMs: num(r.max),
    }));
  }

  async recordBarrierTiming(t: BarrierTiming) {
    const before = await this.db.all('SELECT 1 AS x FROM barrier_timings WHERE event_id = ?', [t.eventId]);
    if (before.length) return false;
    await this.db.run(
      `INSERT INTO barrier_timings (event_id, gate_id, lot_id, lane_id, triggered_at, trigger_to_barrier_ms, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
      [t.eventId, t.gateId, t.lotId, t.laneId, t.triggeredAt, t.triggerToBarrierMs, t.receivedAt],
    );
    return true;
  }
}
