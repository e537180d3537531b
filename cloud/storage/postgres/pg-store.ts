/**
 * The PostgreSQL implementation of the storage seam (`pg`), for running
 * several stateless `platepay cloud` instances on one database.
 *
 * Isolation: every `Store.transaction` runs at SERIALIZABLE. The business
 * logic reads, decides and writes inside one transaction as if it were
 * alone (it was written for SQLite, where one writer at a time makes that
 * true); SERIALIZABLE is what keeps that true with many instances and many
 * connections, without an analysis of each read-then-write: PostgreSQL
 * commits a set of transactions only if their result equals some serial
 * order of them, and aborts the others with a serialization failure
 * (SQLSTATE 40001). Explicit row locks would have to be added to every
 * decision (the exit matcher reads all unclosed sessions of a lot, the
 * wallet checks a balance against its credit limit, a plate may be linked
 * once), and one forgotten lock is a double charge. The UNIQUE constraints
 * (an event id, a settlement per session and per exit event, a journal
 * entry per reference, a ledger index) still make a double settlement
 * impossible even if the logic were wrong.
 *
 * Retries: a transaction aborted by a serialization failure or a deadlock
 * (40001, 40P01), or that lost the race for the next ledger index, is run
 * again from the start on a fresh snapshot, with a short random back-off;
 * nothing of the aborted attempt was kept. Any other error rejects. Because
 * a failed statement aborts a PostgreSQL transaction (SQLite would let the
 * unit go on), the first error of an attempt is remembered: an attempt
 * whose work swallowed a database error is never committed.
 *
 * Durability: a transaction resolves after its COMMIT returned, with the
 * server's `synchronous_commit` (on by default: flushed to the WAL).
 *
 * A retry takes a lock first (a session advisory lock, before its
 * snapshot), so retries run one after the other and cannot keep aborting
 * each other: under contention (exits in one lot all read the lot's
 * unclosed sessions, so two of them never commit side by side) the work
 * degrades to one writer at a time, as on SQLite, instead of a retry storm.
 *
 * A settlement's ledger record commits with the settlement, into
 * `ledger_queue`; the ledger sequencer (`pg-ledger-store.ts`) gives the
 * queued records their index in the log, in order, on its next tick. A
 * settlement therefore never contends for "the next index" with every
 * other settlement of every lot: it only inserts a row of its own.
 */
import pg from 'pg';
import { migrationSql, migrations } from '../migrations.js';
import { sessionKeys } from '../../sessions/plate-keys.js';
import type { Repositories, Store } from '../repositories.js';
import type { Row } from '../rows.js';
import { StorageError } from '../storage-errors.js';
import { PgLedger } from './pg-ledger-store.js';
import type { Query } from './pg-connection.js';
import { pgTypes } from './pg-connection.js';
import { PgDrivers, PgLinks, PgOperators } from './pg-accounts.js';
import { PgAccounts, PgSettlements } from './pg-money.js';
import { PgLots } from './pg-lots.js';
import { PgSessions } from './pg-sessions.js';
import { SqlPaymentRepository } from '../payment-repository.js';
import type { SqlSeam } from '../payment-repository.js';
import { SqlStatsRepository } from '../stats-repository.js';

export interface PgStoreOptions {
  /** connections in the pool (each serves one transaction at a time); default 8 */
  poolSize?: number;
  /** how many times a transaction is tried before its serialization failure is passed on; default 60 */
  maxAttempts?: number;
}

/** Counters of the work done so far (for benchmarks and tests). */
export interface PgStoreStats {
  commits: number;
  /** attempts aborted by PostgreSQL and run again */
  retries: number;
  failed: number;
}

const RETRYABLE = new Set(['40001', '40P01']);

/** how many dead pooled connections one transaction may come across before it gives up */
const STALE_CONNECTION_RETRIES = 16;

/** advisory locks (class 7311): 1 migrations, 2 the ledger sequencer, 3 transactions being retried */
const LOCK_CLASS = 7311;

const LOCK_RETRIES = 3;

/** SQLSTATEs that mean the server or the connection is gone, not that the request is wrong */
const UNAVAILABLE = /^(08|57P|53|58)/;

interface PgError {
  code?: string;
  constraint?: string;
}

function retryable(err: unknown): boolean {
  const e = err as PgError;
  if (!e || typeof e.code !== 'string') return false;
  return RETRYABLE.has(e.code);
}

/** A connection-level failure becomes a StorageError (503); anything else is passed on as it is. */
function storageError(err: unknown): unknown {
  const e = err as PgError & { message?: string };
  if (err instanceof StorageError) return err;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNAVAILABLE.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code)) {
    return new StorageError(`PostgreSQL is unavailable: ${e.message ?? code}`, { cause: err });
  }
  if (e instanceof Error && /Connection terminated|not queryable|Client was closed/i.test(e.message)) {
    return new StorageError(`PostgreSQL is unavailable: ${e.message}`, { cause: err });
  }
  return err;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** statement names, so each connection prepares a text once */
