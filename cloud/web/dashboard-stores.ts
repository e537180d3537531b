/**
 * Opens what the operator dashboard keeps besides the business data, for
 * the backend the service database is on (the same test as openStore):
 * - SQLite: the reads in their own file (`<database>.evidence`), gate state
 *   from this process's gate activity;
 * - PostgreSQL: both in the service database (schema `platepay_dashboard`,
 *   migration 4), shared by every instance, through a pool of their own, so
 *   evidence traffic never takes a connection a gate decision waits for.
 */
import pg from 'pg';
import type { GateActivity } from '../gates/gate-activity.js';
import { isPostgresUrl, pgTypes } from '../storage/postgres/pg-connection.js';
import type { GateBoard } from './gate-board.js';
import { localGateBoard } from './gate-board.js';
import type { LaneReadLog } from './lane-read-log.js';
import { SqliteLaneReadLog } from './lane-read-log.js';
import { PgGateBoard } from './pg-gate-board.js';
import { PgLaneReadLog } from './pg-lane-read-log.js';
import type { Log } from './write-queue.js';

export interface DashboardStores {
  reads: LaneReadLog;
  gates: GateBoard;
  /** Writes what is queued and closes. */
  close(): Promise<void>;
}

/** connections of the dashboard's PostgreSQL pool: one per write queue, one for the dashboards' reads */
const POOL_SIZE = 3;

export function openDashboardStores(database: string, activity: GateActivity, log: Log): DashboardStores {
  if (!isPostgresUrl(database)) {
    const reads = new SqliteLaneReadLog(SqliteLaneReadLog.pathFor(database), { log });
    const gates = localGateBoard(activity);
    return {
      reads,
      gates,
      async close() {
        await reads.close();
        await gates.close();
      },
    };
  }
  const pool = new pg.Pool({
    connectionString: database,
    max: POOL_SIZE,
    types: pgTypes,
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
    application_name: 'platepay-dashboard',
  });
  pool.on('error', () => undefined); // an idle connection dropped: the pool makes a new one
  const reads = new PgLaneReadLog(pool, { log });
  const gates = new PgGateBoard(pool, activity, log);
  return {
    reads,
    gates,
    async close() {
      const closed = await Promise.allSettled([reads.close(), gates.close()]);
      for (const c of closed) if (c.status === 'rejected') log.error({ err: c.reason }, 'closing the dashboard stores');
      await pool.end();
    },
  };
}
