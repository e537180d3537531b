/**
 * A ledger in its own SQLite file (a partner's copy, the benchmarks): WAL
 * with synchronous=FULL, so a resolved append is on disk. And a ledger to
 * read only (the ledger CLI's export and reconcile): the cloud's SQLite
 * file opened read-only, or any LedgerStore loaded elsewhere (a snapshot of
 * a PostgreSQL database's log).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Clock } from '../../time/clock.js';
import { systemClock } from '../../time/clock.js';
import type { LedgerOptions, WriteSerializer } from './ledger.js';
import { Ledger } from './ledger.js';
import type { LedgerStore } from './ledger-store.js';
import { SqliteLedgerStore } from './ledger-store.js';
import type { NoteSigningKey } from './signed-note.js';
import { generateSigningKey } from './signed-note.js';

export interface LedgerDatabase {
  ledger: Ledger;
  store: SqliteLedgerStore;
  close(): Promise<void>;
}

/** The database named holds no ledger: no such file or database, or one without the ledger tables. */
export class NoLedgerError extends Error {
  readonly code = 'NO_LEDGER';

  /** `where`: a file, or host:port/database */
  static noDatabase(where: string): NoLedgerError {
    return new NoLedgerError(`no database at ${where}`);
  }

  static noTables(where: string): NoLedgerError {
    return new NoLedgerError(
      `no platepay ledger in ${where} (it has no ledger tables; has \`platepay cloud\` run on it?)`,
    );
  }
}

export function openLedgerDatabase(
  path: string,
  key: NoteSigningKey,
  options: LedgerOptions,
  clock: Clock = systemClock,
  durability: 'full' | 'normal' = 'full',
): LedgerDatabase {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  const store = new SqliteLedgerStore(db);
  // the work is synchronous, so one better-sqlite3 transaction at a time is already serialised
  const ledger = new Ledger(store, key, async (work) => db.transaction(work).immediate(), clock, options);
  return {
    ledger,
    store,
    async close() {
      await ledger.stop();
      db.close();
    },
  };
}

const LEDGER_TABLES = ['ledger_records', 'ledger_nodes', 'ledger_checkpoints', 'ledger_cosignatures'];

/**
 * The ledger of an existing SQLite file (the cloud's, possibly in use),
 * opened read-only: nothing is created or written. Throws NoLedgerError
 * when there is no such file or it has no ledger tables.
 */
export function openLedgerDatabaseToRead(path: string): LedgerDatabase {
  if (!existsSync(path)) throw NoLedgerError.noDatabase(path);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const found = db
      .prepare(
        `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${LEDGER_TABLES.map(() => '?')})`,
      )
      .get(...LEDGER_TABLES) as { n: number };
    if (found.n !== LEDGER_TABLES.length) throw NoLedgerError.noTables(path);
    const store = new SqliteLedgerStore(db); // its CREATE TABLE IF NOT EXISTS find the tables: no write
    return {
      ledger: readOnlyLedger(store),
      store,
      async close() {
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

const refuseWrites: WriteSerializer = () => Promise.reject(new Error('this ledger is open for reading only'));

/**
 * A Ledger over `store` to read it (records, leaves, checkpoints, proofs); its writes are refused,
 * so it never signs: its key is made here, in memory only, and never used or kept.
 */
export function readOnlyLedger(store: LedgerStore): Ledger {
  const neverUsed = generateSigningKey('read-only');
  return new Ledger(store, neverUsed, refuseWrites, systemClock, { origin: 'read-only', batchSize: 1, batchMs: 1 });
}
