/**
 * `GET /v1/search/stays?plate=P[&match=exact|lookalike][&lotId=][&limit=][&before=]`
 * (admin, operator, auditor): find a car (plate-search.ts). Reads through a
 * connection of its own (storage/read-connection.ts), outside the
 * settlement transactions.
 */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../api/auth.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import { openReadConnection } from '../storage/read-connection.js';
import { MAX_LIMIT, parseSearchQuery, searchStays } from './plate-search.js';

export interface SearchDeps {
  /** the service's database (config `database`) */
  database: string;
  keys: OperatorKeys;
}

const text = (description: string) => ({ type: 'string', maxLength: 100, description }) as const;

export function searchRoutes(d: SearchDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const reader = openReadConnection(d.database);
    app.addHook('onClose', () => reader.close());
    const anyRole = requireRole(d.keys, 'admin', 'operator', 'auditor');

    app.get<{ Querystring: Record<string, string> }>(
      '/v1/search/stays',
      {
        schema: {
          tags: ['operators'],
          summary: 'Find a car: the stays of a plate (exact or look-alike), open and past, newest first',
          description:
            'Each hit: the stay (session), its lot with time zone and currency, the entry and exit lane events ' +
            'with their decisions, the fee, and the settlement with its ledger index (the receipt: ' +
            '`GET /v1/ledger/receipts/:settlementId`). Plate crops: `GET /web/api/operator/reads/:eventId/crop` ' +
            'while the evidence is kept (30 days). `lookalike` also finds plates that differ only by ' +
            'characters OCR confuses (0/O/D/Q, 1/I, 8/B, 5/S, 2/Z, 6/G).',
          querystring: {
            type: 'object',
            properties: {
              plate: text('the plate, normalised as links are (case, spaces, dashes, full-width forms)'),
              match: { type: 'string', enum: ['exact', 'lookalike'], description: 'default lookalike' },
              lotId: text('only this lot'),
              limit: text(`hits per page, 1 to ${MAX_LIMIT} (default 20)`),
              before: text('the `next` of the previous page'),
            },
          },
        },
        preHandler: anyRole,
      },
      async (request) => searchStays(reader, parseSearchQuery(request.query)),
    );
  };
}
