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
import type { Tariff } from '../tariffs/tariff.js';
import { migrationSql, migrations } from './migrations.js';
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
import type { Row } from './rows.js';
import { StorageError } from './storage-errors.js';
import {
  SESSION_COLUMNS,
  toAccount,
  toDispute,
  toDriver,
  toEntry,
  toGate,
  toKey,
  toLane,
  toLink,
  toLot,
  toPending,
  toReview,
  toSession,
  toSettlement,
} from './rows.js';
import { PgLedger } from './pg-ledger-store.js';

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

/** int8 (COUNT, BIGINT columns) and numeric (SUM of BIGINT) as JS numbers: every value here is below 2^53. */
export const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** true for a URL that selects PostgreSQL */
export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

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

/** Runs one statement of one transaction attempt. */
type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

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
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, 1)', [LOCK_CLASS]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

function repositories(q: Query): Repositories {
  return {
    drivers: new PgDrivers(q),
    accounts: new PgAccounts(q),
    links: new PgLinks(q),
    operators: new PgOperators(q),
    lots: new PgLots(q),
    sessions: new PgSessions(q),
    settlements: new PgSettlements(q),
  };
}

const one = async (rows: Promise<Row[]>): Promise<Row | undefined> => (await rows)[0];

class PgDrivers implements DriverRepository {
  constructor(private readonly q: Query) {}
  async insert(d: Driver) {
    await this.q('INSERT INTO drivers (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
      d.id,
      d.email,
      d.name,
      d.passwordHash,
      d.createdAt,
    ]);
  }
  async byId(id: string) {
    return toDriver(await one(this.q('SELECT * FROM drivers WHERE id = $1', [id])));
  }
  async byEmail(email: string) {
    return toDriver(await one(this.q('SELECT * FROM drivers WHERE email = $1', [email])));
  }
  async insertToken(t: { tokenHash: string; driverId: string; expiresAt: number }) {
    await this.q('INSERT INTO driver_tokens (token_hash, driver_id, expires_at) VALUES ($1, $2, $3)', [
      t.tokenHash,
      t.driverId,
      t.expiresAt,
    ]);
  }
  async tokenByHash(hash: string) {
    const r = await one(this.q('SELECT * FROM driver_tokens WHERE token_hash = $1', [hash]));
    return r
      ? { tokenHash: r.token_hash as string, driverId: r.driver_id as string, expiresAt: r.expires_at as number }
      : null;
  }
  async deleteExpiredTokens(now: number) {
    await this.q('DELETE FROM driver_tokens WHERE expires_at <= $1', [now]);
  }
}

class PgAccounts implements AccountRepository {
  constructor(private readonly q: Query) {}
  async insert(a: PaymentAccount) {
    await this.q(
      'INSERT INTO payment_accounts (id, driver_id, kind, currency, credit_limit, label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [a.id, a.driverId, a.kind, a.currency, a.creditLimit, a.label, a.createdAt],
    );
  }
  async byId(id: string) {
    return toAccount(await one(this.q('SELECT * FROM payment_accounts WHERE id = $1', [id])));
  }
  async ofDriver(driverId: string) {
    const rows = await this.q('SELECT * FROM payment_accounts WHERE driver_id = $1 ORDER BY created_at, id', [
      driverId,
    ]);
    return rows.map((r) => toAccount(r)!);
  }
  async systemAccount(label: string, currency: string) {
    return toAccount(
      await one(
        this.q("SELECT * FROM payment_accounts WHERE kind = 'system' AND label = $1 AND currency = $2", [
          label,
          currency,
        ]),
      ),
    );
  }
  async balance(accountId: string) {
    const r = await one(
      this.q('SELECT COALESCE(SUM(amount), 0) AS b FROM postings WHERE account_id = $1', [accountId]),
    );
    return r!.b as number;
  }
  async entryByReference(reference: string) {
    const r = await one(this.q('SELECT * FROM journal_entries WHERE reference = $1', [reference]));
    return r ? toEntry(r) : null;
  }
  async insertEntry(e: JournalEntry, postings: Posting[]) {
    const sum = postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0 || postings.length < 2) throw new StorageError(`journal entry ${e.id} does not balance`);
    await this.q(
      'INSERT INTO journal_entries (id, kind, reference, currency, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.id, e.kind, e.reference, e.currency, e.amount, e.createdAt],
    );
    for (const p of postings) {
      await this.q('INSERT INTO postings (entry_id, account_id, amount) VALUES ($1, $2, $3)', [
        p.entryId,
        p.accountId,
        p.amount,
      ]);
    }
  }
  async postingsOfEntry(entryId: string) {
    const rows = await this.q('SELECT * FROM postings WHERE entry_id = $1 ORDER BY account_id', [entryId]);
    return rows.map((r) => ({
      entryId: r.entry_id as string,
      accountId: r.account_id as string,
      amount: r.amount as number,
    }));
  }
  async postingsOf(accountId: string) {
    const rows = await this.q(
      `SELECT p.entry_id, p.account_id, p.amount, e.kind, e.reference, e.created_at
       FROM postings p JOIN journal_entries e ON e.id = p.entry_id
       WHERE p.account_id = $1 ORDER BY e.created_at, e.id`,
      [accountId],
    );
    return rows.map((r) => ({
      entryId: r.entry_id as string,
      accountId: r.account_id as string,
      amount: r.amount as number,
      kind: r.kind as JournalEntry['kind'],
      reference: r.reference as string,
      createdAt: r.created_at as number,
    }));
  }
  async totalOfAllPostings() {
    return (await one(this.q('SELECT COALESCE(SUM(amount), 0) AS s FROM postings')))!.s as number;
  }
}

