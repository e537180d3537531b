/**
 * A connection for long reads outside the store's transactions (the
 * operator console's plate search and accounting export), so that they
 * never hold the writer's transaction nor see a transaction that has not
 * committed:
 * - SQLite: a second connection to the same file (WAL: readers and the one
 *   writer do not block each other), which only reads (`query_only`);
 * - PostgreSQL: a small pool of its own, so that a long export never takes
 *   a connection a gate decision waits for.
 *
 * Each `all` is one statement and sees what was committed when it ran;
 * callers read large results in keyset pages, so that no page holds the
 * event loop (SQLite is synchronous) or memory for long.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { isPostgresUrl, pgTypes } from './postgres/pg-connection.js';
import type { Row } from './rows.js';
import { StorageError } from './storage-errors.js';

export interface ReadConnection {
  /** the rows of one SELECT; write `?` for parameters on both backends */
  all(sql: string, params: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/** connections of a read pool on PostgreSQL: a search and an export can run side by side */
const POOL_SIZE = 2;

/** Opens the read connection for the service's `database` (opened on first use, so a start costs nothing). */
export function openReadConnection(database: string): ReadConnection {
  return isPostgresUrl(database) ? postgresReader(database) : sqliteReader(database);
}

function sqliteReader(path: string): ReadConnection {
  let db: Database.Database | null = null;
  const statements = new Map<string, Database.Statement>();
  const open = (): Database.Database => {
    if (db) return db;
    if (path === ':memory:' || path === '') {
      throw new StorageError('an in-memory database cannot be read from a second connection; use a database file');
    }
    const opened = new Database(path, { fileMustExist: true });
    opened.pragma('busy_timeout = 5000');
    opened.pragma('query_only = ON');
    db = opened;
    return opened;
  };
  return {
    async all(sql, params) {
      const connection = open();
      let statement = statements.get(sql);
      if (!statement) {
        statement = connection.prepare(sql);
        statements.set(sql, statement);
      }
      return statement.all(...params) as Row[];
    },
    async close() {
      statements.clear();
      db?.close();
      db = null;
    },
  };
}

function postgresReader(url: string): ReadConnection {
  let pool: pg.Pool | null = null;
  const open = (): pg.Pool => {
    if (pool) return pool;
    pool = new pg.Pool({
      connectionString: url,
      max: POOL_SIZE,
      types: pgTypes,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      application_name: 'platepay-console-reads',
    });
    pool.on('error', () => undefined); // an idle connection dropped: the pool makes a new one
    return pool;
  };
  return {
    async all(sql, params) {
      let n = 0;
      const numbered = sql.replace(/\?/g, () => `$${++n}`);
      try {
        return (await open().query(numbered, [...params])).rows as Row[];
      } catch (err) {
        const code = (err as { code?: unknown })?.code;
        if (typeof code === 'string' && /^(08|57P|53|58)|^E[A-Z]+$/.test(code)) {
          throw new StorageError(`PostgreSQL is unavailable: ${(err as Error).message}`, { cause: err });
        }
        throw err;
      }
    },
    async close() {
      const p = pool;
      pool = null;
      await p?.end();
    },
  };
}
