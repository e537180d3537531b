/**
 * The read log on PostgreSQL: `platepay_dashboard.lane_reads` (migration 4)
 * in the service database, written by every instance, so each instance's
 * dashboard shows the reads and crops of every gate, whichever instance the
 * gate is connected to, and they outlive a restart.
 *
 * Written behind (write-queue.ts), outside the settlement transactions, on
 * the dashboard's own small pool: a batch is one INSERT; an event sent to
 * two instances is kept once (the first). `changes()` is the highest row
 * number, so a dashboard polling it learns of reads other instances added.
 */
import type pg from 'pg';
import type { LaneEventSeen } from '../gates/gate-activity.js';
import type { LaneRead, LaneReadLog, LaneReadLogOptions, ReadRow, SelectedRow } from './lane-read-log.js';
import {
  PRUNE_EVERY,
  READ_BATCH,
  READ_COLUMNS,
  READ_QUEUE_LIMIT,
  SELECTED_COLUMNS,
  toRead,
  toReadRow,
} from './lane-read-log.js';
import { WriteQueue } from './write-queue.js';

const TABLE = 'platepay_dashboard.lane_reads';

export class PgLaneReadLog implements LaneReadLog {
  private readonly queue: WriteQueue<ReadRow>;
  private readonly keepDays: number;
  /** reads written since the last pruning */
  private sincePrune = 0;

  constructor(
    private readonly pool: pg.Pool,
    options: LaneReadLogOptions,
  ) {
    this.keepDays = options.keepDays ?? 30;
    this.queue = new WriteQueue<ReadRow>({
      what: 'lane reads',
      log: options.log,
      limit: READ_QUEUE_LIMIT,
      batch: READ_BATCH,
      write: (rows) => this.write(rows),
    });
  }

  add(e: LaneEventSeen): void {
    this.queue.push(toReadRow(e));
  }

  private async write(rows: ReadRow[]): Promise<void> {
    const values: unknown[] = [];
    const tuples = rows.map(
      (r) =>
        `(${READ_COLUMNS.map((c) => {
          values.push(r[c]);
          return `$${values.length}`;
        }).join(', ')})`,
    );
    await this.pool.query(
      `INSERT INTO ${TABLE} (${READ_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (event_id) DO NOTHING`,
      values,
    );
    this.sincePrune += rows.length;
    if (this.sincePrune >= PRUNE_EVERY) {
      this.sincePrune = 0;
      await this.pool.query(`DELETE FROM ${TABLE} WHERE received_at < $1`, [
        rows[rows.length - 1]!.received_at - this.keepDays * 86_400_000,
      ]);
    }
  }

  async recent(laneIds: string[], perLane: number): Promise<Map<string, LaneRead[]>> {
    await this.queue.flushed();
    const out = new Map<string, LaneRead[]>();
    if (laneIds.length === 0) return out;
    // one round trip for every lane, each lane's newest reads through its index
    const { rows } = await this.pool.query<SelectedRow>(
      `SELECT r.* FROM unnest($1::text[]) AS l(id) CROSS JOIN LATERAL (
         SELECT ${SELECTED_COLUMNS} FROM ${TABLE} x WHERE x.lane_id = l.id ORDER BY x.received_at DESC, x.seq DESC LIMIT $2
       ) r`,
      [laneIds, perLane],
    );
    for (const row of rows) {
      const read = toRead(row);
      const lane = out.get(read.laneId);
      if (lane) lane.push(read);
      else out.set(read.laneId, [read]);
    }
    return out;
  }

  async ofEvents(eventIds: string[]): Promise<Map<string, LaneRead>> {
    if (eventIds.length === 0) return new Map();
    await this.queue.flushed();
    const { rows } = await this.pool.query<SelectedRow>(
      `SELECT ${SELECTED_COLUMNS} FROM ${TABLE} WHERE event_id = ANY($1::text[])`,
      [eventIds],
    );
    return new Map(rows.map((r) => [r.event_id, toRead(r)]));
  }

  async crop(eventId: string): Promise<Buffer | null> {
    await this.queue.flushed();
    const { rows } = await this.pool.query<{ crop: Buffer | null }>(`SELECT crop FROM ${TABLE} WHERE event_id = $1`, [
      eventId,
    ]);
    return rows[0]?.crop ?? null;
  }

  async changes(): Promise<string> {
    const { rows } = await this.pool.query<{ seq: number | null }>(`SELECT max(seq) AS seq FROM ${TABLE}`);
    return String(rows[0]?.seq ?? 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
