/**
 * Routes operators use for money after the fact: the unpaid stays of a lot
 * (pending payments), and refunds of a settlement with their reasons
 * (cloud/settlement/refunds.ts has the rules). An auditor reads; admins and
 * operators refund.
 */
import type { FastifyInstance } from 'fastify';
import type { OperatorKeys } from '../operators/operator-keys.js';
import type { ParkingService } from '../sessions/parking-service.js';
import type { RefundInput, Refunds } from '../settlement/refunds.js';
import { MAX_REASON_LENGTH } from '../settlement/refunds.js';
import { MAX_PRICE } from '../tariffs/tariff.js';
import { requireRole } from './auth.js';

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[0-9a-f]{32}$' } as const;
const idParams = (p: string) =>
  ({ type: 'object', properties: { [p]: id }, required: [p], additionalProperties: false }) as const;

export function operatorMoneyRoutes(s: { keys: OperatorKeys; parking: ParkingService; refunds: Refunds }) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const anyRole = requireRole(s.keys, 'admin', 'operator', 'auditor');
    const writer = requireRole(s.keys, 'admin', 'operator');

    app.get<{ Params: { lotId: string } }>(
      '/v1/lots/:lotId/pending-payments',
      {
        schema: {
          tags: ['operators'],
          summary: 'Unpaid stays of a lot (cars that left on a pending payment), newest first',
          params: idParams('lotId'),
        },
        preHandler: anyRole,
      },
      async (request) => ({ pendingPayments: await s.parking.pendingPaymentsInLot(request.params.lotId) }),
    );

    app.get<{ Params: { settlementId: string } }>(
      '/v1/settlements/:settlementId/refunds',
      {
        schema: {
          tags: ['operators'],
          summary: 'What a settlement charged, its refunds (with reasons) and what may still be refunded',
          params: idParams('settlementId'),
        },
        preHandler: anyRole,
      },
      async (request) => s.refunds.of(request.params.settlementId),
    );

    app.post<{ Params: { settlementId: string }; Body: RefundInput }>(
      '/v1/settlements/:settlementId/refunds',
      {
        schema: {
          tags: ['operators'],
          summary:
            'Refund part or all of a wallet-charged settlement to the wallet it came from, with the reason; never more than was charged in total; idempotent by requestId (201 new, 200 replay)',
          params: idParams('settlementId'),
          body: {
            type: 'object',
            properties: {
              requestId: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' },
              amount: { type: 'integer', minimum: 1, maximum: MAX_PRICE },
              reason: { type: 'string', minLength: 1, maxLength: MAX_REASON_LENGTH * 2 },
            },
            required: ['requestId', 'amount', 'reason'],
            additionalProperties: false,
          },
        },
        preHandler: writer,
      },
      async (request, reply) => {
        const { refund, replayed } = await s.refunds.refund(
          request.params.settlementId,
          request.body,
          request.operatorKey!,
        );
        return reply.status(replayed ? 200 : 201).send(refund);
      },
    );
  };
}
