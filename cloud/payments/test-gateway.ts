/**
 * The built-in test provider: the embedded default for the demo and the
 * tests, where no real provider is configured. It behaves as a provider
 * does toward the cloud, with no network and no real money:
 * - test cards: `test_card_ok` (always paid), `test_card_declined`
 *   (declined: card_declined), `test_card_insufficient_funds` (declined:
 *   insufficient_funds); any other token is refused when saved;
 * - idempotency keys: the same key returns the first answer;
 * - every final payment is confirmed by a webhook signed like Stripe's
 *   (`Stripe-Signature: t=...,v1=HMAC-SHA256`, stripe-signature.ts) and
 *   POSTed to the cloud's webhook URL over HTTP, retried until answered
 *   2xx (at most `maxDeliveries` times);
 * - a top-up without a saved method stays `requires_action` (there is no
 *   provider page to complete it on).
 * A wallet is credited by that webhook, never by the call that started the
 * payment: the same path as with a real provider.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BaseLogger } from 'pino';
import type { Clock } from '../../time/clock.js';
import type {
  ChargeSavedRequest,
  PaymentGateway,
  ProviderPayment,
  StartPaymentRequest,
  WebhookEvent,
} from './payment-gateway.js';
import { ProviderDeclined, ProviderRejected, WebhookRejected } from './payment-gateway.js';
import { signStripePayload, verifyStripeSignature } from './stripe/stripe-signature.js';

const CARDS: Record<string, { label: string; decline: string | null }> = {
  test_card_ok: { label: 'test card ending 4242', decline: null },
  test_card_declined: { label: 'test card ending 0002', decline: 'card_declined' },
  test_card_insufficient_funds: { label: 'test card ending 9995', decline: 'insufficient_funds' },
};

type Answer = { payment: ProviderPayment } | { declined: string };

export interface TestGatewayOptions {
  /** the secret webhooks are signed with (`whsec_...`); generated when not given */
  webhookSecret?: string;
  clock: Clock;
  log: Pick<BaseLogger, 'warn' | 'error'>;
  maxDeliveries?: number;
  retryMs?: number;
}

export class TestGateway implements PaymentGateway {
  readonly name = 'test';
  readonly webhookSecret: string;
  private webhookUrl: string | null = null;
  private readonly answers = new Map<string, { fingerprint: string; answer: Answer }>();
  private readonly deliveries = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: TestGatewayOptions) {
    this.webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('hex')}`;
  }

  /** Where webhooks go (the cloud's `/v1/payments/webhooks/test`), known once the cloud listens. */
  deliverWebhooksTo(url: string): void {
    this.webhookUrl = url;
  }

  async createCustomer(input: { driverId: string; idempotencyKey: string }): Promise<{ customerId: string }> {
    const id = createHash('sha256').update(input.idempotencyKey).digest('hex').slice(0, 24);
    return { customerId: `tcus_${id}` };
  }

  async attachPaymentMethod(input: { paymentMethodId: string }): Promise<{ paymentMethodId: string; label: string }> {
    const card = CARDS[input.paymentMethodId];
    if (!card) throw new ProviderRejected(`no such test payment method ${JSON.stringify(input.paymentMethodId)}`);
    return { paymentMethodId: input.paymentMethodId, label: card.label };
  }

  async chargeSaved(request: ChargeSavedRequest): Promise<ProviderPayment> {
    return this.pay(request.idempotencyKey, request, request.paymentMethodId);
  }

  async startPayment(request: StartPaymentRequest): Promise<ProviderPayment> {
    if (request.paymentMethodId === null) {
      return this.remember(request.idempotencyKey, request, () => ({
        payment: {
          id: this.paymentId(request.idempotencyKey),
          status: 'requires_action',
          amount: request.amount,
          currency: request.currency,
          clientSecret: `${this.paymentId(request.idempotencyKey)}_secret`,
        },
      }));
    }
    return this.pay(request.idempotencyKey, request, request.paymentMethodId);
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>, now: number): WebhookEvent {
    const header = headers['stripe-signature'];
    verifyStripeSignature(typeof header === 'string' ? header : undefined, rawBody, [this.webhookSecret], now);
    let event: WebhookEvent;
    try {
      event = JSON.parse(rawBody.toString('utf8')) as WebhookEvent;
    } catch {
      throw new WebhookRejected('BAD_WEBHOOK_BODY', 'the webhook body is not JSON');
    }
    if (typeof event?.id !== 'string' || typeof event.createdAt !== 'number' || typeof event.type !== 'string') {
      throw new WebhookRejected('BAD_WEBHOOK_BODY', 'the webhook body is not an event');
    }
    return event;
  }

  /** Waits for the webhooks under way and stops retrying. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.deliveries]);
  }

  private async pay(
    key: string,
    request: { amount: number; currency: string; metadata: Record<string, string> },
    methodId: string,
  ): Promise<ProviderPayment> {
    let fresh = false;
    const payment = this.remember(key, request, () => {
      fresh = true;
      const card = CARDS[methodId];
      if (!card) return { declined: 'invalid_payment_method' };
      if (card.decline) return { declined: card.decline };
      return {
        payment: {
          id: this.paymentId(key),
          status: 'succeeded',
          amount: request.amount,
          currency: request.currency,
          clientSecret: null,
        },
      };
    });
    if (fresh) this.deliver(payment, request.metadata, key);
    return payment;
  }

  /** The first answer for `key` (computed by `first`), replayed for a repeat; a repeat with other parameters is refused. */
  private remember(key: string, request: { amount: number; currency: string }, first: () => Answer): ProviderPayment {
    const fingerprint = `${request.amount} ${request.currency}`;
    let entry = this.answers.get(key);
    if (!entry) {
      entry = { fingerprint, answer: first() };
      this.answers.set(key, entry);
    } else if (entry.fingerprint !== fingerprint) {
      throw new ProviderRejected(`idempotency key ${key} was used with other parameters`);
    }
    if ('declined' in entry.answer) throw new ProviderDeclined(entry.answer.declined, 'the test card was declined');
    return entry.answer.payment;
  }

  private paymentId(key: string): string {
    return `tpay_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
  }

  private deliver(payment: ProviderPayment, metadata: Record<string, string>, key: string): void {
    const event: WebhookEvent = {
      id: `tevt_${createHash('sha256').update(`${key} ${payment.status}`).digest('hex').slice(0, 24)}`,
      type: payment.status === 'succeeded' ? 'payment.succeeded' : 'payment.failed',
      createdAt: this.options.clock.now(),
      payment: { ...payment, metadata },
    };
    const delivery = this.post(event).finally(() => this.deliveries.delete(delivery));
    this.deliveries.add(delivery);
  }

  private async post(event: WebhookEvent): Promise<void> {
    const body = Buffer.from(JSON.stringify(event));
    const max = this.options.maxDeliveries ?? 20;
    for (let attempt = 1; attempt <= max && !this.closed; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, attempt === 1 ? 0 : (this.options.retryMs ?? 200)));
      if (!this.webhookUrl) continue;
      try {
        const signature = signStripePayload(this.webhookSecret, Math.floor(this.options.clock.now() / 1000), body);
        const res = await fetch(this.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          body,
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return;
        this.options.log.warn({ status: res.status, event: event.id }, 'test provider: webhook refused; retrying');
      } catch (err) {
        this.options.log.warn({ err, event: event.id }, 'test provider: webhook not delivered; retrying');
      }
    }
  }
}
