/**
 * Wallet top-ups: the only way a balance grows. A driver asks for one; the
 * cloud starts a payment at the provider; the wallet is credited when, and
 * only when, the provider's signed webhook says the payment succeeded.
 *
 * INVARIANTS
 * - No request of a driver, an operator or a gate changes a balance: the
 *   only caller of `Wallet.creditTopUp` is `applyWebhook`, after the
 *   provider's signature and the event's age were checked.
 * - A top-up is credited at most once: its status moves pending ->
 *   succeeded | failed once; a duplicate, replayed or late webhook (a
 *   failure after the success, a success after the failure) changes nothing.
 * - The amount and currency credited are the top-up's, and the webhook's
 *   must equal them.
 * - A reference is the driver's own: normalised (trimmed, inner spaces
 *   folded, lower case), unique per driver; the same reference again with
 *   the same wallet and amount is the same top-up, with anything else 409.
 */
import { ApiError, badRequest, conflict, notFound } from '../errors.js';
import { hasForbiddenCharacters } from '../names.js';
import { newId } from '../ids.js';
import type { Clock } from '../../time/clock.js';
import type { Repositories, Store, TopUp } from '../storage/repositories.js';
import type { PaymentGateway, WebhookEvent } from './payment-gateway.js';
import { ProviderDeclined, ProviderRejected, ProviderUnavailable } from './payment-gateway.js';
import type { Wallet } from './wallet.js';

export interface TopUpAnswer {
  topUp: TopUp;
  /** what the driver's side needs to complete the payment at the provider, when it requires action */
  clientSecret: string | null;
}

/** What a webhook did: `duplicate` when its event id was applied before. */
export interface WebhookOutcome {
  eventId: string;
  result: 'applied' | 'duplicate' | 'ignored';
  topUpId?: string;
  chargeId?: string;
}