const statementNames = new Map<string, string>();

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (!name) {
    if (statementNames.size > 1000) return undefined;
    name = `pp${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name;
}

export class PgStore implements Store {
  private closed = false;
  private readonly maxAttempts: number;
  private readonly stats: PgStoreStats = { commits: 0, retries: 0, failed: 0 };

  private constructor(
    readonly pool: pg.Pool,
    readonly ledger: PgLedger,
    options: PgStoreOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 60;
  }

  /** Connects, migrates (one instance at a time) and loads the ledger copy. */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 8,
      types: pgTypes,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    });
    pool.on('error', () => undefined); // an idle connection dropped: the pool makes a new one
    // SERIALIZABLE locks what a statement read: a row range through an index, but a whole table
    // through a sequential scan, and then every writer of that table conflicts with it. Index
    // scans are favoured (as the PostgreSQL manual advises for serializable work) so that exits in
    // different lots do not abort each other while the tables are small.
    pool.on('connect', (client) => {
      // a connection ended by the server while checked out but between statements (an operator's
      // pg_terminate_backend, a failover) emits 'error' on the client: without a listener that would end
      // the process; the next statement on it fails instead and the transaction throws it away
      client.on('error', () => undefined);
      client.query('SET random_page_cost = 1.1; SET cpu_tuple_cost = 0.05').catch(() => undefined);
    });
    try {
      await migrate(pool);
      const ledger = await PgLedger.open(url, pool);
      return new PgStore(pool, ledger, options);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw storageError(err);
    }
  }

  async transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    let staleConnections = 0;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new StorageError('the store is closed');
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        this.stats.failed++;
        throw storageError(err);
      }
      let firstError: unknown = null;
      let broken = false;
      let again = false;
      let finished = false;
      // one statement at a time (the work may issue several at once), and none once the attempt is over:
      // a statement sent after ROLLBACK would run outside the transaction
      let statements: Promise<unknown> = Promise.resolve();
      const query: Query = (sql, params = []) => {
        const run = async (): Promise<Row[]> => {
          if (finished) throw new StorageError('a statement after its transaction ended');
          if (firstError !== null) throw firstError; // the transaction is aborted
          try {
            const name = statementName(sql);
            const result = await client.query(
              name ? { name, text: sql, values: params } : { text: sql, values: params },
            );
            return result.rows as Row[];
          } catch (err) {
            firstError = err;
            throw err;
          }
        };
        const result = statements.then(run, run);
        statements = result.catch(() => undefined);
        return result;
      };
      // a retry takes the writers' lock before its snapshot: retries run one at a time, so they cannot
      // keep aborting each other (only a first attempt running alongside can still make one fail)
      const serialised = attempt > 1;
      let begun = false;
      try {
        if (serialised) await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, LOCK_RETRIES]);
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        begun = true;
        const value = await work(repositories(query));
        await statements;
        if (firstError !== null) throw firstError; // the work went on after a failed statement: never commit that
        finished = true;
        await client.query('COMMIT');
        this.stats.commits++;
        return value;
      } catch (err) {
        await statements;
        finished = true;
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        // a pooled connection the server ended while it was idle (a restart, a failover, an operator)
        // fails its first statement: nothing ran, so the work is tried again on another connection
        if (!begun && broken && staleConnections++ < STALE_CONNECTION_RETRIES) {
          attempt--; // not an attempt at the work
          continue;
        }
        // the work may have wrapped the database's error in one of its own
        const cause = firstError !== null && retryable(firstError) ? firstError : err;
        if (broken || !retryable(cause) || attempt >= this.maxAttempts) {
          this.stats.failed++;
          throw storageError(cause);
        }
        this.stats.retries++;
        again = true;
      } finally {
        if (serialised && !broken) {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_RETRIES]).catch(() => {
            broken = true; // a connection that may still hold the lock is not reused
          });
        }
        client.release(broken);
      }
      if (again && attempt > 3) await sleep(Math.random() * 5);
    }
  }

  commitStats(): PgStoreStats {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ledger.close();
    await this.pool.end();
  }
}

/** Files the candidate keys of unclosed sessions that have none (left open by a version before migration 6). */
async function fillSessionKeys(client: pg.PoolClient): Promise<void> {
  const { rows } = await client.query(
    `SELECT id, lot_id, plate FROM parking_sessions
     WHERE status != 'closed' AND id NOT IN (SELECT session_id FROM session_keys)`,
  );
  for (const r of rows as Array<{ id: string; lot_id: string; plate: string }>) {
    await client.query(
      `INSERT INTO session_keys (lot_id, key, session_id) SELECT $1, k, $3 FROM unnest($2::text[]) AS k
       ON CONFLICT DO NOTHING`,
      [r.lot_id, sessionKeys(r.plate), r.id],
    );
  }
}

/** Applies the migrations not yet applied, under an advisory lock so instances starting together take turns. */
async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, 1)', [LOCK_CLASS]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const applied = new Set(
        (await client.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => Number(r.version)),
      );
      const known = new Set(migrations.map((m) => m.version));
      for (const v of applied) {
        if (!known.has(v))
          throw new StorageError(`the database has schema version ${v}, newer than this program knows`);
      }
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migrationSql(m, 'postgres'));
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      await fillSessionKeys(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, 1)', [LOCK_CLASS]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

function repositories(q: Query): Repositories {
  const seam: SqlSeam = {
    all: (sql, params) => q(numberedPlaceholders(sql), params),
    run: async (sql, params) => {
      await q(numberedPlaceholders(sql), params);
    },
  };
  return {
    drivers: new PgDrivers(q),
    accounts: new PgAccounts(q),
    links: new PgLinks(q),
    operators: new PgOperators(q),
    lots: new PgLots(q),
    sessions: new PgSessions(q),
    settlements: new PgSettlements(q),
    payments: new SqlPaymentRepository(seam),
    stats: new SqlStatsRepository(seam, 'postgres'),
  };
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the shared repositories' SQL has no `?` elsewhere) */
function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
