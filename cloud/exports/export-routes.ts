/**
 * `GET /v1/lots/:lotId/settlements.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`
 * (admin, operator, auditor): the accounting export, one CSV line per
 * settlement of the lot settled in those local days (settlement-csv.ts for
 * the columns). The answer is streamed: pages of settlements are read and
 * written as the client takes them (backpressure), so a year of a busy lot
 * costs the cloud one page of memory. The lot and the period are checked
 * before anything is sent (404 NOT_FOUND, 400 INVALID_PERIOD); a storage
 * failure half-way aborts the transfer (the client sees it cut, never a
 * file that looks complete).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../api/auth.js';
import { badRequest, notFound } from '../errors.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import { openReadConnection } from '../storage/read-connection.js';
import { toLot } from '../storage/rows.js';
import { CSV_HEADER, csvLine, settlementLine } from './settlement-csv.js';
import { parsePeriod, settlementPages } from './settlement-export.js';

export interface ExportDeps {
  /** the service's database (config `database`) */
  database: string;
  keys: OperatorKeys;
}

/** how much CSV the answer buffers before it waits for the client */
const STREAM_BUFFER_BYTES = 64 * 1024;

export function exportRoutes(d: ExportDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const reader = openReadConnection(d.database);
    app.addHook('onClose', () => reader.close());
    const anyRole = requireRole(d.keys, 'admin', 'operator', 'auditor');
    const day = { type: 'string', maxLength: 40, description: "a day in the lot's local time, YYYY-MM-DD" } as const;

    app.get<{ Params: { lotId: string }; Querystring: Record<string, string> }>(
      '/v1/lots/:lotId/settlements.csv',
      {
        schema: {
          tags: ['operators'],
          summary: "A lot's settlements of a period as CSV (accounting export), streamed",
          description:
            "One line per settlement settled from `from` to `to` (inclusive, the lot's local days), oldest first: " +
            "settlement_id, session_id, plate, entry_at, exit_at (ISO 8601 with the lot's offset), amount_minor, " +
            'amount (formatted, e.g. 12.50), currency, payment_account_id, payment_method, ledger_index (empty ' +
            'until the ledger gives it its place), settled_at. RFC 4180; text that a spreadsheet would take for a ' +
            'formula starts with an apostrophe.',
          params: {
            type: 'object',
            properties: { lotId: { type: 'string', pattern: '^lot_[0-9a-f]{32}$' } },
            required: ['lotId'],
            additionalProperties: false,
          },
          querystring: {
            type: 'object',
            properties: { from: day, to: day },
          },
          produces: ['text/csv'],
        },
        preHandler: anyRole,
      },
      async (request, reply) => {
        const { lotId } = request.params;
        for (const key of Object.keys(request.query)) {
          if (key !== 'from' && key !== 'to')
            throw badRequest('BAD_REQUEST', `${key}: not an export parameter (from, to)`);
        }
        const lot = toLot((await reader.all('SELECT * FROM lots WHERE id = ?', [lotId]))[0]);
        if (!lot) throw notFound('lot', lotId);
        const offset = lot.tariff.utcOffsetMinutes;
        const period = parsePeriod(request.query.from, request.query.to, offset);
        async function* lines(): AsyncGenerator<string> {
          yield csvLine(CSV_HEADER);
          for await (const page of settlementPages(reader, lotId, period)) {
            yield page.map((s) => settlementLine(s, offset)).join('');
          }
        }
        const body = Readable.from(lines(), { objectMode: false, highWaterMark: STREAM_BUFFER_BYTES });
        return reply
          .type('text/csv; charset=utf-8; header=present')
          .header('content-disposition', `attachment; filename="settlements-${lotId}-${period.from}-${period.to}.csv"`)
          .header('cache-control', 'no-store')
          .send(body);
      },
    );
  };
}
