/**
 * The ledger over HTTP, for operators and partners (any operator role,
 * e.g. a bank's auditor key): the latest checkpoint, all checkpoints,
 * records and leaf hashes by range, inclusion and consistency proofs, and
 * the receipt of a settlement.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError, badRequest, notFound } from '../errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { LedgerError } from '../ledger/ledger.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import { requireRole } from './auth.js';

const MAX_PAGE = 10_000;
/** query strings are text: non-negative integers are checked by pattern, then converted */
const index = { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } as const;
type Q<K extends string> = Record<K, string>;
const n = (s: string): number => Number(s);
const range = {
  type: 'object',
  properties: { start: index, end: index },
  required: ['start', 'end'],
  additionalProperties: false,
} as const;

function ledgerCall<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof LedgerError) {
      if (err.code === 'NOT_FOUND') throw new ApiError(404, 'NOT_FOUND', err.message);
      if (err.code === 'NOT_YET_IN_TREE') throw new ApiError(409, 'NOT_YET_IN_TREE', err.message);
      throw badRequest('BAD_RANGE', err.message);
    }
    throw err;
  }
}

export function ledgerRoutes(ledger: Ledger, keys: OperatorKeys, quorum: number) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const reader = requireRole(keys, 'admin', 'operator', 'auditor');
    const checkRange = (q: Q<'start' | 'end'>): { start: number; end: number } => {
      const [start, end] = [n(q.start), n(q.end)];
      if (end < start || end - start > MAX_PAGE) {
        throw badRequest('BAD_RANGE', `end must be from start to start + ${MAX_PAGE}`);
      }
      return { start, end };
    };

    app.get(
      '/v1/ledger/checkpoint',
      { schema: { tags: ['ledger'], summary: 'The latest signed checkpoint' }, preHandler: reader },
      async () => {
        const latest = ledger.latest();
        if (!latest) throw notFound('checkpoint', 'latest');
        const cosigners = latest.note.split('\n').filter((l) => l.startsWith('— ')).length - 1;
        return { size: latest.checkpoint.size, note: latest.note, cosignatures: cosigners, final: cosigners >= quorum };
      },
    );

    app.get(
      '/v1/ledger/checkpoints',
      {
        // it takes no parameters: one given (e.g. ?from=) is refused, not ignored, as on the other routes
        schema: { tags: ['ledger'], querystring: { type: 'object', properties: {}, additionalProperties: false } },
        preHandler: reader,
      },
      async () => ({
        checkpoints: ledger
          .checkpoints()
          .map((c) => ({ size: c.checkpoint.size, note: c.note, createdAt: c.createdAt })),
      }),
    );

    app.get<{ Querystring: Q<'start' | 'end'> }>(
      '/v1/ledger/records',
      {
        schema: { tags: ['ledger'], summary: `Records [start, end), at most ${MAX_PAGE}`, querystring: range },
        preHandler: reader,
      },
      async (request) => {
        const { start, end } = checkRange(request.query);
        return {
          records: ledgerCall(() => ledger.records(start, end)).map((r) => ({
            index: r.index,
            record: r.record,
          })),
        };
      },
    );

    app.get<{ Querystring: Q<'start' | 'end'> }>(
      '/v1/ledger/leaves',
      {
        schema: { tags: ['ledger'], summary: 'Leaf hashes (hex) of records [start, end)', querystring: range },
        preHandler: reader,
      },
      async (request) => {
        const { start, end } = checkRange(request.query);
        return {
          leaves: ledger.leafHashes(start, end).map((h) => Buffer.from(h).toString('hex')),
        };
      },
    );

    app.get<{ Querystring: Q<'index' | 'size'> }>(
      '/v1/ledger/proofs/inclusion',
      {
        schema: {
          tags: ['ledger'],
          querystring: {
            type: 'object',
            properties: { index, size: index },
            required: ['index', 'size'],
            additionalProperties: false,
          },
        },
        preHandler: reader,
      },
      async (request) => ({
        proof: ledgerCall(() => ledger.inclusionProof(n(request.query.index), n(request.query.size))).map((h) =>
          Buffer.from(h).toString('base64'),
        ),
      }),
    );

    app.get<{ Querystring: Q<'from' | 'to'> }>(
      '/v1/ledger/proofs/consistency',
      {
        schema: {
          tags: ['ledger'],
          querystring: {
            type: 'object',
            properties: { from: index, to: index },
            required: ['from', 'to'],
            additionalProperties: false,
          },
        },
        preHandler: reader,
      },
      async (request) => ({
        proof: ledgerCall(() => ledger.consistencyProof(n(request.query.from), n(request.query.to))).map((h) =>
          Buffer.from(h).toString('base64'),
        ),
      }),
    );

    app.get<{ Params: { settlementId: string } }>(
      '/v1/ledger/receipts/:settlementId',
      {
        schema: {
          tags: ['ledger'],
          params: {
            type: 'object',
            properties: { settlementId: { type: 'string', pattern: '^stl_[0-9a-f]{32}$' } },
            required: ['settlementId'],
            additionalProperties: false,
          },
        },
        preHandler: reader,
      },
      async (request) => ledgerCall(() => ledger.receipt({ ref: request.params.settlementId })),
    );
  };
}
