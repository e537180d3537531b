/**
 * A payment provider outside the cloud (a card acquirer, a wallet app): the
 * only way money enters platepay. Two implementations: `StripeGateway`
 * (Stripe's published HTTP API, `stripe/stripe-gateway.ts`) and
 * `TestGateway` (built in, for the demo and the tests: no network, the same
 * signed webhooks).
 *
 * Contract every implementation keeps:
 * - Every call that can move money carries an idempotency key. The same key
 *   with the same parameters returns the first result and never charges
 *   twice; that is what makes a retry after a timeout, a 5xx or a crash safe.
 * - A call that did not get a definite answer (timeout, network error, 5xx)
 *   throws `ProviderUnavailable`: the caller does not know whether money
 *   moved and must ask again with the same key.
 * - A refused card throws `ProviderDeclined` with the provider's reason.
 * - A webhook is believed only after `parseWebhook` checked its signature
 *   and its age; anything else throws `WebhookRejected`.
 */

export type PaymentStatus = 'succeeded' | 'processing' | 'requires_action' | 'failed';

export interface ProviderPayment {
  /** the provider's id of the payment (Stripe: the PaymentIntent id, pi_...) */
  id: string;
  status: PaymentStatus;
  /** minor units */
  amount: number;
  /** ISO 4217, upper case */
  currency: string;
  /** what the driver's side needs to complete a payment that requires action (Stripe: client_secret) */
  clientSecret: string | null;
}

export interface ChargeSavedRequest {
  customerId: string;
  paymentMethodId: string;
  amount: number;
  currency: string;
  idempotencyKey: string;
  description: string;
  /** string pairs kept with the payment at the provider (Stripe metadata) */
  metadata: Record<string, string>;
}

export interface StartPaymentRequest {
  amount: number;
  currency: string;
  idempotencyKey: string;
  customerId: string | null;
  /** a saved payment method to confirm the payment with at once, or null for the driver to complete it */
  paymentMethodId: string | null;
  description: string;
  metadata: Record<string, string>;
}

export interface WebhookEvent {
  /** the provider's event id; a second delivery of the same id changes nothing */
  id: string;
  type: 'payment.succeeded' | 'payment.failed' | 'other';
  /** when the provider created the event, ms since the epoch */
  createdAt: number;
  /** the payment the event is about (null for `other`) */
  payment: (ProviderPayment & { metadata: Record<string, string> }) | null;
}

export interface PaymentGateway {
  /** the name used in config, webhook paths and the books (`stripe`, `test`) */
  readonly name: string;
  createCustomer(input: { driverId: string; email: string; idempotencyKey: string }): Promise<{ customerId: string }>;
  /** attaches a payment method the driver entered on the provider's page to their customer; declines throw */
  attachPaymentMethod(input: {
    customerId: string;
    paymentMethodId: string;
  }): Promise<{ paymentMethodId: string; label: string }>;
  /** charges a saved payment method with the driver absent (at the exit) */
  chargeSaved(request: ChargeSavedRequest, options?: { timeoutMs?: number }): Promise<ProviderPayment>;
  /** starts a payment (a wallet top-up); it is final only when its webhook arrives */
  startPayment(request: StartPaymentRequest, options?: { timeoutMs?: number }): Promise<ProviderPayment>;
  /** checks a webhook delivery (raw body bytes as received, the request headers) and returns its event */
  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, now: number): WebhookEvent;
}

/** No definite answer (timeout, connection error, 5xx, 429): ask again with the same idempotency key. */
export class ProviderUnavailable extends Error {
  readonly code = 'PROVIDER_UNAVAILABLE';
}

/** The provider refused: a declined card, a method that cannot be used. Final for this key. */
export class ProviderDeclined extends Error {
  readonly code = 'PROVIDER_DECLINED';
  constructor(
    /** the provider's reason, e.g. `card_declined`, `insufficient_funds` */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** A request the provider rejected as malformed or unauthorised: a bug or a wrong key, not the driver's card. */
export class ProviderRejected extends Error {
  readonly code = 'PROVIDER_REJECTED';
}

/** A webhook delivery that is not believed; `reason` is a stable code. */
export class WebhookRejected extends Error {
  constructor(
    readonly reason: 'MISSING_SIGNATURE' | 'BAD_SIGNATURE' | 'STALE_WEBHOOK' | 'BAD_WEBHOOK_BODY',
    message: string,
  ) {
    super(message);
  }
}
