/**
 * Settles one stay: computes the fee, charges the linked account, and
 * commits the settlement record to the ledger seam, all inside the caller's
 * transaction. Exactly once per session (the settlement row is unique per
 * session and per exit event, and the charge is idempotent by the exit
 * event id).
 *
 * Outcomes for a session that is still open:
 * - fee 0: settled as `free`, the barrier opens;
 * - plate linked to a wallet and the charge succeeds (its balance, then the
 *   driver's unused credit by standing): settled as `wallet`, opens;
 * - plate linked to an account with a saved payment method: a card charge
 *   is written (`started`) and the decision is provisional (`charging`);
 *   `CardCharges` asks the provider outside the transaction and turns it
 *   into the gate's answer within the lane's budget (card-charges.ts):
 *   `finishCardCharge` settles it as `card` (opens) or makes a pending
 *   payment (`payment_declined`, holds); a provider slower than the budget
 *   gets `answerWhileCharging`: hold (`payment_pending`) or, when the
 *   driver's credit covers the fee and the lot is configured so, open
 *   (`charged_on_credit`); the charge settles when the provider answers;
 * - plate not linked, or the charge is declined: a pending payment the
 *   driver can pay through the API; the barrier holds. Once paid, the car
 *   may leave within the tariff's grace period.
 */
import type { Clock } from '../../time/clock.js';
import { newId } from '../ids.js';
import type { SettlementLedger } from '../ledger/settlement-ledger.js';
import type { DriverCredit } from '../payments/driver-credit.js';
import type { Wallet } from '../payments/wallet.js';
import type {
  CardCharge,
  Lot,
  ParkingSession,
  Payer,
  PendingPayment,
  PlateLink,
  Repositories,
  SavedPaymentMethod,
  Settlement,
} from '../storage/repositories.js';
import { feeFor } from '../tariffs/tariff.js';

