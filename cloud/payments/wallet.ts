/**
 * The built-in wallet: each driver account holds a balance in one currency.
 * Money enters a wallet only through the payment provider: `creditTopUp` is
 * called for a top-up the provider's signed webhook confirmed (see
 * top-ups.ts), never on a driver's word. A wallet may go below zero only
 * as far as the driver's credit standing allows (credit-standing.ts), and
 * that credit is the driver's, shared by all their wallets.
 *
 * Bookkeeping is double-entry. Every money movement is one journal entry
 * whose postings sum to zero:
 * - top-up: wallet +x, `funding` (money received through the provider) -x
 * - charge: wallet -x, `revenue` +x
 * - card charge (an exit charged on a saved payment method): `card:<provider>`
 *   (money the provider owes us) -x, `revenue` +x
 * - refund: the charge reversed, in whole or part, at most once per charge
 *   (`refund`); or an operator's refund of part of a wallet charge, one of
 *   several whose sum the caller keeps within the charge (`refundPart`)
 * A wallet's balance is the sum of its postings; the sum over all accounts
 * is always zero. Each entry has a unique reference, so a replayed top-up or
 * charge returns the first result instead of moving money twice.
 */
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import type { Clock } from '../../time/clock.js';
import type { CardCharge, PaymentAccount, Repositories, TopUp } from '../storage/repositories.js';

export interface ChargeRequest {
  accountId: string;
  /** the account `accountId` as the caller read it in this transaction (null: there is none), or undefined to read it here */
  account?: PaymentAccount | null;
  /** minor units, > 0 */
  amount: number;
  currency: string;
  /** idempotency key: a second charge with the same reference returns the first result */
  reference: string;
  /** how much more the driver may owe (their standing's credit not yet used), minor units; asked only when the balance falls short */
  creditAvailable: () => Promise<number>;
}

export type ChargeResult =
  | { status: 'succeeded'; entryId: string }
  | { status: 'declined'; reason: 'insufficient_funds' | 'currency_mismatch' | 'unknown_account' };

/** At most one refund per charge (whole or part); a repeated identical refund returns the first result. */
export interface RefundRequest {
  /** reference of the charge to refund */
  chargeReference: string;
  amount: number;
}

export type RefundResult = { status: 'succeeded'; entryId: string } | { status: 'rejected'; reason: string };

/** a wallet in the charge's currency: the only account a charge takes money from */
const chargeable = (account: PaymentAccount, currency: string): boolean =>
  account.kind === 'wallet' && account.currency === currency;

export const FUNDING_ACCOUNT = 'funding';
export const REVENUE_ACCOUNT = 'revenue';

export class Wallet {
  readonly name = 'wallet';

  constructor(private readonly clock: Clock) {}

  async systemAccount(repos: Repositories, label: string, currency: string): Promise<PaymentAccount> {
    return this.existingOrNew(repos, await repos.accounts.systemAccount(label, currency), label, currency);
  }

  /** the system account `existing` as read in this transaction, or a new one when it was not there */
  private async existingOrNew(
    repos: Repositories,
    existing: PaymentAccount | null,
    label: string,
    currency: string,
  ): Promise<PaymentAccount> {
    if (existing) return existing;
    const account: PaymentAccount = {
      id: newId('acc'),
      driverId: null,
      kind: 'system',
      currency,
      creditLimit: 0,
      label,
      createdAt: this.clock.now(),
    };
    await repos.accounts.insert(account);
    return account;
  }

  /**
   * Credits a wallet with a top-up the provider confirmed (its webhook was
   * verified by the caller); idempotent by the top-up's id.
   */
  async creditTopUp(repos: Repositories, topUp: TopUp): Promise<string> {
    const reference = `topup:${topUp.id}`;
    const previous = await repos.accounts.entryByReference(reference);
    if (previous) return previous.id;
    const account = await repos.accounts.byId(topUp.accountId);
    if (!account || account.kind !== 'wallet')
      throw new ApiError(409, 'UNKNOWN_ACCOUNT', `no wallet ${topUp.accountId}`);
    if (account.currency !== topUp.currency) {
      throw new ApiError(
        409,
        'CURRENCY_MISMATCH',
        `top-up ${topUp.id} is in ${topUp.currency}, the wallet in ${account.currency}`,
      );
    }
    const funding = await this.systemAccount(repos, FUNDING_ACCOUNT, account.currency);
    const entryId = newId('jrn');
    await repos.accounts.insertEntry(
      {
        id: entryId,
        kind: 'topup',
        reference,
        currency: account.currency,
        amount: topUp.amount,
        createdAt: this.clock.now(),
      },
      [
        { entryId, accountId: account.id, amount: topUp.amount },
        { entryId, accountId: funding.id, amount: -topUp.amount },
      ],
    );
    return entryId;
  }

  /** Books an exit the provider charged on a saved payment method; idempotent by the exit event. */
  async recordCardCharge(repos: Repositories, charge: CardCharge): Promise<string> {
    const reference = `exit:${charge.exitEventId}`;
    const previous = await repos.accounts.entryByReference(reference);
    if (previous) return previous.id;
    const clearing = await this.systemAccount(repos, `card:${charge.provider}`, charge.currency);
    const revenue = await this.systemAccount(repos, REVENUE_ACCOUNT, charge.currency);
    const entryId = newId('jrn');
    await repos.accounts.insertEntry(
      {
        id: entryId,
        kind: 'charge',
        reference,
        currency: charge.currency,
        amount: charge.amount,
        createdAt: this.clock.now(),
      },
      [
        { entryId, accountId: clearing.id, amount: -charge.amount },
        { entryId, accountId: revenue.id, amount: charge.amount },
      ],
    );
    return entryId;
  }

