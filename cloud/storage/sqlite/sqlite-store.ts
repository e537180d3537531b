/**
 * The SQLite implementation of the storage seam (better-sqlite3).
 *
 * Durability: WAL with `synchronous = FULL`, so a transaction that has
 * resolved survives a crash or power loss. Concurrency: better-sqlite3 is
 * synchronous and one connection serves the process, so transactions are
 * queued and run one at a time; a transaction's awaits never let another
 * unit's statements into it.
 *
 * Group commit (the default, `groupCommit: true`): the units queued when the
 * store gets to run are taken together (at most `maxBatch`) into ONE SQLite
 * transaction, `BEGIN IMMEDIATE ... COMMIT`, one fsync for all of them. Each
 * unit still runs alone and in queue order, inside its own SAVEPOINT: a unit
 * that throws is rolled back to its savepoint and only its promise rejects;
 * the others are unaffected. Every promise of a batch settles only after its
 * COMMIT returned, so a unit that resolved is durable, and nothing of a
 * batch is visible to another connection before that COMMIT. When BEGIN
 * fails (the write lock is held elsewhere), every unit of the batch rejects.
 * When COMMIT fails (or SQLite itself rolls the whole transaction back),
 * nothing of the batch is kept, and each of its units that did not fail by itself is
 * run again alone, in order, before anything queued after it: one unit the
 * database refuses (a full disk refuses writes, not reads; a constraint
 * checked at COMMIT) fails alone instead of taking its batch with it. A
 * unit's work may therefore run more than once; only its last run is kept
 * (on PostgreSQL a retried transaction does the same). A batch is
 * started from `setImmediate`, after pending I/O callbacks (such as gate
 * messages) have queued their units, so under load a batch gathers the
 * units of everything that arrived meanwhile; under light load it adds no
 * wait.
 *
 * `groupCommit: false` gives each unit its own SQLite transaction (one
 * fsync per unit).
 */
import { performance } from 'node:perf_hooks';
import { accessSync, constants as fsConstants } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../migrations.js';
import { sessionKeys } from '../../sessions/plate-keys.js';
import { SqliteLedgerStore } from '../../ledger/ledger-store.js';
import type { Repositories, Store } from '../repositories.js';
import { StorageError } from '../storage-errors.js';
import { Statements } from './sqlite-statements.js';
import { SqliteDrivers, SqliteLinks, SqliteOperators } from './sqlite-accounts.js';
import { SqliteAccounts, SqliteSettlements } from './sqlite-money.js';
import { SqliteLots } from './sqlite-lots.js';
import { SqliteSessions } from './sqlite-sessions.js';
import { SqlPaymentRepository } from '../payment-repository.js';
import type { SqlSeam } from '../payment-repository.js';
import { SqlStatsRepository } from '../stats-repository.js';
import type { Row } from '../rows.js';

export interface SqliteStoreOptions {
  /** run the queued transactions together in one SQLite transaction (one fsync); default true */
  groupCommit?: boolean;
  /** at most this many units in one SQLite transaction; default 256 */
  maxBatch?: number;
  /** how long to wait for another connection's write lock (ms); default 5000 */
  busyTimeoutMs?: number;
}

/** Counters of the commits done so far (for benchmarks and tests). */
export interface CommitStats {
  /** SQLite transactions committed */
  commits: number;
  /** units (Store.transaction calls) that resolved */
  units: number;
  /** units that rejected (their own error, or their batch failed) */
  failedUnits: number;
  /** batches whose BEGIN or COMMIT failed */
  failedBatches: number;
  /** the most units in one SQLite transaction */
  largestBatch: number;
  /** time spent in COMMIT (the fsync), ms */
  commitMs: number;
}

interface Unit {
  work: (repos: Repositories) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** run in a batch of its own (its batch failed as a whole once) */
  alone?: boolean;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export const DEFAULT_MAX_BATCH = 256;

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly repos: Repositories;
  /** holds a copy of the unclosed sessions, which must be dropped when anything rolls back */
  private readonly sessions: SqliteSessions;
  private readonly groupCommit: boolean;
  private readonly maxBatch: number;
  /** the one-unit-per-transaction chain (groupCommit off) */
  private queue: Promise<unknown> = Promise.resolve();
  /** units waiting for the next batch (groupCommit on) */
  private pending: Unit[] = [];
  /** the batch loop, while it runs or is scheduled */
  private draining: Promise<void> | null = null;
  private closed = false;
  private readonly stats: CommitStats = {
    commits: 0,
    units: 0,
    failedUnits: 0,
    failedBatches: 0,
    largestBatch: 0,
    commitMs: 0,
  };

