/**
 * What a storage failure is, for every caller: `StorageError` (the store's
 * own refusal: closed, unbalanced entry, schema too new, connection lost)
 * and `storageFault`, which classifies any error from either backend into
 * the stable codes callers answer with (HTTP 503, the gate hub's error
 * reply). Classifying belongs to storage; the API and the gate hub only
 * translate the result into their own wire shapes.
 */

export class StorageError extends Error {
  readonly code = 'STORAGE_ERROR';
}

/**
 * Storage failures as the caller sees them (503, nothing was changed):
 * a full disk, a read-only database, an I/O error, a busy database, or a
 * database that cannot be reached (SQLite's result codes and PostgreSQL's
 * SQLSTATEs map to the same codes). Money-moving requests fail until the
 * cause is gone; then they succeed again with no restart (an event resent
 * with its id is applied once).
 */
export function storageFault(err: unknown): { code: string; message: string } | null {
  const code = (err as { code?: unknown })?.code;
  if (err instanceof StorageError) {
    const cause = (err.cause as { code?: unknown } | undefined)?.code;
    return (
      (typeof cause === 'string' && postgresFault(cause)) || {
        code: 'STORAGE_UNAVAILABLE',
        message: 'storage is unavailable',
      }
    );
  }
  if (typeof code !== 'string') return null;
  if (code.startsWith('SQLITE_')) return sqliteFault(code);
  return /^[0-9A-Z]{5}$/.test(code) ? postgresFault(code) : null;
}

const FULL = {
  code: 'STORAGE_FULL',
  message: 'the database disk is full; nothing was changed, retry once space is freed',
};
const READ_ONLY = { code: 'STORAGE_READ_ONLY', message: 'the database is read-only; nothing was changed, retry later' };
const IO_ERROR = {
  code: 'STORAGE_IO_ERROR',
  message: 'the database could not be written; nothing was changed, retry later',
};
const BUSY = { code: 'STORAGE_BUSY', message: 'the database is busy; retry' };
const UNAVAILABLE = {
  code: 'STORAGE_UNAVAILABLE',
  message: 'the database cannot be reached; retry (an event resent with its id is applied once)',
};

function sqliteFault(code: string): { code: string; message: string } | null {
  if (code === 'SQLITE_FULL') return FULL;
  if (code.startsWith('SQLITE_READONLY')) return READ_ONLY;
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return IO_ERROR;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return BUSY;
  return null;
}

/** PostgreSQL SQLSTATEs (appendix A of its manual) that are the storage's fault, not the request's */
function postgresFault(sqlstate: string): { code: string; message: string } | null {
  if (sqlstate === '53100') return FULL; // disk_full
  if (sqlstate === '25006') return READ_ONLY; // read_only_sql_transaction
  if (sqlstate === '58030') return IO_ERROR; // io_error
  if (['53300', '40001', '40P01', '55P03'].includes(sqlstate)) return BUSY; // too many connections, conflicts, lock
  if (/^(08|57P|53)/.test(sqlstate)) return UNAVAILABLE; // connection lost, server shutting down, out of resources
  return null;
}
