/**
 * Payment routes: a driver's saved payment method and credit standing, and
 * the provider's webhooks. The webhook route reads its body as raw bytes
 * (the signature is over the bytes as sent) and needs no bearer token: the
 * provider's signature is its authentication (provider-webhooks.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { DriverService } from '../accounts/driver-service.js';
import type { PaymentMethods } from '../payments/payment-methods.js';
import type { ProviderWebhooks } from '../payments/provider-webhooks.js';
import { requireDriver } from './auth.js';

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[0-9a-f]{32}$' } as const;
const accountParams = {
  type: 'object',
  properties: { accountId: id },
  required: ['accountId'],
  additionalProperties: false,
} as const;

export function paymentRoutes(s: {
  drivers: DriverService;
  paymentMethods: PaymentMethods;
  webhooks: ProviderWebhooks;
}) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const auth = requireDriver(s.drivers);

    app.put<{ Params: { accountId: string }; Body: { paymentMethod: string } }>(
      '/v1/me/accounts/:accountId/payment-method',
      {
        schema: {
          tags: ['payments'],
          summary:
            "Save a payment method (the token the provider's page gave, e.g. pm_... or test_card_ok) for an account: its plates' exits are charged on it",
          params: accountParams,
          body: {
            type: 'object',
            properties: { paymentMethod: { type: 'string', minLength: 3, maxLength: 255, pattern: '^[A-Za-z0-9_]+$' } },
            required: ['paymentMethod'],
            additionalProperties: false,
          },
        },
        preHandler: auth,
      },
      async (request, reply) => {
        const m = await s.paymentMethods.save(request.driver!, request.params.accountId, request.body.paymentMethod);
        return reply
          .status(201)
          .send({ id: m.id, accountId: m.accountId, provider: m.provider, label: m.label, verifiedAt: m.verifiedAt });
      },
    );

    app.delete<{ Params: { accountId: string } }>(
      '/v1/me/accounts/:accountId/payment-method',
      {
        schema: {
          tags: ['payments'],
          summary: "Remove an account's saved payment method",
          params: accountParams,
        },
        preHandler: auth,
      },
      async (request, reply) => {
        await s.paymentMethods.remove(request.driver!, request.params.accountId);
        return reply.status(204).send();
      },
    );

    app.get(
      '/v1/me/credit',
      {
        schema: {
          tags: ['payments'],
          summary: 'Your credit standing: score, credit limit, what you owe, what is still available (README "Money")',
        },
        preHandler: auth,
      },
      async (request) => s.drivers.standing(request.driver!),
    );

    // the webhook reads raw bytes; in a plugin of its own so no other route parses JSON this way
    await app.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      raw.post<{ Params: { provider: string } }>(
        '/v1/payments/webhooks/:provider',
        {
          schema: {
            tags: ['payments'],
            summary:
              "The payment provider's signed webhook (Stripe-Signature); a forged, stale or tampered one gets 400",
            params: {
              type: 'object',
              properties: { provider: { type: 'string', pattern: '^[a-z]{1,20}$' } },
              required: ['provider'],
              additionalProperties: false,
            },
          },
        },
        async (request) => {
          const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
          return s.webhooks.receive(request.params.provider, body, request.headers);
        },
      );
    });
  };
}