  /** the ledger's tables live in the same database, so a settlement and its record commit together */
  readonly ledgerStore: SqliteLedgerStore;
  /** each unit of a batch runs between these two (prepared once: they run for every unit) */
  private readonly savepoint: Database.Statement;
  private readonly release: Database.Statement;

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.groupCommit = options.groupCommit ?? true;
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new StorageError(`maxBatch must be a positive integer`);
    this.maxBatch = maxBatch;
    this.savepoint = db.prepare('SAVEPOINT unit');
    this.release = db.prepare('RELEASE unit');
    this.ledgerStore = new SqliteLedgerStore(db);
    const statements = new Statements(db);
    this.sessions = new SqliteSessions(statements);
    const seam: SqlSeam = {
      all: async (sql, params) => statements.prepare(sql).all(...params) as Row[],
      rowLock: '',
      run: async (sql, params) => {
        statements.prepare(sql).run(...params);
      },
    };
    this.repos = {
      drivers: new SqliteDrivers(statements),
      accounts: new SqliteAccounts(statements),
      links: new SqliteLinks(statements),
      operators: new SqliteOperators(statements),
      lots: new SqliteLots(statements),
      sessions: this.sessions,
      settlements: new SqliteSettlements(statements, this.ledgerStore),
      payments: new SqlPaymentRepository(seam),
      stats: new SqlStatsRepository(seam, 'sqlite'),
      together: (reads) => reads(),
    };
  }

  /** Opens (creating if needed) the database at `path` (":memory:" for a throwaway one) and migrates it. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (err) {
      throw openError(path, err);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      migrate(db);
      fillSessionKeys(db);
      return new SqliteStore(db, options);
    } catch (err) {
      db.close();
      throw openError(path, err);
    }
  }

  /** Runs synchronous `work` as a unit of its own (for the ledger): after every unit queued before it, durable when it resolves. */
  exclusive<T>(work: () => T): Promise<T> {
    return this.transaction(async () => work());
  }

  transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    if (!this.groupCommit) return this.transactionAlone(work);
    if (this.closed) return Promise.reject(new StorageError('the store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) this.draining = this.drain();
    });
  }

  /** What has been committed so far. */
  commitStats(): CommitStats {
    return { ...this.stats };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    while (this.draining) await this.draining;
    if (!this.db.open) return;
    // Left in rollback-journal mode, the file can be read later by a read-only connection
    // (`platepay ledger export`) that adds no -wal and -shm files beside it. Best effort: while
    // another connection has it open, or the disk refuses, it stays in WAL mode (reopened as usual).
    try {
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('journal_mode = DELETE');
    } catch {
      // stays in WAL mode
    }
    this.db.close();
  }

  /** One unit, one SQLite transaction (groupCommit off). */
  private transactionAlone<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (!this.db.open) throw new StorageError('the store is closed');
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.repos);
        const started = performance.now();
        this.db.exec('COMMIT');
        this.stats.commitMs += performance.now() - started;
        this.stats.commits++;
        this.stats.units++;
        this.stats.largestBatch = Math.max(this.stats.largestBatch, 1);
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.sessions.forgetCached();
        this.stats.failedUnits++;
        throw err;
      }
    };
    if (this.closed) return Promise.reject(new StorageError('the store is closed'));
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Runs batches until no unit is waiting; each batch starts after pending I/O callbacks had their turn. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        // a unit to run alone goes by itself; the others up to the next such unit go together
        let size = 1;
        if (!this.pending[0]!.alone) {
          while (size < Math.min(this.maxBatch, this.pending.length) && !this.pending[size]!.alone) size++;
        }
        await this.runBatch(this.pending.splice(0, size));
      }
    } finally {
      this.draining = null;
    }
  }

  private async runBatch(batch: Unit[]): Promise<void> {
    const outcomes: Outcome[] = [];
    let batchError: unknown = null;
    // a BEGIN that fails (the write lock is held elsewhere) fails every unit: running them alone would not help
    let begun = false;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      begun = true;
    } catch (err) {
      batchError = err;
    }
    let ran = 0;
    if (batchError === null) {
      for (; ran < batch.length; ran++) {
        const unit = batch[ran]!;
        try {
          this.savepoint.run();
          const value = await unit.work(this.repos);
          this.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          outcomes.push({ ok: false, error });
          if (!this.rollBackUnit()) {
            // SQLite rolled the whole transaction back (or could not undo the unit): the batch is lost
            batchError = new StorageError(
              `the batch was rolled back after a failed unit: ${(error as Error)?.message ?? String(error)}`,
            );
            ran++;
            break;
          }
        }
      }
    }
    if (batchError === null) {
      const started = performance.now();
      try {
        this.db.exec('COMMIT');
      } catch (err) {
        batchError = err;
      }
      this.stats.commitMs += performance.now() - started;
    }
    if (batchError !== null && this.db.inTransaction) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // nothing more can be done: the connection rolls back when closed
      }
    }
    if (batchError !== null) this.sessions.forgetCached();
    if (batchError === null) {
      this.stats.commits++;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    } else {
      this.stats.failedBatches++;
    }
    // units not run (the batch broke before them) go back to the head of the queue
    if (ran < batch.length && batchError !== null && outcomes.length > 0) {
      this.pending.unshift(...batch.slice(ran));
      batch = batch.slice(0, ran);
    }
    const again: Unit[] = [];
    batch.forEach((unit, i) => {
      const o = outcomes[i];
      if (o && !o.ok) {
        this.stats.failedUnits++;
        unit.reject(o.error);
      } else if (batchError !== null && begun && batch.length > 1) {
        again.push({ ...unit, alone: true }); // nothing of it was kept: it runs again by itself
      } else if (batchError !== null) {
        this.stats.failedUnits++;
        unit.reject(batchError);
      } else {
        this.stats.units++;
        unit.resolve(o!.ok ? o!.value : undefined);
      }
    });
    this.pending.unshift(...again);
  }

  /** Undoes the current unit's savepoint; false when the enclosing transaction is gone. */
  private rollBackUnit(): boolean {
    this.sessions.forgetCached();
    if (!this.db.inTransaction) return false;
    try {
      this.db.exec('ROLLBACK TO unit');
      this.db.exec('RELEASE unit');
      return true;
    } catch {
      return false;
    }
  }
}