  async charge(repos: Repositories, request: ChargeRequest): Promise<ChargeResult> {
    const known = request.account;
    if (known && known.id !== request.accountId)
      throw new Error(`charge: account ${known.id} is not ${request.accountId}`);
    // the driver's money is held from here to the commit: no other charge of theirs reads the balance or
    // the credit until this one is committed (a charge with this reference committed meanwhile makes the
    // insert of its entry below fail on the UNIQUE reference; the store runs the transaction again, which
    // finds it). When the caller read the account, the hold goes with the reference's read (one round trip;
    // a replay then holds the driver for nothing until its commit)
    const holdNow = known && chargeable(known, request.currency) && known.driverId;
    const [previous, account] = await repos.together(() =>
      Promise.all([
        repos.accounts.entryByReference(request.reference),
        known !== undefined ? known : repos.accounts.byId(request.accountId),
        holdNow ? repos.accounts.holdDriverMoney(holdNow) : undefined,
      ]),
    );
    if (previous) return { status: 'succeeded', entryId: previous.id };
    if (!account || account.kind !== 'wallet') return { status: 'declined', reason: 'unknown_account' };
    if (!chargeable(account, request.currency)) return { status: 'declined', reason: 'currency_mismatch' };
    if (account.driverId && !holdNow) await repos.accounts.holdDriverMoney(account.driverId);
    // read after the hold, so the balance includes every charge of the driver committed before it
    const [balance, revenueAccount] = await repos.together(() =>
      Promise.all([
        repos.accounts.balance(account.id),
        repos.accounts.systemAccount(REVENUE_ACCOUNT, account.currency),
      ]),
    );
    // the debt this charge adds (beyond what the wallet already owes) must fit the driver's unused credit
    const addedDebt = Math.max(0, request.amount - balance) - Math.max(0, -balance);
    if (addedDebt > 0 && addedDebt > Math.max(0, await request.creditAvailable())) {
      return { status: 'declined', reason: 'insufficient_funds' };
    }
    const revenue = await this.existingOrNew(repos, revenueAccount, REVENUE_ACCOUNT, account.currency);
    const entryId = newId('jrn');
    await repos.accounts.insertEntry(
      {
        id: entryId,
        kind: 'charge',
        reference: request.reference,
        currency: account.currency,
        amount: request.amount,
        createdAt: this.clock.now(),
      },
      [
        { entryId, accountId: account.id, amount: -request.amount },
        { entryId, accountId: revenue.id, amount: request.amount },
      ],
    );
    return { status: 'succeeded', entryId };
  }

  async refund(repos: Repositories, request: RefundRequest): Promise<RefundResult> {
    const reference = `refund-of:${request.chargeReference}`;
    const previous = await repos.accounts.entryByReference(reference);
    if (previous) {
      return previous.amount === request.amount
        ? { status: 'succeeded', entryId: previous.id }
        : { status: 'rejected', reason: 'this charge has already been refunded' };
    }
    const charge = await repos.accounts.entryByReference(request.chargeReference);
    if (!charge || charge.kind !== 'charge') return { status: 'rejected', reason: 'no such charge' };
    if (!Number.isInteger(request.amount) || request.amount <= 0 || request.amount > charge.amount) {
      return { status: 'rejected', reason: `refund must be an integer from 1 to ${charge.amount}` };
    }
    const walletLeg = (await repos.accounts.postingsOfEntry(charge.id)).find((p) => p.amount < 0);
    if (!walletLeg) return { status: 'rejected', reason: 'charged account not found' };
    const entryId = await this.postRefund(repos, walletLeg.accountId, charge.currency, request.amount, reference);
    return { status: 'succeeded', entryId };
  }

  /**
   * Gives `amount` of the wallet charge `chargeEntryId` back to the wallet it came from (wallet +x,
   * `revenue` -x), as the entry `reference`; the caller keeps the sum of a charge's refunds within it.
   * Null when the entry is not a charge on a wallet (a card charge is refunded through its provider).
   */
  async refundPart(
    repos: Repositories,
    request: { chargeEntryId: string; amount: number; reference: string },
  ): Promise<string | null> {
    const legs = await repos.accounts.postingsOfEntry(request.chargeEntryId);
    const walletLeg = legs.find((p) => p.amount < 0);
    const account = walletLeg ? await repos.accounts.byId(walletLeg.accountId) : null;
    if (!account || account.kind !== 'wallet') return null;
    return this.postRefund(repos, account.id, account.currency, request.amount, request.reference);
  }

  /** The refund's journal entry: `amount` back into the wallet `accountId`, out of revenue; returns its id. */
  private async postRefund(
    repos: Repositories,
    accountId: string,
    currency: string,
    amount: number,
    reference: string,
  ): Promise<string> {
    const revenue = await this.systemAccount(repos, REVENUE_ACCOUNT, currency);
    const entryId = newId('jrn');
    await repos.accounts.insertEntry(
      { id: entryId, kind: 'refund', reference, currency, amount, createdAt: this.clock.now() },
      [
        { entryId, accountId, amount },
        { entryId, accountId: revenue.id, amount: -amount },
      ],
    );
    return entryId;
  }
}