export function normaliseReference(reference: string): string {
  return reference.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export class TopUps {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly gateway: PaymentGateway,
    private readonly wallet: Wallet,
  ) {}

  /**
   * Starts (or, for the same reference, resumes) a top-up, paid with
   * `paymentMethod` (a provider token for this payment alone), else the
   * account's saved method, else left for the driver to complete at the
   * provider (`clientSecret`). The balance does not change here.
   */
  async request(
    driverId: string,
    input: { accountId: string; amount: number; reference: string; paymentMethod?: string | undefined },
  ): Promise<TopUpAnswer> {
    const reference = normaliseReference(input.reference);
    if (reference.length === 0) throw badRequest('BAD_REQUEST', 'reference must not be blank');
    if (hasForbiddenCharacters(reference)) {
      throw badRequest('BAD_REQUEST', 'reference: must not hold control or text-direction characters', 'reference');
    }
    const { topUp, method } = await this.store.transaction(async (repos) => {
      const account = await repos.accounts.byId(input.accountId);
      if (!account || account.driverId !== driverId) throw notFound('payment account', input.accountId);
      if (account.kind !== 'wallet') throw badRequest('UNKNOWN_ACCOUNT', `account ${account.id} is not a wallet`);
      const previous = await repos.payments.topUpByReference(driverId, reference);
      if (previous) {
        if (previous.accountId !== account.id || previous.amount !== input.amount) {
          throw conflict(
            'REFERENCE_REUSED',
            `reference "${reference}" was already used for a top-up of ${previous.amount} to account ${previous.accountId}`,
          );
        }
        return { topUp: previous, method: await repos.payments.methodOfAccount(account.id) };
      }
      const topUp: TopUp = {
        id: newId('top'),
        driverId,
        accountId: account.id,
        amount: input.amount,
        currency: account.currency,
        reference,
        provider: this.gateway.name,
        providerPaymentId: null,
        status: 'pending',
        createdAt: this.clock.now(),
        settledAt: null,
        journalEntryId: null,
      };
      await repos.payments.insertTopUp(topUp);
      return { topUp, method: await repos.payments.methodOfAccount(account.id) };
    });
    if (topUp.status !== 'pending') return { topUp, clientSecret: null };
    // outside the transaction: the provider's answer may take seconds; the same key makes a repeat safe
    try {
      const payment = await this.gateway.startPayment({
        amount: topUp.amount,
        currency: topUp.currency,
        idempotencyKey: `topup:${topUp.id}`,
        // a method given for this payment alone, else the account's saved one, else the driver completes it
        customerId: input.paymentMethod ? null : (method?.customerId ?? null),
        paymentMethodId: input.paymentMethod ?? method?.methodId ?? null,
        description: `platepay wallet top-up ${topUp.id}`,
        metadata: { top_up: topUp.id, driver: driverId, account: topUp.accountId },
      });
      const stored = await this.store.transaction(async (repos) => {
        const now = await repos.payments.topUpById(topUp.id);
        if (!now) throw notFound('top-up', topUp.id);
        if (now.providerPaymentId === null) {
          const updated = { ...now, providerPaymentId: payment.id };
          await repos.payments.updateTopUp(updated);
          return updated;
        }
        return now;
      });
      return { topUp: stored, clientSecret: payment.clientSecret };
    } catch (err) {
      if (err instanceof ProviderUnavailable) {
        throw new ApiError(
          503,
          'PROVIDER_UNAVAILABLE',
          'the payment provider did not answer; send the same request again (same reference) to continue this top-up',
        );
      }
      if (err instanceof ProviderDeclined) {
        await this.fail(topUp.id);
        throw new ApiError(402, 'PAYMENT_DECLINED', `the payment was declined: ${err.reason}`);
      }
      if (err instanceof ProviderRejected) {
        throw new ApiError(502, 'PROVIDER_REJECTED', 'the payment provider refused the request');
      }
      throw err;
    }
  }

  /** The account's top-ups not yet confirmed by the provider. */
  async pendingOf(repos: Repositories, accountId: string): Promise<TopUp[]> {
    return (await repos.payments.topUpsOfAccount(accountId)).filter((t) => t.status === 'pending');
  }

  /**
   * Applies a verified webhook event inside the caller's transaction (the
   * caller recorded its id first, so a duplicate never gets here). A
   * payment of a top-up credits or fails it; anything else is ignored.
   */
  async applyWebhook(repos: Repositories, event: WebhookEvent): Promise<WebhookOutcome> {
    const payment = event.payment;
    const topUpId = payment?.metadata.top_up;
    if (!payment || !topUpId || event.type === 'other') return { eventId: event.id, result: 'ignored' };
    const topUp = await repos.payments.topUpById(topUpId);
    if (!topUp || topUp.provider !== this.gateway.name) return { eventId: event.id, result: 'ignored' };
    if (topUp.providerPaymentId !== null && topUp.providerPaymentId !== payment.id) {
      return { eventId: event.id, result: 'ignored', topUpId };
    }
    if (topUp.status !== 'pending') return { eventId: event.id, result: 'ignored', topUpId };
    const now = this.clock.now();
    if (event.type === 'payment.failed') {
      await repos.payments.updateTopUp({ ...topUp, status: 'failed', providerPaymentId: payment.id, settledAt: now });
      return { eventId: event.id, result: 'applied', topUpId };
    }
    if (payment.amount !== topUp.amount || payment.currency !== topUp.currency) {
      throw new ApiError(
        409,
        'WEBHOOK_MISMATCH',
        `payment ${payment.id} is ${payment.amount} ${payment.currency}, top-up ${topUp.id} is ${topUp.amount} ${topUp.currency}`,
      );
    }
    const journalEntryId = await this.wallet.creditTopUp(repos, topUp);
    await repos.payments.updateTopUp({
      ...topUp,
      status: 'succeeded',
      providerPaymentId: payment.id,
      settledAt: now,
      journalEntryId,
    });
    return { eventId: event.id, result: 'applied', topUpId };
  }

  private async fail(topUpId: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      const t = await repos.payments.topUpById(topUpId);
      if (t?.status === 'pending')
        await repos.payments.updateTopUp({ ...t, status: 'failed', settledAt: this.clock.now() });
    });
  }
}
