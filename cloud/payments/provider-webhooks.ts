/**
 * The payment provider's webhooks: the provider telling us a payment
 * succeeded or failed. Nothing here is believed before the provider's
 * gateway has checked the signature over the raw body and the event's age
 * (`PaymentGateway.parseWebhook`); a forged, tampered or stale delivery is
 * refused with 400 and changes nothing.
 *
 * Each event id is recorded in the same transaction that applies it, so a
 * duplicate or replayed delivery is answered 200 (`duplicate`) and changes
 * nothing; an event about a payment already final (delivered out of order)
 * is `ignored`. A payment is either a wallet top-up (top-ups.ts) or an exit
 * charged on a saved method (Settler.finishCardCharge).
 */
import { ApiError, notFound } from '../errors.js';
import type { Clock } from '../../time/clock.js';
import type { Settler } from '../settlement/settler.js';
import type { Store } from '../storage/repositories.js';
import type { PaymentGateway } from './payment-gateway.js';
import { WebhookRejected } from './payment-gateway.js';
import type { TopUps, WebhookOutcome } from './top-ups.js';

export class ProviderWebhooks {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly gateway: PaymentGateway,
    private readonly topUps: TopUps,
    private readonly settler: Settler,
  ) {}

  async receive(
    provider: string,
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<WebhookOutcome> {
    if (provider !== this.gateway.name) throw notFound('payment provider', provider);
    let event;
    try {
      event = this.gateway.parseWebhook(rawBody, headers, this.clock.now());
    } catch (err) {
      if (err instanceof WebhookRejected) throw new ApiError(400, err.reason, err.message);
      throw err;
    }
    return this.store.transaction(async (repos): Promise<WebhookOutcome> => {
      if (!(await repos.payments.recordWebhookEvent(provider, event.id, this.clock.now()))) {
        return { eventId: event.id, result: 'duplicate' };
      }
      const chargeId = event.payment?.metadata.card_charge;
      if (!chargeId || event.type === 'other') return this.topUps.applyWebhook(repos, event);
      const charge = await repos.payments.chargeById(chargeId);
      if (!charge || charge.provider !== provider || charge.status !== 'started') {
        return { eventId: event.id, result: 'ignored', chargeId };
      }
      if (event.payment!.amount !== charge.amount || event.payment!.currency !== charge.currency) {
        throw new ApiError(409, 'WEBHOOK_MISMATCH', `payment ${event.payment!.id} does not match charge ${charge.id}`);
      }
      await this.settler.finishCardCharge(
        repos,
        charge.id,
        event.type === 'payment.succeeded'
          ? { status: 'succeeded', providerPaymentId: event.payment!.id }
          : { status: 'declined', reason: 'failed' },
      );
      return { eventId: event.id, result: 'applied', chargeId };
    });
  }
}
