/**
 * Routes operators use (API keys with roles): lots, lanes, gates and
 * tariffs (with a fee preview for a tariff being edited); lane events (the
 * path the gate hub uses, also for simulated or manual events); the manual
 * review queue; plate disputes; API keys (and which key is calling).
 */
import type { FastifyInstance } from 'fastify';
import type { DriverService } from '../accounts/driver-service.js';
import type { LotService } from '../lots/lot-service.js';
import { previewFee } from '../lots/lot-service.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import type { ParkingService, ReviewResolution } from '../sessions/parking-service.js';
import type { LaneDirection, OperatorRole } from '../storage/repositories.js';
import { requireRole } from './auth.js';
import type { CloudMetrics } from './metrics.js';

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[0-9a-f]{32}$' } as const;
const name = { type: 'string', minLength: 1, maxLength: 100 } as const;
const idParams = (p: string) =>
  ({ type: 'object', properties: { [p]: id }, required: [p], additionalProperties: false }) as const;
const tariffSchema = {
  type: 'object',
  description: 'validated in full by the tariff parser; see README "Tariffs"',
} as const;

export interface OperatorServices {
  keys: OperatorKeys;
  lots: LotService;
  parking: ParkingService;
  drivers: DriverService;
  metrics: CloudMetrics;
}

