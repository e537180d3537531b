/**
 * Refunds an operator gives on a settlement (a complaint upheld, a barrier
 * that would not open), with the reason recorded. The money rules:
 *
 * - Only money taken from a wallet is refunded here, back to that wallet
 *   (one journal entry of kind 'refund': wallet +x, revenue -x). A card
 *   charge is refunded through the payment provider; a free or waived stay
 *   has nothing to give back.
 * - The refunds of a settlement never sum to more than it charged; a
 *   settlement may be refunded in several parts up to that.
 * - Each refund has the operator's request id: asking again with the same
 *   id and the same settlement, amount and reason returns the first refund
 *   and moves no money; the same id with anything else is refused.
 *
 * The check and the write run in one transaction that holds the
 * settlement (`holdForRefund`: a row lock on PostgreSQL, the single writer
 * on SQLite), so two refunds at once cannot together pass the limit; the
 * request id's UNIQUE constraint is the backstop for two copies of one.
 */
import type { Clock } from '../../time/clock.js';
import { ApiError, conflict, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { checkedText } from '../names.js';
import type { Wallet } from '../payments/wallet.js';
import type { OperatorKey, Refund, Settlement, Store } from '../storage/repositories.js';

export const MAX_REASON_LENGTH = 500;

export interface RefundInput {
  requestId: string;
  /** minor units */
  amount: number;
  reason: string;
}

/** A settlement as a refund sees it: what it charged, what has gone back, what still may. */
export interface SettlementRefunds {
  settlementId: string;
  method: Settlement['method'];
  currency: string;
  charged: number;
  refunded: number;
  refundable: number;
  refunds: Refund[];
}

export class Refunds {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly wallet: Wallet,
  ) {}

  async of(settlementId: string): Promise<SettlementRefunds> {
    return this.store.transaction(async (repos) => {
      const settlement = await repos.settlements.byId(settlementId);
      if (!settlement) throw notFound('settlement', settlementId);
      return view(settlement, await repos.settlements.refundsOf(settlementId));
    });
  }

  /** Refunds part or all of a settlement; `replayed` when the request id was seen before (nothing moved). */
  async refund(
    settlementId: string,
    input: RefundInput,
    by: OperatorKey,
  ): Promise<{ refund: Refund; replayed: boolean }> {
    const reason = checkedReason(input.reason);
    return this.store.transaction(async (repos) => {
      const earlier = await repos.settlements.refundByRequest(input.requestId);
      if (earlier) {
        const same =
          earlier.settlementId === settlementId && earlier.amount === input.amount && earlier.reason === reason;
        if (!same) {
          throw new ApiError(
            409,
            'REQUEST_ID_REUSED',
            `requestId: ${input.requestId} was used for another refund (${earlier.id})`,
            'requestId',
          );
        }
        return { refund: earlier, replayed: true };
      }
      const settlement = await repos.settlements.holdForRefund(settlementId);
      if (!settlement) throw notFound('settlement', settlementId);
      if (settlement.method === 'card') {
        throw conflict('REFUND_THROUGH_PROVIDER', 'this stay was charged on a card: refund it through the provider');
      }
      if (settlement.journalEntryId === null || settlement.amount === 0) {
        throw conflict('NOTHING_CHARGED', 'nothing was charged for this stay');
      }
      const state = view(settlement, await repos.settlements.refundsOf(settlementId));
      if (input.amount > state.refundable) {
        throw new ApiError(
          409,
          'REFUND_EXCEEDS_CHARGE',
          `amount: at most ${state.refundable} (charged ${state.charged}, refunded ${state.refunded})`,
          'amount',
        );
      }
      const journalEntryId = await this.wallet.refundPart(repos, {
        chargeEntryId: settlement.journalEntryId,
        amount: input.amount,
        reference: `refund:${input.requestId}`,
      });
      if (journalEntryId === null) {
        throw conflict(
          'REFUND_THROUGH_PROVIDER',
          'this stay was not charged on a wallet: refund it through the provider',
        );
      }
      const refund: Refund = {
        id: newId('rfd'),
        settlementId,
        requestId: input.requestId,
        amount: input.amount,
        currency: settlement.currency,
        reason,
        operatorKeyId: by.id,
        journalEntryId,
        createdAt: this.clock.now(),
      };
      await repos.settlements.insertRefund(refund);
      return { refund, replayed: false };
    });
  }
}

function view(settlement: Settlement, refunds: Refund[]): SettlementRefunds {
  const refunded = refunds.reduce((sum, r) => sum + r.amount, 0);
  const chargedHere = settlement.method !== 'card' && settlement.journalEntryId !== null;
  return {
    settlementId: settlement.id,
    method: settlement.method,
    currency: settlement.currency,
    charged: settlement.amount,
    refunded,
    refundable: chargedHere ? Math.max(0, settlement.amount - refunded) : 0,
    refunds,
  };
}

/** `value` trimmed, or 400 INVALID_REASON naming the field "reason". */
function checkedReason(value: string): string {
  return checkedText(value, 'reason', 'INVALID_REASON', MAX_REASON_LENGTH, 'say why the money goes back');
}
