/**
 * The PostgreSQL implementation of the storage seam (`pg`), for running
 * several stateless `platepay cloud` instances on one database.
 *
 * Isolation: every `Store.transaction` runs at READ COMMITTED, and the
 * decisions that read something and then write on the strength of it take
 * explicit locks, always in one order (session, then the driver's money,
 * then the gate):
 * - an exit locks the session it matched (`lockUnclosed`, `FOR NO KEY
 *   UPDATE`); one that waited for another exit of the same car finds the
 *   session closed, matches again without it, and is answered as the same
 *   car seen again;
 * - an entry locks its plate in the lot (a transaction-scoped advisory
 *   lock) before it looks for an unclosed session of it (anti-passback);
 * - a wallet charge, and a card charge let out on credit, lock the driver
 *   (`holdDriverMoney`) before the balance and the credit are read: credit
 *   is the driver's across all their wallets;
 * - every row read to be changed (a session, a pending payment, a review,
 *   a dispute, a top-up, a card charge) is read `FOR NO KEY UPDATE`, so a
 *   read-modify-write never overwrites a change committed in between;
 * - the gate's counter is raised with `GREATEST`, so it never goes down.
 * Everything else that must happen once has a UNIQUE constraint (an event
 * id, a settlement per session and per exit event, a journal entry per
 * reference, one system account per label, one active link per plate, a
 * review per event): a transaction that meets one (SQLSTATE 23505, a
 * concurrent copy of the same work committed first) is run again from the
 * start, and then finds the first one's result, as SQLite's single writer
 * would have. The constraints are the backstop whatever the logic above
 * them does.
 *
 * Round trips (pg-statements.ts): reads started together
 * (`Repositories.together`) are one statement, and see one snapshot: a
 * row lock one of them waits for does not refresh the others, so what is
 * decided after a lock is read after it (a wallet charge reads the balance
 * in the statement after the driver's hold). Writes are held and sent as
 * one statement before the next read or the COMMIT. A linked car's exit
 * through a gate is 7 statements: BEGIN; the gate, the event id, the lane,
 * the lot and the candidate sessions; the matched session's lock and the
 * plate's payer; the charge's reference and the driver's hold; the balance
 * and the revenue account; the writes; COMMIT.
 *
 * This replaced SERIALIZABLE, which aborted about 0.7-0.9 exits in 1 on a
 * retry storm (page-level SIREAD locks on the sessions' heap and on small
 * B-tree pages made unrelated exits conflict; BENCHMARKS.md).
 *
 * Retries: a transaction aborted by a serialization failure or a deadlock
 * (40001, 40P01), or by a UNIQUE constraint (23505, at most
 * UNIQUE_RETRIES times, then the violation is passed on), is run again
 * from the start with nothing of the aborted attempt kept. Any other error
 * rejects. Because a failed statement aborts a PostgreSQL transaction
 * (SQLite would let the unit go on), the first error of an attempt is
 * remembered: an attempt whose work swallowed a database error is never
 * committed.
 *
 * Durability: a transaction resolves after its COMMIT returned, with the
 * server's `synchronous_commit` (on by default: flushed to the WAL).
 *
 * A retry takes a lock first (a session advisory lock), so retries run one
 * after the other and cannot keep aborting each other.
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
import { TransactionStatements } from './pg-statements.js';
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
  /** statements sent to the server by transactions, BEGIN and COMMIT or ROLLBACK included */
  roundTrips: number;
}

const RETRYABLE = new Set(['40001', '40P01']);

/** unique_violation: a concurrent copy of the work committed first; the retry finds its result */
const UNIQUE_VIOLATION = '23505';
/** how many times one transaction is run again after a UNIQUE violation (a real duplicate stays one) */
const UNIQUE_RETRIES = 3;

/** how many dead pooled connections one transaction may come across before it gives up */
const STALE_CONNECTION_RETRIES = 16;

/** advisory locks (class 7311): 1 migrations, 2 the ledger sequencer, 3 transactions being retried; 7312 is a plate in a lot (pg-sessions.ts) */
const LOCK_CLASS = 7311;

const LOCK_RETRIES = 3;

/** SQLSTATEs that mean the server or the connection is gone, not that the request is wrong */
const UNAVAILABLE = /^(08|57P|53|58)/;

interface PgError {
  code?: string;
  constraint?: string;
}

function retryable(err: unknown, uniqueRetries: number): boolean {
  const e = err as PgError;
  if (!e || typeof e.code !== 'string') return false;
  return RETRYABLE.has(e.code) || (e.code === UNIQUE_VIOLATION && uniqueRetries < UNIQUE_RETRIES);
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

export class PgStore implements Store {
  private closed = false;
  private readonly maxAttempts: number;
  private readonly stats: PgStoreStats = { commits: 0, retries: 0, failed: 0, roundTrips: 0 };

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
    pool.on('connect', (client) => {
      // a connection ended by the server while checked out but between statements (an operator's
      // pg_terminate_backend, a failover) emits 'error' on the client: without a listener that would end
      // the process; the next statement on it fails instead and the transaction throws it away
      client.on('error', () => undefined);
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
    let uniqueRetries = 0;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new StorageError('the store is closed');
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        this.stats.failed++;
        throw storageError(err);
      }
      const statements = new TransactionStatements(client);
      let broken = false;
      let again = false;
      // a retry takes the writers' lock before its snapshot: retries run one at a time, so they cannot
      // keep aborting each other (only a first attempt running alongside can still make one fail)
      const serialised = attempt > 1;
      let begun = false;
      try {
        if (serialised) await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, LOCK_RETRIES]);
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        begun = true;
        const value = await work(repositories(statements));
        // the held writes are sent; the work went on after a failed statement: never commit that
        await statements.settle();
        await statements.end();
        await client.query('COMMIT');
        this.stats.commits++;
        this.stats.roundTrips += statements.roundTrips + 2;
        return value;
      } catch (err) {
        await statements.end();
        this.stats.roundTrips += statements.roundTrips + 2;
        const firstError = statements.firstError;
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
        const cause = firstError !== null && retryable(firstError, uniqueRetries) ? firstError : err;
        if (broken || !retryable(cause, uniqueRetries) || attempt >= this.maxAttempts) {
          this.stats.failed++;
          throw storageError(cause);
        }
        if ((cause as PgError).code === UNIQUE_VIOLATION) uniqueRetries++;
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

function repositories(statements: TransactionStatements): Repositories {
  const { read: q, write: w } = statements;
  const seam: SqlSeam = {
    all: (sql, params) => q(numberedPlaceholders(sql), params),
    run: (sql, params) => w(numberedPlaceholders(sql), params),
    rowLock: ' FOR NO KEY UPDATE',
  };
  return {
    drivers: new PgDrivers(q, w),
    accounts: new PgAccounts(q, w),
    links: new PgLinks(q, w),
    operators: new PgOperators(q, w),
    lots: new PgLots(q, w),
    sessions: new PgSessions(q, w),
    settlements: new PgSettlements(q, w),
    payments: new SqlPaymentRepository(seam),
    stats: new SqlStatsRepository(seam, 'postgres'),
    together: statements.together,
  };
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the shared repositories' SQL has no `?` elsewhere) */
function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
