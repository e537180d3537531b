/**
 * One shape for every error the API returns: `{"error": {"code", "message"}}`
 * with the right status. Typed `ApiError`s carry their own (a 429
 * `RateLimitedError` also sets `Retry-After`); fastify's
 * validation, body-size and JSON errors become 400/413/415; anything else is
 * a 500 whose details go to the log, not to the caller.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { RateLimitedError } from '../accounts/login-throttle.js';
import { ApiError } from '../errors.js';
import { StorageError } from '../storage/sqlite-store.js';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    if (err instanceof ApiError) {
      if (err instanceof RateLimitedError) void reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.status(err.statusCode).send({ error: { code: err.code, message: err.message } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      return reply.status(400).send({ error: { code: 'BAD_REQUEST', message: fe.message } });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ error: { code: 'BODY_TOO_LARGE', message: 'the request body is too large' } });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send application/json' } });
    }
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code =
        fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'INVALID_JSON' : 'BAD_REQUEST';
      return reply.status(fe.statusCode).send({ error: { code, message: fe.message } });
    }
    const storage = storageFault(err);
    if (storage) {
      request.log.error({ err }, 'storage error');
      return reply.status(503).send({ error: storage });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );
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

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;