export type DecisionReason =
  | 'entry'
  | 'passback'
  | 'charged'
  | 'free'
  | 'paid'
  | 'payment_required'
  | 'payment_declined'
  /** provisional, inside the cloud only: a card charge was started and is being asked of the provider */
  | 'charging'
  /** hold: the provider has not answered the card charge within the lane's budget */
  | 'payment_pending'
  /** open: the provider has not answered yet, and the driver's credit standing covers the fee */
  | 'charged_on_credit'
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
    private readonly wallet: Wallet,
    private readonly credit: DriverCredit,
    private readonly ledger: SettlementLedger,
    private readonly observer: SettlementObserver = { settled: () => undefined },
  ) {}

  /**
   * Decides an exit matched to `session` (an unclosed session of `lot`). `payer`: the payer of the
   * session's plate as read in this transaction (`links.payerOfPlate`, with the session's lock), or
   * undefined to read it here when it is needed.
   */
  async settleExit(
    repos: Repositories,
    lot: Lot,
    session: ParkingSession,
    exit: ExitFacts,
    payer?: Payer | null,
  ): Promise<Decision> {
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
      const card = session.exitEventId ? await repos.payments.chargeByExitEvent(session.exitEventId) : null;
      if (card?.status === 'started') {
        return {
          ...base,
          action: 'hold',
          reason: 'payment_pending',
          fee: session.fee,
          currency: lot.tariff.currency,
          settlementId: null,
          pendingPaymentId: null,
        };
      }
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
    const { link, account, method } = (payer !== undefined ? payer : await repos.links.payerOfPlate(session.plate)) ?? {
      link: null,
      account: null,
      method: null,
    };
    let reason: DecisionReason = 'payment_required';
    if (link) {
      if (method) return this.beginCardCharge(repos, lot, session, exit, link, method, fee);
      const result = await this.wallet.charge(repos, {
        accountId: link.accountId,
        account,
        amount: fee,
        currency,
        reference: `exit:${exit.eventId}`,
        creditAvailable: () => this.credit.available(repos, link.driverId, currency),
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
    const result = await this.wallet.charge(repos, {
      accountId: account.id,
      amount: pending.amount,
      currency: pending.currency,
      reference: `pending:${pending.id}`,
      creditAvailable: () => this.credit.available(repos, account.driverId, pending.currency),
    });
    if (result.status !== 'succeeded') return { declined: result.reason };
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

  /** Writes the card charge of an exit (before the provider is asked) and answers provisionally. */
  private async beginCardCharge(
    repos: Repositories,
    lot: Lot,
    session: ParkingSession,
    exit: ExitFacts,
    link: PlateLink,
    method: SavedPaymentMethod,
    fee: number,
  ): Promise<Decision> {
    const charge: CardCharge = {
      id: newId('chg'),
      exitEventId: exit.eventId,
      sessionId: session.id,
      lotId: lot.id,
      accountId: link.accountId,
      driverId: link.driverId,
      methodId: method.methodId,
      amount: fee,
      currency: lot.tariff.currency,
      provider: method.provider,
      status: 'started',
      gateAnswer: 'none',
      providerPaymentId: null,
      failure: null,
      attempts: 0,
      createdAt: this.clock.now(),
      settledAt: null,
    };
    await repos.payments.insertCharge(charge);
    await repos.sessions.update({ ...session, status: 'awaiting_payment', exitEventId: exit.eventId, fee });
    return {
      eventId: exit.eventId,
      action: 'hold',
      reason: 'charging',
      fee,
      currency: charge.currency,
      sessionId: session.id,
      settlementId: null,
      pendingPaymentId: null,
      reviewId: null,
    };
  }

  /**
   * The provider's final answer to a card charge, applied once (a second
   * answer, a webhook after the API reply, changes nothing). Returns the
   * gate's decision when the gate has not been answered yet, else null.
   */
  async finishCardCharge(
    repos: Repositories,
    chargeId: string,
    outcome: { status: 'succeeded'; providerPaymentId: string } | { status: 'declined'; reason: string },
  ): Promise<Decision | null> {
    const charge = await repos.payments.chargeById(chargeId);
    if (!charge || charge.status !== 'started') return null;
    const session = await repos.sessions.byId(charge.sessionId);
    const lot = await repos.lots.lotById(charge.lotId);
    const event = await repos.sessions.eventById(charge.exitEventId);
    if (!session || !lot) throw new Error(`card charge ${charge.id}: its session or lot is gone`);
    const now = this.clock.now();
    const exit = { eventId: charge.exitEventId, at: event?.at ?? now };
    const base = { eventId: charge.exitEventId, sessionId: session.id, reviewId: null, fee: charge.amount };
    let decision: Decision;
    if (outcome.status === 'succeeded') {
      const journalEntryId = await this.wallet.recordCardCharge(repos, charge);
      const settlement = await this.record(repos, lot, session, exit, {
        amount: charge.amount,
        method: 'card',
        accountId: charge.accountId,
        driverId: charge.driverId,
        journalEntryId,
      });
      // a car still at the barrier leaves on its next read within the grace period; a released one is gone
      await repos.sessions.update(
        charge.gateAnswer === 'held'
          ? { ...session, status: 'paid', paidAt: now }
          : { ...session, status: 'closed', exitAt: exit.at },
      );
      await repos.payments.updateCharge({
        ...charge,
        status: 'succeeded',
        providerPaymentId: outcome.providerPaymentId,
        settledAt: now,
        gateAnswer: charge.gateAnswer === 'none' ? 'released' : charge.gateAnswer,
      });
      decision = {
        ...base,
        action: 'open',
        reason: 'charged',
        currency: charge.currency,
        settlementId: settlement.id,
        pendingPaymentId: null,
      };
    } else {
      const pending: PendingPayment = {
        id: newId('pay'),
        sessionId: session.id,
        plate: session.plate,
        amount: charge.amount,
        currency: charge.currency,
        status: 'pending',
        createdAt: now,
        paidAt: null,
        paidByAccountId: null,
      };
      await repos.sessions.insertPendingPayment(pending);
      await repos.payments.updateCharge({
        ...charge,
        status: 'declined',
        failure: outcome.reason,
        settledAt: now,
        gateAnswer: charge.gateAnswer === 'none' ? 'held' : charge.gateAnswer,
      });
      decision = {
        ...base,
        action: 'hold',
        reason: 'payment_declined',
        currency: charge.currency,
        settlementId: null,
        pendingPaymentId: pending.id,
      };
    }
    if (charge.gateAnswer !== 'none') return null;
    await repos.sessions.updateEventDecision(charge.exitEventId, JSON.stringify(decision));
    return decision;
  }

  /**
   * The lane's budget ran out before the provider answered: hold the car,
   * or (mode `credit`) let it out when the driver's unused credit covers
   * the fee. A charge already answered gets its stored decision.
   */
  async answerWhileCharging(repos: Repositories, chargeId: string, mode: 'hold' | 'credit'): Promise<Decision> {
    const charge = await repos.payments.chargeById(chargeId);
    if (!charge) throw new Error(`no card charge ${chargeId}`);
    const event = await repos.sessions.eventById(charge.exitEventId);
    const stored = event ? (JSON.parse(event.decision) as Decision) : null;
    if (stored && (charge.status !== 'started' || charge.gateAnswer !== 'none')) return stored;
    if (mode === 'credit') await repos.accounts.holdDriverMoney(charge.driverId); // as a wallet charge does
    const release =
      mode === 'credit' && (await this.credit.available(repos, charge.driverId, charge.currency)) >= charge.amount;
    await repos.payments.updateCharge({ ...charge, gateAnswer: release ? 'released' : 'held' });
    const decision: Decision = {
      eventId: charge.exitEventId,
      action: release ? 'open' : 'hold',
      reason: release ? 'charged_on_credit' : 'payment_pending',
      fee: charge.amount,
      currency: charge.currency,
      sessionId: charge.sessionId,
      settlementId: null,
      pendingPaymentId: null,
      reviewId: null,
    };
    await repos.sessions.updateEventDecision(charge.exitEventId, JSON.stringify(decision));
    return decision;
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
