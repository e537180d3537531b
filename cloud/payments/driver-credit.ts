/**
 * A driver's credit, read from storage: gathers the facts of their history
 * (credit-standing.ts decides from them) and tells how much credit is still
 * unused. Credit exists only in the default currency and is the driver's,
 * not a wallet's: the debt of all their wallets counts against one limit,
 * so opening wallets or moving plates between them never adds credit.
 */
import type { Clock } from '../../time/clock.js';
import type { Repositories } from '../storage/repositories.js';
import type { Standing, StandingFacts, StandingPolicy } from './credit-standing.js';
import { creditStanding } from './credit-standing.js';

/** settlement methods where money was actually received from the driver */
const PAID_METHODS = new Set(['wallet', 'card', 'paid-before-exit']);

export interface DriverCreditView extends Standing {
  currency: string;
  /** what the driver owes now: negative wallet balances, and card charges let out on credit and not yet answered */
  debt: number;
  /** creditLimit - debt, never below 0 */
  available: number;
}

export class DriverCredit {
  constructor(
    private readonly clock: Clock,
    private readonly currency: string,
    private readonly policy: StandingPolicy,
  ) {}

  async facts(repos: Repositories, driverId: string): Promise<StandingFacts> {
    const driver = await repos.drivers.byId(driverId);
    const now = this.clock.now();
    if (!driver) throw new Error(`no driver ${driverId}`);
    const methods = await repos.payments.methodsOfDriver(driverId);
    const settlements = await repos.settlements.ofDriver(driverId);
    const links = await repos.links.activeOfDriver(driverId);
    let unpaidAmount = 0;
    if (links.length > 0) {
      const since = new Map(links.map((l) => [l.plate, l.createdAt]));
      for (const p of await repos.sessions.pendingPaymentsOfPlates([...since.keys()])) {
        if (p.status === 'pending' && p.createdAt >= (since.get(p.plate) ?? Infinity)) unpaidAmount += p.amount;
      }
    }
    let disputedAmount = 0;
    for (const account of await repos.accounts.ofDriver(driverId)) {
      for (const posting of await repos.accounts.postingsOf(account.id)) {
        if (posting.kind === 'refund') disputedAmount += posting.amount;
      }
    }
    return {
      now: Math.max(now, driver.createdAt),
      driverSince: driver.createdAt,
      verifiedPaymentMethod: methods.some((m) => m.removedAt === null),
      settledStays: settlements.filter((s) => s.amount > 0 && PAID_METHODS.has(s.method)).length,
      unpaidAmount,
      disputedAmount,
    };
  }

  async of(repos: Repositories, driverId: string): Promise<DriverCreditView> {
    const standing = creditStanding(await this.facts(repos, driverId), this.policy);
    let debt = 0;
    for (const account of await repos.accounts.ofDriver(driverId)) {
      if (account.kind !== 'wallet' || account.currency !== this.currency) continue;
      debt += Math.max(0, -(await repos.accounts.balance(account.id)));
    }
    // cars let out on credit whose card charge the provider has not answered yet
    for (const charge of await repos.payments.startedChargesOfDriver(driverId)) {
      if (charge.gateAnswer === 'released' && charge.currency === this.currency) debt += charge.amount;
    }
    return { ...standing, currency: this.currency, debt, available: Math.max(0, standing.creditLimit - debt) };
  }

  /** unused credit the driver has in `currency` (0 in any other currency than the default) */
  async available(repos: Repositories, driverId: string, currency: string): Promise<number> {
    if (currency !== this.currency) return 0;
    return (await this.of(repos, driverId)).available;
  }
}
