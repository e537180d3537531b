/**
 * A ledger in its own SQLite file (a partner's copy, the benchmarks, or the
 * cloud's database opened by the ledger CLI): WAL with synchronous=FULL, so
 * a resolved append is on disk.
 */
import Database from 'better-sqlite3';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { LedgerOptions } from './ledger.js';
import { Ledger } from './ledger.js';
import { SqliteLedgerStore } from './ledger-store.js';
import type { NoteSigningKey } from './signed-note.js';

export interface LedgerDatabase {
  ledger: Ledger;
  store: SqliteLedgerStore;
  close(): Promise<void>;
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
