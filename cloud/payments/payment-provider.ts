/**
 * How the service moves money. The built-in wallet (`wallet.ts`) is the
 * embedded default; an external provider (a card acquirer, a bank's
 * direct debit) implements the same interface later. Every call runs inside
 * the caller's storage transaction and is idempotent by `reference`.
 */
import type { Repositories } from '../storage/repositories.js';

export interface ChargeRequest {
  accountId: string;
  /** minor units, > 0 */
  amount: number;
  currency: string;
  /** idempotency key: a second charge with the same reference returns the first result */
  reference: string;
}

export type ChargeResult =
  | { status: 'succeeded'; entryId: string }
  | { status: 'declined'; reason: 'insufficient_funds' | 'currency_mismatch' | 'unknown_account' }
  /** accepted by an external provider, final only when its webhook confirms */
  | { status: 'pending'; providerReference: string };

/** At most one refund per charge (whole or part); a repeated identical refund returns the first result. */
export interface RefundRequest {
  /** reference of the charge to refund */
  chargeReference: string;
  amount: number;
}

export type RefundResult = { status: 'succeeded'; entryId: string } | { status: 'rejected'; reason: string };

export interface PaymentProvider {
  readonly name: string;
  charge(repos: Repositories, request: ChargeRequest): Promise<ChargeResult>;
  refund(repos: Repositories, request: RefundRequest): Promise<RefundResult>;
  /**
   * A provider's webhook call confirming or failing a pending charge.
   * Returns the charge reference it settles, or throws when the call is not
   * authentic.
   */
  confirm(repos: Repositories, body: unknown, signature: string): Promise<{ reference: string; succeeded: boolean }>;
}
