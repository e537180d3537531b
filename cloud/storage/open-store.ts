/**
 * Opens the storage backend that `config.database` names: a PostgreSQL URL
 * (`postgres://user:password@host:port/db`) selects PostgreSQL, on which
 * several cloud instances may run together; anything else is a SQLite file
 * (or ":memory:"), the embedded default.
 *
 * Besides the Store, a backend gives the signed ledger its synchronous
 * store, the serializer its writes go through, and `ledgerTurn`: called on
 * every ledger tick, it says whether this instance may hash records and
 * sign checkpoints now (SQLite: always; PostgreSQL: while it holds the
 * sequencer lock, taken over when the holder's session ends).
 */
import type { LedgerStore } from '../ledger/ledger-store.js';
import type { WriteSerializer } from '../ledger/ledger.js';
import { isPostgresUrl } from './postgres/pg-connection.js';
import { PgStore } from './postgres/pg-store.js';
import type { Store } from './repositories.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** What the store has done so far, the same on both backends (for /metrics). */
export interface StoreStats {
  /** Store.transaction calls that committed */
  transactions: number;
  /** Store.transaction calls that failed (their own error, or the database's) */
  failed: number;
  /** database COMMITs (SQLite: one per group-commit batch) */
  commits: number;
  /** attempts the database aborted and the store ran again (PostgreSQL serialization failures) */
  retries: number;
}

export interface OpenedStore {
  kind: 'sqlite' | 'postgres';
  store: Store;
  stats(): StoreStats;
  /** does this instance sequence the ledger now (SQLite: always) */
  isSequencer(): boolean;
  ledgerStore: LedgerStore;
  ledgerWrite: WriteSerializer;
  /** may this instance write the ledger now (refreshing its copy of the log when it may not) */
  ledgerTurn(): Promise<boolean>;
}

export interface OpenStoreOptions {
  database: string;
  /** SQLite only: group commit (see SqliteStore) */
  groupCommit?: boolean;
  /** PostgreSQL only: connections in this instance's pool */
  poolSize?: number;
}

/** A database as messages name it: a SQLite file as given; a PostgreSQL URL as host:port/database, without credentials. */
export function databaseLabel(database: string): string {
  if (!isPostgresUrl(database)) return database;
  try {
    const url = new URL(database);
    return `${url.host || 'localhost'}${url.pathname}`;
  } catch {
    return 'a PostgreSQL database';
  }
}

export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  if (isPostgresUrl(options.database)) {
    const store = await PgStore.open(options.database, { poolSize: options.poolSize });
    return {
      kind: 'postgres',
      store,
      stats: () => {
        const s = store.commitStats();
        return { transactions: s.commits, failed: s.failed, commits: s.commits, retries: s.retries };
      },
      isSequencer: () => store.ledger.isSequencer,
      ledgerStore: store.ledger.copy,
      ledgerWrite: store.ledger.write,
      ledgerTurn: () => store.ledger.turn(),
    };
  }
  const store = SqliteStore.open(options.database, { groupCommit: options.groupCommit });
  return {
    kind: 'sqlite',
    store,
    stats: () => {
      const s = store.commitStats();
      return { transactions: s.units, failed: s.failedUnits, commits: s.commits, retries: 0 };
    },
    isSequencer: () => true,
    ledgerStore: store.ledgerStore,
    ledgerWrite: (work) => store.exclusive(work),
    ledgerTurn: async () => true,
  };
}
