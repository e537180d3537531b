/**
 * The built-in wallet: each driver account holds a balance in one currency
 * and may go below zero down to its credit limit (deposit-free parking for
 * drivers in good standing).
 *
 * Bookkeeping is double-entry. Every money movement is one journal entry
 * whose postings sum to zero:
 * - top-up: wallet +x, `funding` (money received from outside) -x
 * - charge: wallet -x, `revenue` +x
 * - refund: the charge reversed, in whole or part, at most once per charge
 * A wallet's balance is the sum of its postings; the sum over all accounts
 * is always zero. Each entry has a unique reference, so a replayed top-up or
 * charge returns the first result instead of moving money twice.
 */
import { ApiError, badRequest } from '../errors.js';
import { newId } from '../ids.js';
import type { Clock } from '../../time/clock.js';
import type { PaymentAccount, Repositories } from '../storage/repositories.js';
import type { ChargeRequest, ChargeResult, PaymentProvider, RefundRequest, RefundResult } from './payment-provider.js';

export const FUNDING_ACCOUNT = 'funding';
export const REVENUE_ACCOUNT = 'revenue';

export class Wallet implements PaymentProvider {
  readonly name = 'wallet';

  constructor(private readonly clock: Clock) {}

  async systemAccount(repos: Repositories, label: string, currency: string): Promise<PaymentAccount> {
    const existing = await repos.accounts.systemAccount(label, currency);
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

  /** Adds money received from outside (a card top-up, a bank transfer) to a wallet. */
  async topUp(repos: Repositories, accountId: string, amount: number, reference: string): Promise<string> {
    const previous = await repos.accounts.entryByReference(reference);
    if (previous) {
      if (previous.kind !== 'topup' || previous.amount !== amount) {
        throw new ApiError(409, 'REFERENCE_REUSED', `reference ${reference} was already used for another movement`);
      }
      return previous.id;
    }
    const account = await repos.accounts.byId(accountId);
    if (!account || account.kind !== 'wallet') throw badRequest('UNKNOWN_ACCOUNT', `no wallet ${accountId}`);
    const funding = await this.systemAccount(repos, FUNDING_ACCOUNT, account.currency);
    const entryId = newId('jrn');
    await repos.accounts.insertEntry(
      { id: entryId, kind: 'topup', reference, currency: account.currency, amount, createdAt: this.clock.now() },
      [
        { entryId, accountId: account.id, amount },
        { entryId, accountId: funding.id, amount: -amount },
      ],
    );
    return entryId;
  }

  async charge(repos: Repositories, request: ChargeRequest): Promise<ChargeResult> {
    const previous = await repos.accounts.entryByReference(request.reference);
    if (previous) return { status: 'succeeded', entryId: previous.id };
    const account = await repos.accounts.byId(request.accountId);
    if (!account || account.kind !== 'wallet') return { status: 'declined', reason: 'unknown_account' };
    if (account.currency !== request.currency) return { status: 'declined', reason: 'currency_mismatch' };
    const balance = await repos.accounts.balance(account.id);
    if (balance - request.amount < -account.creditLimit) return { status: 'declined', reason: 'insufficient_funds' };
    const revenue = await this.systemAccount(repos, REVENUE_ACCOUNT, account.currency);
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
    const revenue = await this.systemAccount(repos, REVENUE_ACCOUNT, charge.currency);
    const entryId = newId('jrn');
    await repos.accounts.insertEntry(
      {
        id: entryId,
        kind: 'refund',
        reference,
        currency: charge.currency,
        amount: request.amount,
        createdAt: this.clock.now(),
      },
      [
        { entryId, accountId: walletLeg.accountId, amount: request.amount },
        { entryId, accountId: revenue.id, amount: -request.amount },
      ],
    );
    return { status: 'succeeded', entryId };
  }

  /** The wallet settles every charge at once, so there is never a webhook to confirm. */
  async confirm(): Promise<{ reference: string; succeeded: boolean }> {
    throw new ApiError(400, 'NOT_SUPPORTED', 'the wallet settles charges at once and takes no webhook calls');
  }
}
