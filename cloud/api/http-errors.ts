/**
 * One shape for every error the API returns: `{"error": {"code", "message"}}`
 * with the right status, plus `field` (e.g. "name", "tariff.bands[1].from")
 * when the error is about one input field, so a form can show it there.
 * Typed `ApiError`s carry their own (a 429
 * `RateLimitedError` also sets `Retry-After`); fastify's
 * validation, body-size and JSON errors become 400/413/415; anything else is
 * a 500 whose details go to the log, not to the caller.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { RateLimitedError } from '../accounts/login-throttle.js';
import { ApiError } from '../errors.js';
import { storageFault } from '../storage/storage-errors.js';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    if (err instanceof ApiError) {
      if (err instanceof RateLimitedError) void reply.header('retry-after', String(err.retryAfterSeconds));
      const field = err.field === undefined ? {} : { field: err.field };
      return reply.status(err.statusCode).send({ error: { code: err.code, message: err.message, ...field } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const field = validationField(fe.validation[0]);
      return reply
        .status(400)
        .send({ error: { code: 'BAD_REQUEST', message: fe.message, ...(field ? { field } : {}) } });
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

/** The input field a schema validation error is about, as a path: "name", "tariff.bands[0].from". */
function validationField(e: { instancePath?: string; params?: Record<string, unknown> } | undefined): string | null {
  if (!e) return null;
  const parts = (e.instancePath ?? '').split('/').filter(Boolean);
  const named = e.params?.missingProperty ?? e.params?.additionalProperty;
  if (typeof named === 'string') parts.push(named);
  if (!parts.length) return null;
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;
