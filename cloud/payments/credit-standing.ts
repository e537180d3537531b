/**
 * Credit by standing: whether a driver's linked car may leave before its
 * charge has succeeded, and up to what amount. One standing per driver,
 * computed from their history, never from how many wallets or plate links
 * they have: opening wallets or moving plates adds no credit.
 *
 * INVARIANTS (property-tested in test/cloud/credit-standing.test.ts):
 * - the score is an integer in [0, 1000]; the credit limit an integer >= 0;
 * - a driver with no verified payment method and no settled stay has no
 *   credit (a new driver parks on what they have paid in, nothing more);
 * - more unpaid or disputed money never raises the score or the limit, and
 *   any unpaid money lowers the limit by at least that amount (to zero);
 * - more settled stays, an older account or a verified payment method never
 *   lower them.
 *
 * The formula (README "Money"):
 *   score = 300
 *         + 250 if a payment method is on file and verified by the provider
 *         + 4 per settled, paid stay (at most 50 stays count: +200)
 *         + account age in days * 100 / 365 (at most a year counts: +100)
 *         - 150 if any amount is unpaid, and 50 more per whole `unit` unpaid (at most -500)
 *         - 100 if any amount is disputed, and 50 more per whole `unit` disputed (at most -400)
 *   clamped to [0, 1000]. Good standing is a score of 600 or more (the
 *   seeds' deposit-free threshold); below it the limit is 0. In good
 *   standing: limit = maxCredit * (score - 500) / 500, rounded down, less
 *   the unpaid amount, never below 0.
 * Pure: no I/O, no clock (the caller passes `now`).
 */

export interface StandingFacts {
  /** ms since the epoch */
  now: number;
  /** when the driver signed up, ms since the epoch */
  driverSince: number;
  /** a payment method is saved at the provider and the provider accepted it */
  verifiedPaymentMethod: boolean;
  /** stays settled with money actually received (charged or paid), not free or waived ones */
  settledStays: number;
  /** minor units the driver owes and has not paid: pending payments of their plates */
  unpaidAmount: number;
  /** minor units of the driver's charges under dispute or refunded after a complaint */
  disputedAmount: number;
}

export interface StandingPolicy {
  /** the largest credit limit, minor units of the default currency */
  maxCredit: number;
  /** minor units that count as one step of unpaid or disputed money (e.g. 1000 = 10.00) */
  unit: number;
}

export interface Standing {
  score: number;
  /** minor units of the default currency the driver may owe; 0 below good standing */
  creditLimit: number;
  goodStanding: boolean;
}

export const GOOD_STANDING_SCORE = 600;
const DAY_MS = 86_400_000;

export function creditStanding(facts: StandingFacts, policy: StandingPolicy): Standing {
  checkFacts(facts);
  if (!Number.isSafeInteger(policy.maxCredit) || policy.maxCredit < 0)
    throw new RangeError('standing: maxCredit must be a non-negative integer');
  if (!Number.isSafeInteger(policy.unit) || policy.unit < 1)
    throw new RangeError('standing: unit must be a positive integer');
  if (!facts.verifiedPaymentMethod && facts.settledStays === 0) {
    return { score: 0, creditLimit: 0, goodStanding: false };
  }
  const ageDays = Math.max(0, Math.floor((facts.now - facts.driverSince) / DAY_MS));
  let score = 300;
  if (facts.verifiedPaymentMethod) score += 250;
  score += Math.min(facts.settledStays, 50) * 4;
  score += Math.floor((Math.min(ageDays, 365) * 100) / 365);
  if (facts.unpaidAmount > 0) score -= Math.min(500, 150 + 50 * Math.floor(facts.unpaidAmount / policy.unit));
  if (facts.disputedAmount > 0) score -= Math.min(400, 100 + 50 * Math.floor(facts.disputedAmount / policy.unit));
  score = Math.max(0, Math.min(1000, score));
  const goodStanding = score >= GOOD_STANDING_SCORE;
  if (!goodStanding) return { score, creditLimit: 0, goodStanding };
  const limit = Math.floor((policy.maxCredit * (score - 500)) / 500) - facts.unpaidAmount;
  return { score, creditLimit: Math.max(0, limit), goodStanding };
}

function checkFacts(f: StandingFacts): void {
  for (const k of ['now', 'driverSince', 'settledStays', 'unpaidAmount', 'disputedAmount'] as const) {
    if (!Number.isSafeInteger(f[k]) || f[k] < 0) throw new RangeError(`standing: ${k} must be a non-negative integer`);
  }
}
