/**
 * Credit by standing (cloud/payments/credit-standing.ts): the invariants of
 * its header, property-tested over any history.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { StandingFacts, StandingPolicy } from '../../cloud/payments/credit-standing.js';
import { creditStanding, GOOD_STANDING_SCORE } from '../../cloud/payments/credit-standing.js';

const YEAR = 365 * 86_400_000;
const NOW = 1_800_000_000_000;
const policy: StandingPolicy = { maxCredit: 5000, unit: 1000 };

const facts = fc.record({
  now: fc.constant(NOW),
  driverSince: fc.integer({ min: NOW - 5 * YEAR, max: NOW }),
  verifiedPaymentMethod: fc.boolean(),
  settledStays: fc.integer({ min: 0, max: 500 }),
  unpaidAmount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
  disputedAmount: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
}) as fc.Arbitrary<StandingFacts>;
const policies = fc.record({
  maxCredit: fc.integer({ min: 0, max: 10_000_000 }),
  unit: fc.integer({ min: 1, max: 100_000 }),
});

test('standing: the score is an integer in [0, 1000] and the limit a non-negative integer', () => {
  fc.assert(
    fc.property(facts, policies, (f, p) => {
      const s = creditStanding(f, p);
      assert.ok(Number.isInteger(s.score) && s.score >= 0 && s.score <= 1000);
      assert.ok(Number.isInteger(s.creditLimit) && s.creditLimit >= 0 && s.creditLimit <= p.maxCredit);
      assert.equal(s.goodStanding, s.score >= GOOD_STANDING_SCORE);
      if (!s.goodStanding) assert.equal(s.creditLimit, 0);
    }),
  );
});

test('standing: a driver with no verified payment method and no settled stay has no credit', () => {
  fc.assert(
    fc.property(facts, policies, (f, p) => {
      const s = creditStanding({ ...f, verifiedPaymentMethod: false, settledStays: 0 }, p);
      assert.equal(s.creditLimit, 0);
      assert.equal(s.goodStanding, false);
    }),
  );
});

test('standing: more unpaid money never raises the limit, and lowers it by at least the amount', () => {
  fc.assert(
    fc.property(facts, policies, fc.integer({ min: 1, max: 1_000_000 }), (f, p, more) => {
      const before = creditStanding(f, p);
      const after = creditStanding({ ...f, unpaidAmount: f.unpaidAmount + more }, p);
      assert.ok(after.score <= before.score);
      assert.ok(after.creditLimit <= Math.max(0, before.creditLimit - more));
    }),
  );
});

test('standing: more disputed money never raises the score or the limit', () => {
  fc.assert(
    fc.property(facts, policies, fc.integer({ min: 1, max: 1_000_000 }), (f, p, more) => {
      const before = creditStanding(f, p);
      const after = creditStanding({ ...f, disputedAmount: f.disputedAmount + more }, p);
      assert.ok(after.score <= before.score);
      assert.ok(after.creditLimit <= before.creditLimit);
    }),
  );
});

test('standing: more settled stays, an older account or a verified method never lower it', () => {
  fc.assert(
    fc.property(
      facts,
      policies,
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: YEAR }),
      (f, p, stays, older) => {
        const base = creditStanding(f, p);
        for (const better of [
          { ...f, settledStays: f.settledStays + stays },
          { ...f, driverSince: f.driverSince - older },
          { ...f, verifiedPaymentMethod: true },
        ]) {
          const s = creditStanding(better, p);
          assert.ok(s.score >= base.score);
          assert.ok(s.creditLimit >= base.creditLimit);
        }
      },
    ),
  );
});

test("standing: the seeds' threshold: a year-old driver with a verified card and a dozen paid stays is in good standing", () => {
  const s = creditStanding(
    {
      now: NOW,
      driverSince: NOW - YEAR,
      verifiedPaymentMethod: true,
      settledStays: 12,
      unpaidAmount: 0,
      disputedAmount: 0,
    },
    policy,
  );
  assert.deepEqual(s, { score: 698, creditLimit: 1980, goodStanding: true });
  const owing = creditStanding(
    {
      now: NOW,
      driverSince: NOW - YEAR,
      verifiedPaymentMethod: true,
      settledStays: 12,
      unpaidAmount: 800,
      disputedAmount: 0,
    },
    policy,
  );
  assert.deepEqual(owing, { score: 548, creditLimit: 0, goodStanding: false });
});

test('standing: bad facts are refused with the field named', () => {
  const f: StandingFacts = {
    now: NOW,
    driverSince: NOW,
    verifiedPaymentMethod: true,
    settledStays: 1,
    unpaidAmount: 0,
    disputedAmount: 0,
  };
  assert.throws(() => creditStanding({ ...f, unpaidAmount: -1 }, policy), /unpaidAmount/);
  assert.throws(() => creditStanding({ ...f, settledStays: 1.5 }, policy), /settledStays/);
  assert.throws(() => creditStanding(f, { maxCredit: 5000, unit: 0 }), /unit/);
});