/** Why a database could not be opened, in words an operator can act on (a read-only disk, a missing folder). */
function openError(path: string, err: unknown): Error {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^SQLITE_(CANTOPEN|READONLY|IOERR)/.test(code)) return err as Error;
  const folder = dirname(resolvePath(path));
  let why = (err as Error).message;
  try {
    accessSync(folder, fsConstants.W_OK);
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    why =
      c === 'EROFS'
        ? 'its folder is on a read-only filesystem'
        : c === 'ENOENT'
          ? 'its folder does not exist'
          : `its folder is not writable (${c})`;
  }
  if (code.startsWith('SQLITE_READONLY')) why = 'the file is read-only';
  return new StorageError(`cannot open the database ${path} for writing: ${why}`);
}

/** Files the candidate keys of unclosed sessions that have none (left open by a version before migration 6). */
function fillSessionKeys(db: Database.Database): void {
  const rows = db
    .prepare(
      `SELECT id, lot_id, plate FROM parking_sessions
       WHERE status != 'closed' AND id NOT IN (SELECT session_id FROM session_keys)`,
    )
    .all() as Array<{ id: string; lot_id: string; plate: string }>;
  if (rows.length === 0) return;
  const insert = db.prepare('INSERT OR IGNORE INTO session_keys (lot_id, key, session_id) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const r of rows) for (const key of sessionKeys(r.plate)) insert.run(r.lot_id, key, r.id);
  })();
}

function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
  );
  const known = new Set(migrations.map((m) => m.version));
  for (const v of applied) {
    if (!known.has(v)) throw new StorageError(`the database has schema version ${v}, newer than this program knows`);
  }
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        Date.now(),
      );
    })();
  }
}
