/**
 * Exits charged on a saved payment method, across the provider, exactly
 * once.
 *
 * The fault model: the provider may be slow, time out, answer 5xx, drop
 * the connection after charging, or send its webhook late, twice or out of
 * order; the cloud may be killed at any moment, in particular between the
 * provider's charge and our commit.
 *
 * How it holds:
 * - The card charge row is committed (`started`) before the provider is
 *   called, in the same transaction as the exit (settler.ts).
 * - Every call for it carries the exit event id as the provider's
 *   idempotency key, so asking again never charges again: a timeout, a 5xx
 *   or a restart is followed by the same request, and the provider replays
 *   its first answer.
 * - The answer is applied by `Settler.finishCardCharge` in one transaction
 *   that moves the row out of `started`; a second answer (the webhook after
 *   the API reply, a duplicate) finds it finished and changes nothing.
 * - Started charges are asked again at start (after a crash) and every
 *   `retryMs` until the provider gives a final answer.
 * - The gate never waits longer than `budgetMs` for the provider: past it,
 *   `Settler.answerWhileCharging` holds the car or lets it out on credit.
 *
 * INVARIANT: per exit event at most one charge at the provider, at most one
 * settlement, and every started charge ends succeeded or declined once the
 * provider answers.
 */
import type { BaseLogger } from 'pino';
import type { PaymentGateway } from '../payments/payment-gateway.js';
import { ProviderDeclined, ProviderRejected, ProviderUnavailable } from '../payments/payment-gateway.js';
import type { CardCharge, Store } from '../storage/repositories.js';
import type { Decision, Settler } from './settler.js';

export interface CardChargeOptions {
  /** how long a gate may wait for the provider's answer at an exit, ms */
  budgetMs: number;
  /** past the budget: hold the car, or let it out when the driver's credit standing covers the fee */
  whenSlow: 'hold' | 'credit';
  /** how often started charges are asked again, ms */
  retryMs: number;
  /** how long one provider request may take, ms (longer than the budget: the answer still settles) */
  providerTimeoutMs: number;
}

export class CardCharges {
  private readonly inFlight = new Map<string, Promise<Decision | null>>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly gateways: ReadonlyMap<string, PaymentGateway>,
    private readonly settler: Settler,
    private readonly options: CardChargeOptions,
    private readonly log: Pick<BaseLogger, 'warn' | 'error'>,
  ) {}

  /** Turns a provisional `charging` decision into the gate's answer within the budget; other decisions pass. */
  async decide(decision: Decision): Promise<Decision> {
    if (decision.reason !== 'charging') return decision;
    const charge = await this.store.transaction((repos) => repos.payments.chargeByExitEvent(decision.eventId));
    if (!charge) throw new Error(`no card charge for exit ${decision.eventId}`);
    let budget: NodeJS.Timeout | undefined;
    const slow = new Promise<null>((resolve) => {
      budget = setTimeout(() => resolve(null), this.options.budgetMs);
    });
    try {
      const answer = await Promise.race([this.attempt(charge), slow]);
      if (answer) return answer;
    } finally {
      clearTimeout(budget);
    }
    return this.store.transaction((repos) => this.settler.answerWhileCharging(repos, charge.id, this.options.whenSlow));
  }

  /** Asks the provider again for every started charge (at start, after a crash, and on a timer). */
  async reconcile(): Promise<number> {
    const started = await this.store.transaction((repos) => repos.payments.startedCharges(100));
    await Promise.all(started.map((c) => this.attempt(c)));
    return started.length;
  }

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      if (this.stopped) return;
      this.reconcile()
        .catch((err: unknown) => this.log.warn({ err }, 'card charges: reconcile failed; trying again later'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.retryMs);
        });
    };
    tick();
  }

  /** Stops the timer and waits for the requests under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** One request to the provider for `charge` (one at a time per charge); the gate's decision if it ended the charge. */
  private attempt(charge: CardCharge): Promise<Decision | null> {
    const running = this.inFlight.get(charge.id);
    if (running) return running;
    const work = this.ask(charge).finally(() => this.inFlight.delete(charge.id));
    this.inFlight.set(charge.id, work);
    return work;
  }

  private async ask(charge: CardCharge): Promise<Decision | null> {
    const gateway = this.gateways.get(charge.provider);
    if (!gateway) {
      this.log.error({ chargeId: charge.id, provider: charge.provider }, 'card charge: its provider is not configured');
      return null;
    }
    const customer = await this.store.transaction(async (repos) =>
      (await repos.payments.methodsOfDriver(charge.driverId)).find((m) => m.methodId === charge.methodId),
    );
    if (!customer) return this.finish(charge, { status: 'declined', reason: 'payment_method_removed' });
    try {
      const payment = await gateway.chargeSaved(
        {
          customerId: customer.customerId,
          paymentMethodId: charge.methodId,
          amount: charge.amount,
          currency: charge.currency,
          idempotencyKey: `exit:${charge.exitEventId}`,
          description: `parking ${charge.sessionId}`,
          metadata: { exit_event: charge.exitEventId, card_charge: charge.id },
        },
        { timeoutMs: this.options.providerTimeoutMs },
      );
      if (payment.status === 'succeeded') {
        return await this.finish(charge, { status: 'succeeded', providerPaymentId: payment.id });
      }
      if (payment.status === 'failed') return await this.finish(charge, { status: 'declined', reason: 'failed' });
      return null; // processing: its webhook (or a later ask) finishes it
    } catch (err) {
      if (err instanceof ProviderDeclined) return this.finish(charge, { status: 'declined', reason: err.reason });
      if (err instanceof ProviderRejected) {
        this.log.error({ err, chargeId: charge.id }, 'card charge: the provider rejected the request');
        return this.finish(charge, { status: 'declined', reason: 'provider_rejected' });
      }
      if (!(err instanceof ProviderUnavailable)) throw err;
      this.log.warn({ err, chargeId: charge.id }, 'card charge: no answer from the provider; it is asked again');
      await this.store.transaction(async (repos) => {
        const now = await repos.payments.chargeById(charge.id);
        if (now?.status === 'started') await repos.payments.updateCharge({ ...now, attempts: now.attempts + 1 });
      });
      return null;
    }
  }

  private finish(
    charge: CardCharge,
    outcome: { status: 'succeeded'; providerPaymentId: string } | { status: 'declined'; reason: string },
  ): Promise<Decision | null> {
    return this.store.transaction((repos) => this.settler.finishCardCharge(repos, charge.id, outcome));
  }
}
