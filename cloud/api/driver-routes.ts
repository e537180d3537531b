/**
 * Routes drivers use: sign up, sign in, wallets and top-ups, plate links and
 * disputes, their sessions and receipts, and paying a pending payment.
 */
import type { FastifyInstance } from 'fastify';
import type { DriverService, Receipt } from '../accounts/driver-service.js';
import { MAX_DISPUTE_REASON_LENGTH } from '../accounts/driver-service.js';
import type { Driver } from '../storage/repositories.js';
import { bearer, requireDriver } from './auth.js';
import type { Ledger } from '../ledger/ledger.js';
import { LedgerError } from '../ledger/ledger.js';

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[0-9a-f]{32}$' } as const;
const plate = { type: 'string', minLength: 1, maxLength: 32 } as const;
const amount = { type: 'integer', minimum: 1, maximum: 100_000_000 } as const;
const currency = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
const email = { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' } as const;
const password = { type: 'string', minLength: 8, maxLength: 200 } as const;
const label = { type: 'string', minLength: 1, maxLength: 100 } as const;
const idParams = (name: string) =>
  ({ type: 'object', properties: { [name]: id }, required: [name], additionalProperties: false }) as const;

const publicDriver = (d: Driver) => ({ id: d.id, email: d.email, name: d.name, createdAt: d.createdAt });

/** A receipt with its ledger proof: the record, its inclusion proof and the checkpoint (null until the next checkpoint). */
function withProof(ledger: Ledger, r: Receipt) {
  try {
    const { proof, checkpoint } = ledger.receipt({ ref: r.settlement.id });
    return { ...r, proof, checkpoint };
  } catch (err) {
    if (err instanceof LedgerError) return { ...r, proof: null, checkpoint: null };
    throw err;
  }
}

export function driverRoutes(drivers: DriverService, ledger: Ledger) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    const auth = requireDriver(drivers);

    app.post<{ Body: { email: string; password: string; name: string } }>(
      '/v1/drivers',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Sign up: a driver account with a wallet, and a bearer token',
          body: {
            type: 'object',
            // the email is checked in full (and named in the error) by the driver service
            properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, password, name: label },
            required: ['email', 'password', 'name'],
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const { driver, token, expiresAt } = await drivers.signUp(request.body);
        return reply.status(201).send({ driver: publicDriver(driver), token, expiresAt });
      },
    );

    app.post<{ Body: { email: string; password: string } }>(
      '/v1/auth/token',
      {
        schema: {
          tags: ['drivers'],
          summary:
            'Sign in: a new bearer token. Too many attempts for one email from one address get 429 LOGIN_RATE_LIMITED with Retry-After',
          body: {
            type: 'object',
            properties: { email, password: { type: 'string', minLength: 1, maxLength: 200 } },
            required: ['email', 'password'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        // request.ip is the socket's address (trustProxy is off): X-Forwarded-For cannot dodge the rate limit
        const { driver, token, expiresAt } = await drivers.signIn(request.body, request.ip);
        return { driver: publicDriver(driver), token, expiresAt };
      },
    );

    app.delete(
      '/v1/auth/token',
      {
        schema: {
          tags: ['drivers'],
          summary: "Sign out: this bearer token is refused from now on (the driver's other tokens stay valid)",
        },
        preHandler: auth,
      },
      async (request, reply) => {
        await drivers.signOut(bearer(request));
        return reply.status(204).send();
      },
    );

    app.delete(
      '/v1/auth/tokens',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Sign out everywhere: every token of this driver, this one included, is refused from now on',
        },
        preHandler: auth,
      },
      async (request, reply) => {
        await drivers.signOutEverywhere(request.driver!);
        return reply.status(204).send();
      },
    );

    app.get(
      '/v1/me',
      { schema: { tags: ['drivers'], summary: 'The signed-in driver and their accounts' }, preHandler: auth },
      async (request) => {
        const driver = request.driver!;
        return { driver: publicDriver(driver), accounts: await drivers.accounts(driver) };
      },
    );

    app.get('/v1/me/accounts', { schema: { tags: ['drivers'] }, preHandler: auth }, async (request) => ({
      accounts: await drivers.accounts(request.driver!),
    }));

    app.post<{ Body: { currency: string; label: string } }>(
      '/v1/me/accounts',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Another wallet (e.g. in another currency)',
          body: {
            type: 'object',
            properties: { currency, label },
            required: ['currency', 'label'],
            additionalProperties: false,
          },
        },
        preHandler: auth,
      },
      async (request, reply) => reply.status(201).send(await drivers.createAccount(request.driver!, request.body)),
    );

    app.post<{ Params: { accountId: string }; Body: { amount: number; reference: string; paymentMethod?: string } }>(
      '/v1/me/accounts/:accountId/top-ups',
      {
        schema: {
          tags: ['drivers'],
          summary:
            "Top up a wallet through the payment provider (with the account's saved payment method, if any): answers 202 with the pending top-up; the balance grows only when the provider's webhook confirms the payment. Idempotent by reference (per driver, trimmed and case-folded); the same reference with another amount or wallet is 409",
          params: idParams('accountId'),
          body: {
            type: 'object',
            properties: {
              amount,
              reference: { type: 'string', minLength: 1, maxLength: 100 },
              paymentMethod: { type: 'string', minLength: 3, maxLength: 255, pattern: '^[A-Za-z0-9_]+$' },
            },
            required: ['amount', 'reference'],
            additionalProperties: false,
          },
        },
        preHandler: auth,
      },
      async (request, reply) =>
        reply
          .status(202)
          .send(
            await drivers.topUp(
              request.driver!,
              request.params.accountId,
              request.body.amount,
              request.body.reference,
              request.body.paymentMethod,
            ),
          ),
    );

    app.get('/v1/me/links', { schema: { tags: ['drivers'] }, preHandler: auth }, async (request) => ({
      links: await drivers.links(request.driver!),
    }));

    app.post<{ Body: { plate: string; accountId: string } }>(
      '/v1/me/links',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Link a plate to one of my accounts',
          body: {
            type: 'object',
            properties: { plate, accountId: id },
            required: ['plate', 'accountId'],
            additionalProperties: false,
          },
        },
        preHandler: auth,
      },
      async (request, reply) => reply.status(201).send(await drivers.linkPlate(request.driver!, request.body)),
    );

    app.delete<{ Params: { linkId: string } }>(
      '/v1/me/links/:linkId',
      { schema: { tags: ['drivers'], params: idParams('linkId') }, preHandler: auth },
      async (request, reply) => {
        await drivers.unlinkPlate(request.driver!, request.params.linkId);
        return reply.status(204).send();
      },
    );

    app.post<{ Body: { plate: string; accountId: string; reason: string } }>(
      '/v1/me/disputes',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Claim a plate another driver holds; an operator decides',
          body: {
            type: 'object',
            properties: {
              plate,
              accountId: id,
              reason: { type: 'string', minLength: 1, maxLength: MAX_DISPUTE_REASON_LENGTH },
            },
            required: ['plate', 'accountId', 'reason'],
            additionalProperties: false,
          },
        },
        preHandler: auth,
      },
      async (request, reply) => reply.status(201).send(await drivers.openDispute(request.driver!, request.body)),
    );

    app.get('/v1/me/sessions', { schema: { tags: ['drivers'] }, preHandler: auth }, async (request) => ({
      sessions: await drivers.sessions(request.driver!),
    }));

    app.get('/v1/me/receipts', { schema: { tags: ['drivers'] }, preHandler: auth }, async (request) => ({
      receipts: (await drivers.receipts(request.driver!)).map((r) => withProof(ledger, r)),
    }));

    app.get<{ Params: { settlementId: string } }>(
      '/v1/me/receipts/:settlementId',
      { schema: { tags: ['drivers'], params: idParams('settlementId') }, preHandler: auth },
      async (request) => withProof(ledger, await drivers.receipt(request.driver!, request.params.settlementId)),
    );

    app.get<{ Querystring: { plate: string } }>(
      '/v1/pending-payments',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Unpaid stays of a plate (a car not linked to any account)',
          querystring: { type: 'object', properties: { plate }, required: ['plate'], additionalProperties: false },
        },
        preHandler: auth,
      },
      async (request) => ({ pendingPayments: await drivers.pendingPayments(request.query.plate) }),
    );

    app.post<{ Params: { paymentId: string }; Body: { accountId: string } }>(
      '/v1/pending-payments/:paymentId/pay',
      {
        schema: {
          tags: ['drivers'],
          summary: 'Pay an unpaid stay from one of my wallets; the car may then leave within the grace period',
          params: idParams('paymentId'),
          body: { type: 'object', properties: { accountId: id }, required: ['accountId'], additionalProperties: false },
        },
        preHandler: auth,
      },
      async (request): Promise<Receipt> =>
        drivers.payPending(request.driver!, request.params.paymentId, request.body.accountId),
    );
  };
}
