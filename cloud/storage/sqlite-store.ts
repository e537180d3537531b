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
import type { Tariff } from '../tariffs/tariff.js';
import { migrations } from './migrations.js';
import { SqliteLedgerStore } from '../ledger/ledger-store.js';
import type {
  AccountRepository,
  Driver,
  DriverRepository,
  Gate,
  JournalEntry,
  Lane,
  LinkRepository,
  Lot,
  LotRepository,
  OperatorKey,
  OperatorRepository,
  ParkingSession,
  PaymentAccount,
  PendingPayment,
  PlateDispute,
  PlateLink,
  Posting,
  Repositories,
  ReviewItem,
  SessionRepository,
  Settlement,
  SettlementRepository,
  Store,
  StoredLaneEvent,
} from './repositories.js';
import { StorageError } from './storage-errors.js';
import type { Row } from './rows.js';
import {
  str,
  num,
  SESSION_COLUMNS,
  sessionOfValues,
  toDriver,
  toAccount,
  toEntry,
  toLink,
  toDispute,
  toKey,
  toLot,
  toLane,
  toGate,
  toSession,
  toPending,
  toReview,
  toSettlement,
} from './rows.js';

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
    this.repos = {
      drivers: new SqliteDrivers(statements),
      accounts: new SqliteAccounts(statements),
      links: new SqliteLinks(statements),
      operators: new SqliteOperators(statements),
      lots: new SqliteLots(statements),
      sessions: this.sessions,
      settlements: new SqliteSettlements(statements, this.ledgerStore),
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

/** The repositories' statements, compiled once per SQL text and reused (SQLite re-prepares them after a schema change). */
class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}
  prepare(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (!statement) {
      if (this.cache.size >= 512) this.cache.clear(); // texts built for lists of varying length
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }
  /** the same, returning rows as arrays of column values (no per-row objects keyed by column name) */
  prepareRaw(sql: string): Database.Statement {
    let statement = this.raw.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).raw(true);
      this.raw.set(sql, statement);
    }
    return statement;
  }
  private readonly raw = new Map<string, Database.Statement>();
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

