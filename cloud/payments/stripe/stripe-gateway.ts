/**
 * Stripe's published HTTP API (docs.stripe.com/api), the subset platepay
 * uses, as a `PaymentGateway`:
 * - `POST /v1/customers` (email, metadata[driver_id]): the driver's customer;
 * - `POST /v1/payment_methods/:id/attach` (customer): a saved card, which
 *   Stripe verifies on attach (a refused card is a 402 card_error);
 * - `POST /v1/payment_intents` (amount, currency, customer, payment_method,
 *   confirm, off_session, description, metadata[...]): a charge at the exit
 *   (`confirm=true&off_session=true`) or a top-up;
 * - webhooks `payment_intent.succeeded` / `payment_intent.payment_failed`
 *   with `Stripe-Signature` (stripe-signature.ts).
 * Requests are form-encoded with `Authorization: Bearer <secret key>`;
 * every POST carries an `Idempotency-Key`: Stripe replays the first answer
 * for a repeated key with the same parameters (and answers 400
 * `idempotency_error` for other parameters), so a retry never charges
 * twice. Errors are `{"error": {type, code, decline_code, message}}`:
 * 402 `card_error` is a decline; 400/401/403/404 a request we must not
 * repeat; 409/429/5xx, a timeout or a dropped connection leave the outcome
 * unknown (`ProviderUnavailable`: ask again with the same key). Amounts are
 * minor units; Stripe spells currencies in lower case.
 */
import type {
  ChargeSavedRequest,
  PaymentGateway,
  PaymentStatus,
  ProviderPayment,
  StartPaymentRequest,
  WebhookEvent,
} from '../payment-gateway.js';
import { ProviderDeclined, ProviderRejected, ProviderUnavailable, WebhookRejected } from '../payment-gateway.js';
import { verifyStripeSignature } from './stripe-signature.js';

export interface StripeGatewayOptions {
  /** the secret (sk_...) or restricted (rk_...) key */
  apiKey: string;
  /** the webhook endpoint's signing secrets (whsec_...); several while one is rotated */
  webhookSecrets: string[];
  baseUrl?: string;
  /** how long one request may take, ms */
  timeoutMs?: number;
}

type Form = Record<string, string | number | boolean | null | undefined | Record<string, string>>;

interface StripeIntent {
  id: string;
  object: 'payment_intent';
  status: string;
  amount: number;
  currency: string;
  client_secret?: string | null;
  metadata?: Record<string, string>;
}