export function operatorRoutes(s: OperatorServices) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const anyRole = requireRole(s.keys, 'admin', 'operator', 'auditor');
    const writer = requireRole(s.keys, 'admin', 'operator');
    const admin = requireRole(s.keys, 'admin');

    app.post<{ Body: { name: string; tariff: unknown } }>(
      '/v1/lots',
      {
        schema: {
          tags: ['operators'],
          summary: 'A new car park with its tariff',
          body: {
            type: 'object',
            properties: { name, tariff: tariffSchema },
            required: ['name', 'tariff'],
            additionalProperties: false,
          },
        },
        preHandler: writer,
      },
      async (request, reply) => reply.status(201).send(await s.lots.createLot(request.body)),
    );

    app.get('/v1/lots', { schema: { tags: ['operators'] }, preHandler: anyRole }, async () => ({
      lots: await s.lots.lots(),
    }));

    app.get<{ Params: { lotId: string } }>(
      '/v1/lots/:lotId',
      { schema: { tags: ['operators'], params: idParams('lotId') }, preHandler: anyRole },
      async (request) => s.lots.lot(request.params.lotId),
    );

    app.put<{ Params: { lotId: string }; Body: unknown }>(
      '/v1/lots/:lotId/tariff',
      { schema: { tags: ['operators'], params: idParams('lotId'), body: tariffSchema }, preHandler: writer },
      async (request) => s.lots.setTariff(request.params.lotId, request.body),
    );

    app.post<{ Body: { tariff: unknown; entryAt: number; exitAt: number } }>(
      '/v1/tariffs/preview',
      {
        schema: {
          tags: ['operators'],
          summary:
            'The fee a tariff charges for a stay (entry and exit in ms since the epoch), computed as at an exit; nothing is stored',
          body: {
            type: 'object',
            properties: {
              tariff: tariffSchema,
              entryAt: { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 },
              exitAt: { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 },
            },
            required: ['tariff', 'entryAt', 'exitAt'],
            additionalProperties: false,
          },
        },
        preHandler: anyRole,
      },
      async (request) => previewFee(request.body.tariff, request.body.entryAt, request.body.exitAt),
    );

    app.post<{ Params: { lotId: string }; Body: { name: string; direction: LaneDirection } }>(
      '/v1/lots/:lotId/lanes',
      {
        schema: {
          tags: ['operators'],
          params: idParams('lotId'),
          body: {
            type: 'object',
            properties: { name, direction: { type: 'string', enum: ['entry', 'exit'] } },
            required: ['name', 'direction'],
            additionalProperties: false,
          },
        },
        preHandler: writer,
      },
      async (request, reply) => reply.status(201).send(await s.lots.addLane(request.params.lotId, request.body)),
    );

    app.post<{ Params: { lotId: string }; Body: { name: string; publicKey: string } }>(
      '/v1/lots/:lotId/gates',
      {
        schema: {
          tags: ['operators'],
          summary: 'Register a gate unit by its Ed25519 public key',
          params: idParams('lotId'),
          body: {
            type: 'object',
            properties: { name, publicKey: { type: 'string', minLength: 44, maxLength: 44 } },
            required: ['name', 'publicKey'],
            additionalProperties: false,
          },
        },
        preHandler: writer,
      },
      async (request, reply) => reply.status(201).send(await s.lots.addGate(request.params.lotId, request.body)),
    );

    app.post<{ Params: { gateId: string } }>(
      '/v1/gates/:gateId/revoke',
      { schema: { tags: ['operators'], params: idParams('gateId') }, preHandler: writer },
      async (request) => s.lots.revokeGate(request.params.gateId),
    );

    app.post<{ Body: { eventId: string; laneId: string; plate: string; confidence: number; at: number } }>(
      '/v1/events',
      {
        schema: {
          tags: ['lanes'],
          summary: 'A lane event (entry or exit by the lane); returns the decision; idempotent by eventId',
          body: {
            type: 'object',
            properties: {
              eventId: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' },
              laneId: id,
              plate: { type: 'string', minLength: 1, maxLength: 32 },
              confidence: { type: 'number', minimum: 0, maximum: 1 },
              at: { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 },
            },
            required: ['eventId', 'laneId', 'plate', 'confidence', 'at'],
            additionalProperties: false,
          },
        },
        preHandler: writer,
      },
      async (request) => {
        const decision = await s.parking.submitEvent(request.body);
        s.metrics.decided(decision);
        return decision;
      },
    );

    app.get<{ Querystring: { status?: 'open' | 'resolved' } }>(
      '/v1/reviews',
      {
        schema: {
          tags: ['reviews'],
          querystring: {
            type: 'object',
            properties: { status: { type: 'string', enum: ['open', 'resolved'] } },
            additionalProperties: false,
          },
        },
        preHandler: anyRole,
      },
      async (request) => ({ reviews: await s.parking.reviews(request.query.status) }),
    );

    app.post<{ Params: { reviewId: string }; Body: ReviewResolution }>(
      '/v1/reviews/:reviewId/resolve',
      {
        schema: {
          tags: ['reviews'],
          summary: 'Resolve a review item: match the exit to a session (settles it), waive the stay, or dismiss',
          params: idParams('reviewId'),
          body: {
            oneOf: [
              {
                type: 'object',
                properties: { action: { const: 'match' }, sessionId: id },
                required: ['action', 'sessionId'],
                additionalProperties: false,
              },
              {
                type: 'object',
                properties: { action: { const: 'waive' }, sessionId: id },
                required: ['action', 'sessionId'],
                additionalProperties: false,
              },
              {
                type: 'object',
                properties: { action: { const: 'dismiss' } },
                required: ['action'],
                additionalProperties: false,
              },
            ],
          },
        },
        preHandler: writer,
      },
      async (request) => {
        const outcome = await s.parking.resolveReview(request.params.reviewId, request.body, request.operatorKey!.id);
        if (outcome.decision) s.metrics.decided(outcome.decision);
        return outcome;
      },
    );

    app.get<{ Querystring: { status?: 'open' | 'transferred' | 'rejected' } }>(
      '/v1/disputes',
      {
        schema: {
          tags: ['disputes'],
          querystring: {
            type: 'object',
            properties: { status: { type: 'string', enum: ['open', 'transferred', 'rejected'] } },
            additionalProperties: false,
          },
        },
        preHandler: anyRole,
      },
      async (request) => ({ disputes: await s.drivers.disputes(request.query.status) }),
    );

    app.post<{ Params: { disputeId: string }; Body: { outcome: 'transfer' | 'reject' } }>(
      '/v1/disputes/:disputeId/resolve',
      {
        schema: {
          tags: ['disputes'],
          params: idParams('disputeId'),
          body: {
            type: 'object',
            properties: { outcome: { type: 'string', enum: ['transfer', 'reject'] } },
            required: ['outcome'],
            additionalProperties: false,
          },
        },
        preHandler: writer,
      },
      async (request) => s.drivers.resolveDispute(request.params.disputeId, request.body.outcome),
    );

    const publicKey = (k: {
      id: string;
      role: OperatorRole;
      label: string;
      createdAt: number;
      revokedAt: number | null;
    }) => ({
      id: k.id,
      role: k.role,
      label: k.label,
      createdAt: k.createdAt,
      revokedAt: k.revokedAt,
    });

    app.post<{ Body: { role: OperatorRole; label: string } }>(
      '/v1/keys',
      {
        schema: {
          tags: ['operators'],
          summary: 'A new API key; the secret is returned only here',
          body: {
            type: 'object',
            properties: { role: { type: 'string', enum: ['admin', 'operator', 'auditor'] }, label: name },
            required: ['role', 'label'],
            additionalProperties: false,
          },
        },
        preHandler: admin,
      },
      async (request, reply) => {
        const { key, secret } = await s.keys.create(request.body.role, request.body.label);
        return reply.status(201).send({ key: publicKey(key), secret });
      },
    );

    app.get(
      '/v1/keys/me',
      {
        schema: { tags: ['operators'], summary: 'The API key making the call: its id, role and label' },
        preHandler: anyRole,
      },
      async (request) => {
        const k = request.operatorKey!;
        return { id: k.id, role: k.role, label: k.label };
      },
    );

    app.get('/v1/keys', { schema: { tags: ['operators'] }, preHandler: admin }, async () => ({
      keys: (await s.keys.list()).map(publicKey),
    }));

    app.delete<{ Params: { keyId: string } }>(
      '/v1/keys/:keyId',
      { schema: { tags: ['operators'], params: idParams('keyId') }, preHandler: admin },
      async (request, reply) => {
        await s.keys.revoke(request.params.keyId, request.operatorKey!);
        return reply.status(204).send();
      },
    );
  };
}