class SqliteDrivers implements DriverRepository {
  constructor(private readonly db: Statements) {}
  async insert(d: Driver) {
    this.db
      .prepare('INSERT INTO drivers (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(d.id, d.email, d.name, d.passwordHash, d.createdAt);
  }
  async byId(id: string) {
    return toDriver(this.db.prepare('SELECT * FROM drivers WHERE id = ?').get(id) as Row | undefined);
  }
  async byEmail(email: string) {
    return toDriver(this.db.prepare('SELECT * FROM drivers WHERE email = ?').get(email) as Row | undefined);
  }
  async insertToken(t: { tokenHash: string; driverId: string; expiresAt: number }) {
    this.db
      .prepare('INSERT INTO driver_tokens (token_hash, driver_id, expires_at) VALUES (?, ?, ?)')
      .run(t.tokenHash, t.driverId, t.expiresAt);
  }
  async tokenByHash(hash: string) {
    const r = this.db.prepare('SELECT * FROM driver_tokens WHERE token_hash = ?').get(hash) as Row | undefined;
    return r ? { tokenHash: str(r.token_hash), driverId: str(r.driver_id), expiresAt: num(r.expires_at) } : null;
  }
  async deleteExpiredTokens(now: number) {
    this.db.prepare('DELETE FROM driver_tokens WHERE expires_at <= ?').run(now);
  }
}

class SqliteAccounts implements AccountRepository {
  constructor(private readonly db: Statements) {}
  async insert(a: PaymentAccount) {
    this.db
      .prepare(
        'INSERT INTO payment_accounts (id, driver_id, kind, currency, credit_limit, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(a.id, a.driverId, a.kind, a.currency, a.creditLimit, a.label, a.createdAt);
  }
  async byId(id: string) {
    return toAccount(this.db.prepare('SELECT * FROM payment_accounts WHERE id = ?').get(id) as Row | undefined);
  }
  async ofDriver(driverId: string) {
    const rows = this.db
      .prepare('SELECT * FROM payment_accounts WHERE driver_id = ? ORDER BY created_at, id')
      .all(driverId) as Row[];
    return rows.map((r) => toAccount(r)!);
  }
  async systemAccount(label: string, currency: string) {
    return toAccount(
      this.db
        .prepare("SELECT * FROM payment_accounts WHERE kind = 'system' AND label = ? AND currency = ?")
        .get(label, currency) as Row | undefined,
    );
  }
  async balance(accountId: string) {
    const r = this.db
      .prepare('SELECT COALESCE(SUM(amount), 0) AS b FROM postings WHERE account_id = ?')
      .get(accountId) as Row;
    return num(r.b);
  }
  async entryByReference(reference: string) {
    const r = this.db.prepare('SELECT * FROM journal_entries WHERE reference = ?').get(reference) as Row | undefined;
    return r ? toEntry(r) : null;
  }
  async insertEntry(e: JournalEntry, postings: Posting[]) {
    const sum = postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0 || postings.length < 2) throw new StorageError(`journal entry ${e.id} does not balance`);
    this.db
      .prepare(
        'INSERT INTO journal_entries (id, kind, reference, currency, amount, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(e.id, e.kind, e.reference, e.currency, e.amount, e.createdAt);
    const insert = this.db.prepare('INSERT INTO postings (entry_id, account_id, amount) VALUES (?, ?, ?)');
    for (const p of postings) insert.run(p.entryId, p.accountId, p.amount);
  }
  async postingsOfEntry(entryId: string) {
    const rows = this.db.prepare('SELECT * FROM postings WHERE entry_id = ? ORDER BY account_id').all(entryId) as Row[];
    return rows.map((r) => ({ entryId: str(r.entry_id), accountId: str(r.account_id), amount: num(r.amount) }));
  }
  async postingsOf(accountId: string) {
    const rows = this.db
      .prepare(
        `SELECT p.entry_id, p.account_id, p.amount, e.kind, e.reference, e.created_at
         FROM postings p JOIN journal_entries e ON e.id = p.entry_id
         WHERE p.account_id = ? ORDER BY e.created_at, e.id`,
      )
      .all(accountId) as Row[];
    return rows.map((r) => ({
      entryId: str(r.entry_id),
      accountId: str(r.account_id),
      amount: num(r.amount),
      kind: str(r.kind) as JournalEntry['kind'],
      reference: str(r.reference),
      createdAt: num(r.created_at),
    }));
  }
  async totalOfAllPostings() {
    return num((this.db.prepare('SELECT COALESCE(SUM(amount), 0) AS s FROM postings').get() as Row).s);
  }
}

class SqliteLinks implements LinkRepository {
  constructor(private readonly db: Statements) {}
  async insert(l: PlateLink) {
    this.db
      .prepare(
        'INSERT INTO plate_links (id, plate, account_id, driver_id, created_at, removed_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(l.id, l.plate, l.accountId, l.driverId, l.createdAt, l.removedAt);
  }
  async byId(id: string) {
    return toLink(this.db.prepare('SELECT * FROM plate_links WHERE id = ?').get(id) as Row | undefined);
  }
  async activeByPlate(plate: string) {
    return toLink(
      this.db.prepare('SELECT * FROM plate_links WHERE plate = ? AND removed_at IS NULL').get(plate) as Row | undefined,
    );
  }
  async activeOfDriver(driverId: string) {
    const rows = this.db
      .prepare('SELECT * FROM plate_links WHERE driver_id = ? AND removed_at IS NULL ORDER BY created_at, id')
      .all(driverId) as Row[];
    return rows.map((r) => toLink(r)!);
  }
  async allActive() {
    return (this.db.prepare('SELECT * FROM plate_links WHERE removed_at IS NULL ORDER BY id').all() as Row[]).map((r) =>
      toLink(r)!,
    );
  }
  async remove(id: string, at: number) {
    this.db.prepare('UPDATE plate_links SET removed_at = ? WHERE id = ? AND removed_at IS NULL').run(at, id);
  }
  async insertDispute(d: PlateDispute) {
    this.db
      .prepare(
        `INSERT INTO plate_disputes (id, plate, claimant_driver_id, claimant_account_id, holder_link_id, reason, status, created_at, resolved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.id,
        d.plate,
        d.claimantDriverId,
        d.claimantAccountId,
        d.holderLinkId,
        d.reason,
        d.status,
        d.createdAt,
        d.resolvedAt,
      );
  }
  async disputeById(id: string) {
    return toDispute(this.db.prepare('SELECT * FROM plate_disputes WHERE id = ?').get(id) as Row | undefined);
  }
  async disputes(status?: PlateDispute['status']) {
    const rows = (
      status
        ? this.db.prepare('SELECT * FROM plate_disputes WHERE status = ? ORDER BY created_at, id').all(status)
        : this.db.prepare('SELECT * FROM plate_disputes ORDER BY created_at, id').all()
    ) as Row[];
    return rows.map((r) => toDispute(r)!);
  }
  async resolveDispute(id: string, status: PlateDispute['status'], at: number) {
    this.db.prepare('UPDATE plate_disputes SET status = ?, resolved_at = ? WHERE id = ?').run(status, at, id);
  }
}

class SqliteOperators implements OperatorRepository {
  constructor(private readonly db: Statements) {}
  async insertKey(k: OperatorKey) {
    this.db
      .prepare(
        'INSERT INTO operator_keys (id, key_hash, role, label, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(k.id, k.keyHash, k.role, k.label, k.createdAt, k.revokedAt);
  }
  async keyByHash(hash: string) {
    return toKey(this.db.prepare('SELECT * FROM operator_keys WHERE key_hash = ?').get(hash) as Row | undefined);
  }
  async keys() {
    return (this.db.prepare('SELECT * FROM operator_keys ORDER BY created_at, id').all() as Row[]).map((r) =>
      toKey(r)!,
    );
  }
  async revokeKey(id: string, at: number) {
    this.db.prepare('UPDATE operator_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }
}

class SqliteLots implements LotRepository {
  constructor(private readonly db: Statements) {}
  async insertLot(l: Lot) {
    this.db
      .prepare('INSERT INTO lots (id, name, tariff, created_at) VALUES (?, ?, ?, ?)')
      .run(l.id, l.name, JSON.stringify(l.tariff), l.createdAt);
  }
  async lotById(id: string) {
    return toLot(this.db.prepare('SELECT * FROM lots WHERE id = ?').get(id) as Row | undefined);
  }
  async lots() {
    return (this.db.prepare('SELECT * FROM lots ORDER BY created_at, id').all() as Row[]).map((r) => toLot(r)!);
  }
  async updateTariff(lotId: string, tariff: Tariff) {
    this.db.prepare('UPDATE lots SET tariff = ? WHERE id = ?').run(JSON.stringify(tariff), lotId);
  }
  async insertLane(l: Lane) {
    this.db
      .prepare('INSERT INTO lanes (id, lot_id, name, direction, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(l.id, l.lotId, l.name, l.direction, l.createdAt);
  }
  async laneById(id: string) {
    return toLane(this.db.prepare('SELECT * FROM lanes WHERE id = ?').get(id) as Row | undefined);
  }
  async lanesOf(lotId: string) {
    return (this.db.prepare('SELECT * FROM lanes WHERE lot_id = ? ORDER BY created_at, id').all(lotId) as Row[]).map(
      (r) => toLane(r)!,
    );
  }
  async insertGate(g: Gate) {
    this.db
      .prepare('INSERT INTO gates (id, lot_id, name, public_key, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(g.id, g.lotId, g.name, g.publicKey, g.createdAt, g.revokedAt);
  }
  async gateById(id: string) {
    return toGate(this.db.prepare('SELECT * FROM gates WHERE id = ?').get(id) as Row | undefined);
  }
  async gatesOf(lotId: string) {
    return (this.db.prepare('SELECT * FROM gates WHERE lot_id = ? ORDER BY created_at, id').all(lotId) as Row[]).map(
      (r) => toGate(r)!,
    );
  }
  async revokeGate(id: string, at: number) {
    this.db.prepare('UPDATE gates SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }
  async raiseGateCounter(id: string, counter: number) {
    this.db.prepare('UPDATE gates SET last_counter = MAX(last_counter, ?) WHERE id = ?').run(counter, id);
  }
}

/**
 * Sessions. Every lane event reads all the unclosed sessions of its lot (to match an exit, to catch a
 * second entry), and fetching them from SQLite each time costs as much as the rest of the event, so
 * the unclosed sessions of the lots read lately are kept in memory, in step with this repository's
 * writes (it is the only writer of parking_sessions). The copy is dropped whenever a unit or a batch
 * rolls back (SqliteStore calls `forgetCached`) and whenever another connection has committed
 * (PRAGMA data_version moved), so it never shows what the database does not hold.
 */
class SqliteSessions implements SessionRepository {
  /** lot id -> its unclosed sessions, ordered by (entryAt, id) as the query orders them */
  private readonly unclosed = new Map<string, ParkingSession[]>();
  private dataVersion: unknown = null;

  constructor(private readonly db: Statements) {}

  forgetCached(): void {
    this.unclosed.clear();
  }

  async insert(s: ParkingSession) {
    this.db
      .prepare(
        `INSERT INTO parking_sessions (id, lot_id, plate, entry_event_id, entry_lane_id, entry_at, entry_confidence, status,
           exit_event_id, exit_at, fee, paid_at, passback_flag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.lotId,
        s.plate,
        s.entryEventId,
        s.entryLaneId,
        s.entryAt,
        s.entryConfidence,
        s.status,
        s.exitEventId,
        s.exitAt,
        s.fee,
        s.paidAt,
        s.passbackFlag ? 1 : 0,
      );
    const list = this.unclosed.get(s.lotId);
    if (list && s.status !== 'closed') {
      // after the last session that sorts before it (ids are ASCII: JS and SQLite order them alike)
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const m = list[mid]!;
        if (m.entryAt < s.entryAt || (m.entryAt === s.entryAt && m.id < s.id)) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, { ...s });
    }
  }
  async byId(id: string) {
    return toSession(this.db.prepare('SELECT * FROM parking_sessions WHERE id = ?').get(id) as Row | undefined);
  }
  /** on every lane event, over every car in the lot: rows come as arrays, the cheapest form to read */
  async unclosedInLot(lotId: string) {
    const version = (this.db.prepareRaw('PRAGMA data_version').get() as unknown[])[0];
    if (version !== this.dataVersion) {
      this.unclosed.clear(); // another connection committed: what we hold may be stale
      this.dataVersion = version;
    }
    let list = this.unclosed.get(lotId);
    if (!list) {
      const rows = this.db
        .prepareRaw(
          `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE lot_id = ? AND status != 'closed' ORDER BY entry_at, id`,
        )
        .all(lotId) as unknown[][];
      list = rows.map(sessionOfValues);
      this.unclosed.set(lotId, list);
    }
    return list.map((s) => ({ ...s }));
  }
  async update(s: ParkingSession) {
    const { changes } = this.db
      .prepare(
        `UPDATE parking_sessions SET status = ?, exit_event_id = ?, exit_at = ?, fee = ?, paid_at = ?, passback_flag = ?
         WHERE id = ?`,
      )
      .run(s.status, s.exitEventId, s.exitAt, s.fee, s.paidAt, s.passbackFlag ? 1 : 0, s.id);
    if (changes === 0) return;
    const list = this.unclosed.get(s.lotId);
    const i = list ? list.findIndex((x) => x.id === s.id) : -1;
    if (!list || i < 0) {
      this.unclosed.clear(); // not where it should be (or not held): start again from the database
      return;
    }
    if (s.status === 'closed') list.splice(i, 1);
    else
      list[i] = {
        ...list[i]!,
        status: s.status,
        exitEventId: s.exitEventId,
        exitAt: s.exitAt,
        fee: s.fee,
        paidAt: s.paidAt,
        passbackFlag: s.passbackFlag,
      };
  }
  async ofPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const marks = plates.map(() => '?').join(', ');
    return (
      this.db
        .prepare(`SELECT * FROM parking_sessions WHERE plate IN (${marks}) ORDER BY entry_at DESC, id`)
        .all(...plates) as Row[]
    ).map((r) => toSession(r)!);
  }
  async eventById(id: string) {
    const r = this.db.prepare('SELECT * FROM lane_events WHERE id = ?').get(id) as Row | undefined;
    if (!r) return null;
    return {
      id: str(r.id),
      laneId: str(r.lane_id),
      kind: str(r.kind) as StoredLaneEvent['kind'],
      plate: str(r.plate),
      confidence: num(r.confidence),
      at: num(r.at),
      receivedAt: num(r.received_at),
      requestHash: str(r.request_hash),
      decision: str(r.decision),
    };
  }
  async insertEvent(e: StoredLaneEvent) {
    this.db
      .prepare(
        `INSERT INTO lane_events (id, lane_id, kind, plate, confidence, at, received_at, request_hash, decision)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.id, e.laneId, e.kind, e.plate, e.confidence, e.at, e.receivedAt, e.requestHash, e.decision);
  }
  async insertPendingPayment(p: PendingPayment) {
    this.db
      .prepare(
        `INSERT INTO pending_payments (id, session_id, plate, amount, currency, status, created_at, paid_at, paid_by_account_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(p.id, p.sessionId, p.plate, p.amount, p.currency, p.status, p.createdAt, p.paidAt, p.paidByAccountId);
  }
  async pendingPaymentById(id: string) {
    return toPending(this.db.prepare('SELECT * FROM pending_payments WHERE id = ?').get(id) as Row | undefined);
  }
  async pendingPaymentsOfPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const marks = plates.map(() => '?').join(', ');
    return (
      this.db
        .prepare(`SELECT * FROM pending_payments WHERE plate IN (${marks}) ORDER BY created_at DESC, id`)
        .all(...plates) as Row[]
    ).map((r) => toPending(r)!);
  }
  async updatePendingPayment(p: PendingPayment) {
    this.db
      .prepare('UPDATE pending_payments SET status = ?, paid_at = ?, paid_by_account_id = ? WHERE id = ?')
      .run(p.status, p.paidAt, p.paidByAccountId, p.id);
  }
  async insertReview(r: ReviewItem) {
    this.db
      .prepare(
        `INSERT INTO review_items (id, lot_id, lane_id, event_id, plate, confidence, at, reason, candidate_session_ids, status,
           created_at, resolution, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.id,
        r.lotId,
        r.laneId,
        r.eventId,
        r.plate,
        r.confidence,
        r.at,
        r.reason,
        JSON.stringify(r.candidateSessionIds),
        r.status,
        r.createdAt,
        r.resolution,
        r.resolvedAt,
      );
  }
  async reviewById(id: string) {
    return toReview(this.db.prepare('SELECT * FROM review_items WHERE id = ?').get(id) as Row | undefined);
  }
  async reviews(status?: ReviewItem['status']) {
    const rows = (
      status
        ? this.db.prepare('SELECT * FROM review_items WHERE status = ? ORDER BY created_at, id').all(status)
        : this.db.prepare('SELECT * FROM review_items ORDER BY created_at, id').all()
    ) as Row[];
    return rows.map((r) => toReview(r)!);
  }
  async openReviewCount() {
    return num((this.db.prepare("SELECT COUNT(*) AS n FROM review_items WHERE status = 'open'").get() as Row).n);
  }
  async updateReview(r: ReviewItem) {
    this.db
      .prepare('UPDATE review_items SET status = ?, resolution = ?, resolved_at = ? WHERE id = ?')
      .run(r.status, r.resolution, r.resolvedAt, r.id);
  }
}

class SqliteSettlements implements SettlementRepository {
  constructor(
    private readonly db: Statements,
    private readonly ledger: SqliteLedgerStore,
  ) {}
  async insert(s: Settlement) {
    this.db
      .prepare(
        `INSERT INTO settlements (id, exit_event_id, session_id, lot_id, account_id, driver_id, amount, currency, entry_at, exit_at,
           method, journal_entry_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.exitEventId,
        s.sessionId,
        s.lotId,
        s.accountId,
        s.driverId,
        s.amount,
        s.currency,
        s.entryAt,
        s.exitAt,
        s.method,
        s.journalEntryId,
        s.createdAt,
      );
  }
  async byId(id: string) {
    return toSettlement(this.db.prepare('SELECT * FROM settlements WHERE id = ?').get(id) as Row | undefined);
  }
  async byExitEvent(exitEventId: string) {
    return toSettlement(
      this.db.prepare('SELECT * FROM settlements WHERE exit_event_id = ?').get(exitEventId) as Row | undefined,
    );
  }
  async ofDriver(driverId: string) {
    return (
      this.db.prepare('SELECT * FROM settlements WHERE driver_id = ? ORDER BY created_at, id').all(driverId) as Row[]
    ).map((r) => toSettlement(r)!);
  }
  async appendLedgerRecord(settlementId: string, record: string, at: number) {
    return this.ledger.appendRecords([{ ref: settlementId, record }], at);
  }
  async ledgerRecordOf(settlementId: string) {
    const r = this.ledger.recordByRef(settlementId);
    return r ? { index: r.index, settlementId, record: r.record, createdAt: r.createdAt } : null;
  }
  async ledgerSize() {
    return this.ledger.recordCount();
  }
}
