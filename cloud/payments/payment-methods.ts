/**
 * Payment methods saved at the provider, one per account: with one, the
 * exits of the account's plates are charged on it (card-charges.ts) instead
 * of the wallet's balance. A method counts as verified once the provider
 * has attached it to the driver's customer (an unknown or refused method is
 * refused here, and nothing is saved).
 *
 * The provider call runs outside any transaction; the driver's customer at
 * the provider is created once (idempotency key `customer:<driver id>`) and
 * its id reused from the driver's earlier methods.
 */
import { ApiError, conflict, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Clock } from '../../time/clock.js';
import type { Driver, SavedPaymentMethod, Store } from '../storage/repositories.js';
import type { PaymentGateway } from './payment-gateway.js';
import { ProviderDeclined, ProviderRejected, ProviderUnavailable } from './payment-gateway.js';

export class PaymentMethods {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly gateway: PaymentGateway,
  ) {}

  /** Saves `methodToken` (what the provider's page gave the driver) for one of their accounts. */
  async save(driver: Driver, accountId: string, methodToken: string): Promise<SavedPaymentMethod> {
    const known = await this.store.transaction(async (repos) => {
      const account = await repos.accounts.byId(accountId);
      if (!account || account.driverId !== driver.id) throw notFound('payment account', accountId);
      if (await repos.payments.methodOfAccount(account.id)) {
        throw conflict('PAYMENT_METHOD_EXISTS', 'this account has a payment method; remove it first to change it');
      }
      return (await repos.payments.methodsOfDriver(driver.id)).find((m) => m.provider === this.gateway.name);
    });
    let attached: { customerId: string; paymentMethodId: string; label: string };
    try {
      const customerId =
        known?.customerId ??
        (
          await this.gateway.createCustomer({
            driverId: driver.id,
            email: driver.email,
            idempotencyKey: `customer:${driver.id}`,
          })
        ).customerId;
      const method = await this.gateway.attachPaymentMethod({ customerId, paymentMethodId: methodToken });
      attached = { customerId, ...method };
    } catch (err) {
      if (err instanceof ProviderDeclined) {
        throw new ApiError(402, 'PAYMENT_METHOD_REFUSED', `the provider refused the payment method: ${err.reason}`);
      }
      if (err instanceof ProviderRejected) {
        throw new ApiError(400, 'PAYMENT_METHOD_REFUSED', `the provider does not know this payment method`);
      }
      if (err instanceof ProviderUnavailable) {
        throw new ApiError(503, 'PROVIDER_UNAVAILABLE', 'the payment provider did not answer; try again');
      }
      throw err;
    }
    return this.store.transaction(async (repos) => {
      if (await repos.payments.methodOfAccount(accountId)) {
        throw conflict('PAYMENT_METHOD_EXISTS', 'this account has a payment method; remove it first to change it');
      }
      const saved: SavedPaymentMethod = {
        id: newId('pmt'),
        driverId: driver.id,
        accountId,
        provider: this.gateway.name,
        customerId: attached.customerId,
        methodId: attached.paymentMethodId,
        label: attached.label,
        verifiedAt: this.clock.now(),
        removedAt: null,
      };
      await repos.payments.insertMethod(saved);
      return saved;
    });
  }

  /** Removes the account's saved method: its plates are charged on the wallet again. */
  async remove(driver: Driver, accountId: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      const account = await repos.accounts.byId(accountId);
      if (!account || account.driverId !== driver.id) throw notFound('payment account', accountId);
      const method = await repos.payments.methodOfAccount(account.id);
      if (!method) throw notFound('payment method of account', accountId);
      await repos.payments.removeMethod(method.id, this.clock.now());
    });
  }
}