export class StripeGateway implements PaymentGateway {
  readonly name = 'stripe';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: StripeGatewayOptions) {
    if (!/^(sk|rk)_[A-Za-z0-9_]+$/.test(options.apiKey)) throw new Error('stripe: apiKey must start with sk_ or rk_');
    if (options.webhookSecrets.length === 0 || options.webhookSecrets.some((s) => !s.startsWith('whsec_'))) {
      throw new Error('stripe: webhookSecrets must be one or more "whsec_..." secrets');
    }
    this.baseUrl = (options.baseUrl ?? 'https://api.stripe.com').replace(/\/$/, '');
    if (!/^https?:\/\//.test(this.baseUrl)) throw new Error('stripe: baseUrl must be an http(s) URL');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async createCustomer(input: { driverId: string; email: string; idempotencyKey: string }) {
    const customer = await this.post<{ id: string }>(
      '/v1/customers',
      { email: input.email, metadata: { driver_id: input.driverId } },
      input.idempotencyKey,
    );
    return { customerId: customer.id };
  }

  async attachPaymentMethod(input: { customerId: string; paymentMethodId: string }) {
    const method = await this.post<{ id: string; card?: { brand?: string; last4?: string } }>(
      `/v1/payment_methods/${encodeURIComponent(input.paymentMethodId)}/attach`,
      { customer: input.customerId },
      `attach:${input.customerId}:${input.paymentMethodId}`,
    );
    const label = method.card ? `${method.card.brand ?? 'card'} ending ${method.card.last4 ?? '????'}` : method.id;
    return { paymentMethodId: method.id, label };
  }

  async chargeSaved(request: ChargeSavedRequest, options: { timeoutMs?: number } = {}): Promise<ProviderPayment> {
    const intent = await this.post<StripeIntent>(
      '/v1/payment_intents',
      {
        amount: request.amount,
        currency: request.currency.toLowerCase(),
        customer: request.customerId,
        payment_method: request.paymentMethodId,
        confirm: true,
        off_session: true,
        description: request.description,
        metadata: request.metadata,
      },
      request.idempotencyKey,
      options.timeoutMs,
    );
    return toPayment(intent);
  }

  async startPayment(request: StartPaymentRequest, options: { timeoutMs?: number } = {}): Promise<ProviderPayment> {
    const intent = await this.post<StripeIntent>(
      '/v1/payment_intents',
      {
        amount: request.amount,
        currency: request.currency.toLowerCase(),
        customer: request.customerId,
        payment_method: request.paymentMethodId,
        confirm: request.paymentMethodId !== null,
        description: request.description,
        metadata: request.metadata,
      },
      request.idempotencyKey,
      options.timeoutMs,
    );
    return toPayment(intent);
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, now: number): WebhookEvent {
    const header = headers['stripe-signature'];
    verifyStripeSignature(typeof header === 'string' ? header : undefined, rawBody, this.options.webhookSecrets, now);
    let event: { id?: unknown; object?: unknown; type?: unknown; created?: unknown; data?: { object?: unknown } };
    try {
      event = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new WebhookRejected('BAD_WEBHOOK_BODY', 'the webhook body is not JSON');
    }
    if (
      typeof event !== 'object' ||
      event === null ||
      event.object !== 'event' ||
      typeof event.id !== 'string' ||
      typeof event.type !== 'string' ||
      typeof event.created !== 'number'
    ) {
      throw new WebhookRejected('BAD_WEBHOOK_BODY', 'the webhook body is not a Stripe event');
    }
    const createdAt = event.created * 1000;
    if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed') {
      return { id: event.id, type: 'other', createdAt, payment: null };
    }
    const intent = event.data?.object as StripeIntent | undefined;
    if (
      !intent ||
      intent.object !== 'payment_intent' ||
      typeof intent.id !== 'string' ||
      !Number.isSafeInteger(intent.amount) ||
      typeof intent.currency !== 'string'
    ) {
      throw new WebhookRejected('BAD_WEBHOOK_BODY', 'the event does not hold a PaymentIntent');
    }
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(intent.metadata ?? {})) if (typeof v === 'string') metadata[k] = v;
    return {
      id: event.id,
      type: event.type === 'payment_intent.succeeded' ? 'payment.succeeded' : 'payment.failed',
      createdAt,
      payment: { ...toPayment(intent), metadata },
    };
  }

  private async post<T>(path: string, form: Form, idempotencyKey: string, timeoutMs = this.timeoutMs): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          'content-type': 'application/x-www-form-urlencoded',
          'idempotency-key': idempotencyKey,
        },
        body: formEncode(form),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new ProviderUnavailable(`stripe ${path}: no answer (${(err as Error).message})`, { cause: err });
    }
    let body: { error?: { type?: string; code?: string; decline_code?: string; message?: string } } & T;
    try {
      body = (await res.json()) as typeof body;
    } catch (err) {
      throw new ProviderUnavailable(`stripe ${path}: ${res.status} with a body that is not JSON`, { cause: err });
    }
    if (res.ok) return body;
    const e = body.error ?? {};
    const what = `stripe ${path}: ${res.status} ${e.type ?? ''} ${e.code ?? ''} ${e.message ?? ''}`.trim();
    if (res.status === 402 || e.type === 'card_error') {
      throw new ProviderDeclined(e.decline_code ?? e.code ?? 'card_declined', what);
    }
    if (res.status === 409 || res.status === 429 || res.status >= 500) throw new ProviderUnavailable(what);
    throw new ProviderRejected(what);
  }
}

function toPayment(intent: StripeIntent): ProviderPayment {
  const status: PaymentStatus =
    intent.status === 'succeeded'
      ? 'succeeded'
      : intent.status === 'processing'
        ? 'processing'
        : intent.status === 'requires_action' || intent.status === 'requires_confirmation'
          ? 'requires_action'
          : 'failed';
  return {
    id: intent.id,
    status,
    amount: intent.amount,
    currency: intent.currency.toUpperCase(),
    clientSecret: intent.client_secret ?? null,
  };
}

/** application/x-www-form-urlencoded with Stripe's nesting: metadata[key]=value; null and undefined left out */
export function formEncode(form: Form): string {
  const parts: string[] = [];
  const add = (k: string, v: string | number | boolean) =>
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  for (const [key, value] of Object.entries(form)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    else add(key, value);
  }
  return parts.join('&');
}
