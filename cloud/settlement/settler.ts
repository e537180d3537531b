/**
 * Settles one stay: computes the fee, charges the linked account, and
 * commits the settlement record to the ledger seam, all inside the caller's
 * transaction. Exactly once per session (the settlement row is unique per
 * session and per exit event, and the charge is idempotent by the exit
 * event id).
 *
 * Outcomes for a session that is still open:
 * - fee 0: settled as `free`, the barrier opens;
 * - plate linked and the charge succeeds: settled as `wallet`, opens;
 * - plate not linked, or the charge is declined: a pending payment the
 *   driver can pay through the API; the barrier holds. Once paid, the car
 *   may leave within the tariff's grace period.
 */
import type { Clock } from '../../time/clock.js';
import { newId } from '../ids.js';
import type { SettlementLedger } from '../ledger/settlement-ledger.js';
import type { PaymentProvider } from '../payments/payment-provider.js';
import type { Lot, ParkingSession, PendingPayment, Repositories, Settlement } from '../storage/repositories.js';
import { feeFor } from '../tariffs/tariff.js';

export type DecisionReason =
  | 'entry'
  | 'passback'
  | 'charged'
  | 'free'
  | 'paid'
  | 'payment_required'
  | 'payment_declined'
  | 'grace_expired'
  | 'review'
  | 'waived'
  /** the same car seen again at an exit just after its session closed (a re-read, a gate restart): open, no charge */
  | 'already_paid';

/** What the gate is told to do for one lane event. */
export interface Decision {
  eventId: string;
  action: 'open' | 'hold';
  reason: DecisionReason;
  /** minor units; null when no fee applies to the decision */
  fee: number | null;
  currency: string | null;
  sessionId: string | null;
  settlementId: string | null;
  pendingPaymentId: string | null;
  reviewId: string | null;
}

export interface SettlementObserver {
  settled(settlement: Settlement): void;
}

export interface ExitFacts {
  eventId: string;
  at: number;
}

export class Settler {
  constructor(
    private readonly clock: Clock,
    private readonly payments: PaymentProvider,
    private readonly ledger: SettlementLedger,
    private readonly observer: SettlementObserver = { settled: () => undefined },
  ) {}

  /** Decides an exit matched to `session` (an unclosed session of `lot`). */
  async settleExit(repos: Repositories, lot: Lot, session: ParkingSession, exit: ExitFacts): Promise<Decision> {
    const base = { eventId: exit.eventId, sessionId: session.id, reviewId: null };
    if (session.status === 'paid') {
      const graceEnds = (session.paidAt ?? 0) + lot.tariff.graceMinutes * 60_000;
      if (exit.at > graceEnds) {
        return {
          ...base,
          action: 'hold',
          reason: 'grace_expired',
          fee: null,
          currency: null,
          settlementId: null,
          pendingPaymentId: null,
        };
      }
      await repos.sessions.update({
        ...session,
        status: 'closed',
        exitAt: exit.at,
        exitEventId: session.exitEventId ?? exit.eventId,
      });
      const settlement = await repos.settlements.byId(await this.settlementIdOfSession(repos, session));
      return {
        ...base,
        action: 'open',
        reason: 'paid',
        fee: session.fee,
        currency: lot.tariff.currency,
        settlementId: settlement?.id ?? null,
        pendingPaymentId: null,
      };
    }
    if (session.status === 'awaiting_payment') {
      const pending = (await repos.sessions.pendingPaymentsOfPlates([session.plate])).find(
        (p) => p.sessionId === session.id && p.status === 'pending',
      );
      return {
        ...base,
        action: 'hold',
        reason: 'payment_required',
        fee: session.fee,
        currency: lot.tariff.currency,
        settlementId: null,
        pendingPaymentId: pending?.id ?? null,
      };
    }
    const fee = feeFor(lot.tariff, session.entryAt, Math.max(exit.at, session.entryAt));
    const currency = lot.tariff.currency;
    if (fee === 0) {
      const settlement = await this.record(repos, lot, session, exit, {
        amount: 0,
        method: 'free',
        accountId: null,
        driverId: null,
        journalEntryId: null,
      });
      await repos.sessions.update({ ...session, status: 'closed', exitAt: exit.at, exitEventId: exit.eventId, fee: 0 });
      return {
        ...base,
        action: 'open',
        reason: 'free',
        fee: 0,
        currency,
        settlementId: settlement.id,
        pendingPaymentId: null,
      };
    }
    const link = await repos.links.activeByPlate(session.plate);
    let reason: DecisionReason = 'payment_required';
    if (link) {
      const result = await this.payments.charge(repos, {
        accountId: link.accountId,
        amount: fee,
        currency,
        reference: `exit:${exit.eventId}`,
      });
      if (result.status === 'succeeded') {
        const settlement = await this.record(repos, lot, session, exit, {
          amount: fee,
          method: 'wallet',
          accountId: link.accountId,
          driverId: link.driverId,
          journalEntryId: result.entryId,
        });
        await repos.sessions.update({ ...session, status: 'closed', exitAt: exit.at, exitEventId: exit.eventId, fee });
        return {
          ...base,
          action: 'open',
          reason: 'charged',
          fee,
          currency,
          settlementId: settlement.id,
          pendingPaymentId: null,
        };
      }
      reason = 'payment_declined';
    }
    const pending: PendingPayment = {
      id: newId('pay'),
      sessionId: session.id,
      plate: session.plate,
      amount: fee,
      currency,
      status: 'pending',
      createdAt: this.clock.now(),
      paidAt: null,
      paidByAccountId: null,
    };
    await repos.sessions.insertPendingPayment(pending);
    await repos.sessions.update({ ...session, status: 'awaiting_payment', exitEventId: exit.eventId, fee });
    return { ...base, action: 'hold', reason, fee, currency, settlementId: null, pendingPaymentId: pending.id };
  }