class PgLinks implements LinkRepository {
  constructor(private readonly q: Query) {}
  async insert(l: PlateLink) {
    await this.q(
      'INSERT INTO plate_links (id, plate, account_id, driver_id, created_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [l.id, l.plate, l.accountId, l.driverId, l.createdAt, l.removedAt],
    );
  }
  async byId(id: string) {
    return toLink(await one(this.q('SELECT * FROM plate_links WHERE id = $1', [id])));
  }
  async activeByPlate(plate: string) {
    return toLink(await one(this.q('SELECT * FROM plate_links WHERE plate = $1 AND removed_at IS NULL', [plate])));
  }
  async activeOfDriver(driverId: string) {
    const rows = await this.q(
      'SELECT * FROM plate_links WHERE driver_id = $1 AND removed_at IS NULL ORDER BY created_at, id',
      [driverId],
    );
    return rows.map((r) => toLink(r)!);
  }
  async allActive() {
    return (await this.q('SELECT * FROM plate_links WHERE removed_at IS NULL ORDER BY id')).map((r) => toLink(r)!);
  }
  async remove(id: string, at: number) {
    await this.q('UPDATE plate_links SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL', [at, id]);
  }
  async insertDispute(d: PlateDispute) {
    await this.q(
      `INSERT INTO plate_disputes (id, plate, claimant_driver_id, claimant_account_id, holder_link_id, reason, status, created_at, resolved_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        d.id,
        d.plate,
        d.claimantDriverId,
        d.claimantAccountId,
        d.holderLinkId,
        d.reason,
        d.status,
        d.createdAt,
        d.resolvedAt,
      ],
    );
  }
  async disputeById(id: string) {
    return toDispute(await one(this.q('SELECT * FROM plate_disputes WHERE id = $1', [id])));
  }
  async disputes(status?: PlateDispute['status']) {
    const rows = status
      ? await this.q('SELECT * FROM plate_disputes WHERE status = $1 ORDER BY created_at, id', [status])
      : await this.q('SELECT * FROM plate_disputes ORDER BY created_at, id');
    return rows.map((r) => toDispute(r)!);
  }
  async resolveDispute(id: string, status: PlateDispute['status'], at: number) {
    await this.q('UPDATE plate_disputes SET status = $1, resolved_at = $2 WHERE id = $3', [status, at, id]);
  }
}

class PgOperators implements OperatorRepository {
  constructor(private readonly q: Query) {}
  async insertKey(k: OperatorKey) {
    await this.q(
      'INSERT INTO operator_keys (id, key_hash, role, label, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [k.id, k.keyHash, k.role, k.label, k.createdAt, k.revokedAt],
    );
  }
  async keyByHash(hash: string) {
    return toKey(await one(this.q('SELECT * FROM operator_keys WHERE key_hash = $1', [hash])));
  }
  async keys() {
    return (await this.q('SELECT * FROM operator_keys ORDER BY created_at, id')).map((r) => toKey(r)!);
  }
  async revokeKey(id: string, at: number) {
    await this.q('UPDATE operator_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
  }
}

class PgLots implements LotRepository {
  constructor(private readonly q: Query) {}
  async insertLot(l: Lot) {
    await this.q('INSERT INTO lots (id, name, tariff, created_at) VALUES ($1, $2, $3, $4)', [
      l.id,
      l.name,
      JSON.stringify(l.tariff),
      l.createdAt,
    ]);
  }
  async lotById(id: string) {
    return toLot(await one(this.q('SELECT * FROM lots WHERE id = $1', [id])));
  }
  async lots() {
    return (await this.q('SELECT * FROM lots ORDER BY created_at, id')).map((r) => toLot(r)!);
  }
  async updateTariff(lotId: string, tariff: Tariff) {
    await this.q('UPDATE lots SET tariff = $1 WHERE id = $2', [JSON.stringify(tariff), lotId]);
  }
  async insertLane(l: Lane) {
    await this.q('INSERT INTO lanes (id, lot_id, name, direction, created_at) VALUES ($1, $2, $3, $4, $5)', [
      l.id,
      l.lotId,
      l.name,
      l.direction,
      l.createdAt,
    ]);
  }
  async laneById(id: string) {
    return toLane(await one(this.q('SELECT * FROM lanes WHERE id = $1', [id])));
  }
  async lanesOf(lotId: string) {
    return (await this.q('SELECT * FROM lanes WHERE lot_id = $1 ORDER BY created_at, id', [lotId])).map((r) =>
      toLane(r)!,
    );
  }
  async insertGate(g: Gate) {
    await this.q(
      'INSERT INTO gates (id, lot_id, name, public_key, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [g.id, g.lotId, g.name, g.publicKey, g.createdAt, g.revokedAt],
    );
  }
  async gateById(id: string) {
    return toGate(await one(this.q('SELECT * FROM gates WHERE id = $1', [id])));
  }
  async gatesOf(lotId: string) {
    return (await this.q('SELECT * FROM gates WHERE lot_id = $1 ORDER BY created_at, id', [lotId])).map((r) =>
      toGate(r)!,
    );
  }
  async revokeGate(id: string, at: number) {
    await this.q('UPDATE gates SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
  }
  async raiseGateCounter(id: string, counter: number) {
    await this.q('UPDATE gates SET last_counter = GREATEST(last_counter, $1) WHERE id = $2', [counter, id]);
  }
}

class PgSessions implements SessionRepository {
  constructor(private readonly q: Query) {}
  async insert(s: ParkingSession) {
    await this.q(
      `INSERT INTO parking_sessions (id, lot_id, plate, entry_event_id, entry_lane_id, entry_at, entry_confidence, status,
         exit_event_id, exit_at, fee, paid_at, passback_flag) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
  }
  async byId(id: string) {
    return toSession(await one(this.q('SELECT * FROM parking_sessions WHERE id = $1', [id])));
  }
  async unclosedInLot(lotId: string) {
    const rows = await this.q(
      `SELECT ${SESSION_COLUMNS} FROM parking_sessions WHERE lot_id = $1 AND status != 'closed' ORDER BY entry_at, id`,
      [lotId],
    );
    return rows.map((r) => toSession(r)!);
  }
  async update(s: ParkingSession) {
    await this.q(
      `UPDATE parking_sessions SET status = $1, exit_event_id = $2, exit_at = $3, fee = $4, paid_at = $5, passback_flag = $6
       WHERE id = $7`,
      [s.status, s.exitEventId, s.exitAt, s.fee, s.paidAt, s.passbackFlag ? 1 : 0, s.id],
    );
  }
  async ofPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const rows = await this.q(
      'SELECT * FROM parking_sessions WHERE plate = ANY($1::text[]) ORDER BY entry_at DESC, id COLLATE "C"',
      [plates],
    );
    return rows.map((r) => toSession(r)!);
  }
  async eventById(id: string) {
    const r = await one(this.q('SELECT * FROM lane_events WHERE id = $1', [id]));
    if (!r) return null;
    return {
      id: r.id as string,
      laneId: r.lane_id as string,
      kind: r.kind as StoredLaneEvent['kind'],
      plate: r.plate as string,
      confidence: r.confidence as number,
      at: r.at as number,
      receivedAt: r.received_at as number,
      requestHash: r.request_hash as string,
      decision: r.decision as string,
    };
  }
  async insertEvent(e: StoredLaneEvent) {
    await this.q(
      `INSERT INTO lane_events (id, lane_id, kind, plate, confidence, at, received_at, request_hash, decision)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [e.id, e.laneId, e.kind, e.plate, e.confidence, e.at, e.receivedAt, e.requestHash, e.decision],
    );
  }
  async insertPendingPayment(p: PendingPayment) {
    await this.q(
      `INSERT INTO pending_payments (id, session_id, plate, amount, currency, status, created_at, paid_at, paid_by_account_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [p.id, p.sessionId, p.plate, p.amount, p.currency, p.status, p.createdAt, p.paidAt, p.paidByAccountId],
    );
  }
  async pendingPaymentById(id: string) {
    return toPending(await one(this.q('SELECT * FROM pending_payments WHERE id = $1', [id])));
  }
  async pendingPaymentsOfPlates(plates: string[]) {
    if (plates.length === 0) return [];
    const rows = await this.q(
      'SELECT * FROM pending_payments WHERE plate = ANY($1::text[]) ORDER BY created_at DESC, id COLLATE "C"',
      [plates],
    );
    return rows.map((r) => toPending(r)!);
  }
  async updatePendingPayment(p: PendingPayment) {
    await this.q('UPDATE pending_payments SET status = $1, paid_at = $2, paid_by_account_id = $3 WHERE id = $4', [
      p.status,
      p.paidAt,
      p.paidByAccountId,
      p.id,
    ]);
  }
  async insertReview(r: ReviewItem) {
    await this.q(
      `INSERT INTO review_items (id, lot_id, lane_id, event_id, plate, confidence, at, reason, candidate_session_ids, status,
         created_at, resolution, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
  }
  async reviewById(id: string) {
    return toReview(await one(this.q('SELECT * FROM review_items WHERE id = $1', [id])));
  }
  async reviews(status?: ReviewItem['status']) {
    const rows = status
      ? await this.q('SELECT * FROM review_items WHERE status = $1 ORDER BY created_at, id', [status])
      : await this.q('SELECT * FROM review_items ORDER BY created_at, id');
    return rows.map((r) => toReview(r)!);
  }
  async openReviewCount() {
    return (await one(this.q("SELECT COUNT(*) AS n FROM review_items WHERE status = 'open'")))!.n as number;
  }
  async updateReview(r: ReviewItem) {
    await this.q('UPDATE review_items SET status = $1, resolution = $2, resolved_at = $3 WHERE id = $4', [
      r.status,
      r.resolution,
      r.resolvedAt,
      r.id,
    ]);
  }
}

class PgSettlements implements SettlementRepository {
  constructor(private readonly q: Query) {}
  async insert(s: Settlement) {
    await this.q(
      `INSERT INTO settlements (id, exit_event_id, session_id, lot_id, account_id, driver_id, amount, currency, entry_at, exit_at,
         method, journal_entry_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
  }
  async byId(id: string) {
    return toSettlement(await one(this.q('SELECT * FROM settlements WHERE id = $1', [id])));
  }
  async byExitEvent(exitEventId: string) {
    return toSettlement(await one(this.q('SELECT * FROM settlements WHERE exit_event_id = $1', [exitEventId])));
  }
  async ofDriver(driverId: string) {
    return (await this.q('SELECT * FROM settlements WHERE driver_id = $1 ORDER BY created_at, id', [driverId])).map(
      (r) => toSettlement(r)!,
    );
  }
  /** queued with the settlement; the sequencer gives it its index (see pg-ledger-store.ts) */
  async appendLedgerRecord(settlementId: string, record: string, at: number): Promise<number | null> {
    if (record.includes('\n')) throw new StorageError('a ledger record must be one line');
    await this.q('INSERT INTO ledger_queue (ref, record, created_at) VALUES ($1, $2, $3)', [settlementId, record, at]);
    return null;
  }
  async ledgerRecordOf(settlementId: string) {
    const r = await one(this.q('SELECT * FROM ledger_records WHERE ref = $1', [settlementId]));
    return r
      ? { index: r.idx as number, settlementId, record: r.record as string, createdAt: r.created_at as number }
      : null;
  }
  async ledgerSize() {
    return (await one(this.q('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM ledger_records')))!.n as number;
  }
}