  /** A driver pays a pending payment from one of their wallets; the car may then leave within the grace period. */
  async payPending(
    repos: Repositories,
    pending: PendingPayment,
    account: { id: string; driverId: string },
  ): Promise<{ settlement: Settlement } | { declined: string }> {
    const session = await repos.sessions.byId(pending.sessionId);
    const lot = session ? await repos.lots.lotById(session.lotId) : null;
    if (!session || !lot || !session.exitEventId) return { declined: 'the parking session is gone' };
    const result = await this.payments.charge(repos, {
      accountId: account.id,
      amount: pending.amount,
      currency: pending.currency,
      reference: `pending:${pending.id}`,
    });
    if (result.status !== 'succeeded') return { declined: result.status === 'declined' ? result.reason : 'pending' };
    const now = this.clock.now();
    await repos.sessions.updatePendingPayment({ ...pending, status: 'paid', paidAt: now, paidByAccountId: account.id });
    const exit = { eventId: session.exitEventId, at: now };
    const settlement = await this.record(repos, lot, session, exit, {
      amount: pending.amount,
      method: 'paid-before-exit',
      accountId: account.id,
      driverId: account.driverId,
      journalEntryId: result.entryId,
    });
    await repos.sessions.update({ ...session, status: 'paid', paidAt: now });
    return { settlement };
  }

  /** Closes a session without charge (an operator's waiver), still recorded in the ledger. */
  async waive(repos: Repositories, lot: Lot, session: ParkingSession, exit: ExitFacts): Promise<Decision> {
    const settlement = await this.record(repos, lot, session, exit, {
      amount: 0,
      method: 'waived',
      accountId: null,
      driverId: null,
      journalEntryId: null,
    });
    await repos.sessions.update({
      ...session,
      status: 'closed',
      exitAt: exit.at,
      exitEventId: session.exitEventId ?? exit.eventId,
      fee: 0,
    });
    return {
      eventId: exit.eventId,
      action: 'open',
      reason: 'waived',
      fee: 0,
      currency: lot.tariff.currency,
      sessionId: session.id,
      settlementId: settlement.id,
      pendingPaymentId: null,
      reviewId: null,
    };
  }

  private async settlementIdOfSession(repos: Repositories, session: ParkingSession): Promise<string> {
    const s = session.exitEventId ? await repos.settlements.byExitEvent(session.exitEventId) : null;
    return s?.id ?? '';
  }

  private async record(
    repos: Repositories,
    lot: Lot,
    session: ParkingSession,
    exit: ExitFacts,
    how: Pick<Settlement, 'amount' | 'method' | 'accountId' | 'driverId' | 'journalEntryId'>,
  ): Promise<Settlement> {
    const settlement: Settlement = {
      id: newId('stl'),
      exitEventId: exit.eventId,
      sessionId: session.id,
      lotId: lot.id,
      currency: lot.tariff.currency,
      entryAt: session.entryAt,
      exitAt: exit.at,
      createdAt: this.clock.now(),
      ...how,
    };
    await repos.settlements.insert(settlement);
    await this.ledger.append(repos, settlement, session.plate);
    this.observer.settled(settlement);
    return settlement;
  }
}
