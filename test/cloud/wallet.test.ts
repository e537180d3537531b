/**
 * The built-in wallet on real SQLite (or PostgreSQL, see cloud-harness.ts): confirmed top-ups credited once,
 * charges within the balance plus the driver's unused credit, declines beyond it, refunds, idempotency by
 * reference, and the double-entry invariant (all postings sum to zero) over random sequences.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Wallet } from '../../cloud/payments/wallet.js';
import type { Repositories } from '../../cloud/storage/repositories.js';
import { randomBytes } from 'node:crypto';
import { ManualClock, T0, openTestStore } from './cloud-harness.js';

/** a wallet whose driver has `creditLimit` of unused credit */
async function walletWith(creditLimit: number) {
  const store = await openTestStore();
  const clock = new ManualClock(T0);
  const wallet = new Wallet(clock);
  const own = randomBytes(16).toString('hex');
  const accountId = 'acc_' + own;
  const driverId = 'drv_' + own;
  await store.transaction(async (r) => {
    await r.drivers.insert({ id: driverId, email: `${own}@b.c`, name: 'A', passwordHash: 'x', createdAt: T0 });
    await r.accounts.insert({
      id: accountId,
      driverId,
      kind: 'wallet',
      currency: 'CNY',
      creditLimit: 0,
      label: 'wallet',
      createdAt: T0,
    });
  });
  const tx = <T>(f: (r: Repositories) => Promise<T>) => store.transaction(f);
  /** a top-up the provider confirmed (as top-ups.ts credits it after the webhook) */
  const credit = (r: Repositories, amount: number, id: string) =>
    wallet.creditTopUp(r, {
      id,
      driverId,
      accountId,
      amount,
      currency: 'CNY',
      reference: id,
      provider: 'test',
      providerPaymentId: `tpay_${id}`,
      status: 'pending',
      createdAt: T0,
      settledAt: null,
      journalEntryId: null,
    });
  // as DriverCredit does: the limit less what the wallet already owes
  const unused = async (r: Repositories) =>
    Math.max(0, creditLimit - Math.max(0, -(await r.accounts.balance(accountId))));
  const charge = (r: Repositories, amount: number, reference: string, currency = 'CNY') =>
    wallet.charge(r, { accountId, amount, currency, reference, creditAvailable: () => unused(r) });
  return { store, wallet, accountId, tx, credit, charge };
}

describe('Wallet', () => {
  it("charges within the balance plus the driver's unused credit and declines beyond it", async () => {
    const { store, accountId, tx, credit, charge } = await walletWith(500);
    await tx((r) => credit(r, 1000, 'top-1'));
    const ok = await tx((r) => charge(r, 1400, 'c1', 'CNY'));
    assert.equal(ok.status, 'succeeded');
    assert.equal(await tx((r) => r.accounts.balance(accountId)), -400);
    const declined = await tx((r) => charge(r, 101, 'c2', 'CNY'));
    assert.deepEqual(declined, { status: 'declined', reason: 'insufficient_funds' });
    const wrongCurrency = await tx((r) => charge(r, 1, 'c3', 'EUR'));
    assert.deepEqual(wrongCurrency, { status: 'declined', reason: 'currency_mismatch' });
    assert.equal(await tx((r) => r.accounts.balance(accountId)), -400);
    await store.close();
  });

  it('charges a fee of exactly the balance plus the unused credit, and declines one minor unit more', async () => {
    const exact = await walletWith(500);
    await exact.tx((r) => exact.credit(r, 1000, 'top-1'));
    assert.deepEqual(await exact.tx((r) => exact.charge(r, 1501, 'one-short')), {
      status: 'declined',
      reason: 'insufficient_funds',
    });
    assert.equal(await exact.tx((r) => r.accounts.balance(exact.accountId)), 1000, 'the decline moved nothing');
    assert.equal((await exact.tx((r) => exact.charge(r, 1500, 'exact'))).status, 'succeeded');
    assert.equal(await exact.tx((r) => r.accounts.balance(exact.accountId)), -500, 'the credit is used up');
    assert.deepEqual(await exact.tx((r) => exact.charge(r, 1, 'after')), {
      status: 'declined',
      reason: 'insufficient_funds',
    });
    await exact.store.close();

    // already in debt: what is left of the credit, exactly
    const owing = await walletWith(500);
    await owing.tx((r) => owing.charge(r, 200, 'first'));
    assert.equal((await owing.tx((r) => owing.charge(r, 301, 'one-short'))).status, 'declined');
    assert.equal((await owing.tx((r) => owing.charge(r, 300, 'rest'))).status, 'succeeded');
    assert.equal(await owing.tx((r) => r.accounts.balance(owing.accountId)), -500);
    await owing.store.close();

    // no credit: exactly the balance
    const noCredit = await walletWith(0);
    await noCredit.tx((r) => noCredit.credit(r, 1000, 'top-1'));
    assert.equal((await noCredit.tx((r) => noCredit.charge(r, 1001, 'one-short'))).status, 'declined');
    assert.equal((await noCredit.tx((r) => noCredit.charge(r, 1000, 'exact'))).status, 'succeeded');
    assert.equal(await noCredit.tx((r) => r.accounts.balance(noCredit.accountId)), 0);
    await noCredit.store.close();
  });

  it('returns the first result for a repeated reference and moves money once', async () => {
    const { store, accountId, tx, credit, charge } = await walletWith(0);
    await tx((r) => credit(r, 1000, 'top-1'));
    await tx((r) => credit(r, 1000, 'top-1'));
    const a = await tx((r) => charge(r, 300, 'exit:1', 'CNY'));
    const b = await tx((r) => charge(r, 300, 'exit:1', 'CNY'));
    assert.deepEqual(a, b);
    assert.equal(await tx((r) => r.accounts.balance(accountId)), 700);
    // the same confirmed top-up again credits nothing more
    await tx((r) => credit(r, 1000, 'top-1'));
    assert.equal(await tx((r) => r.accounts.balance(accountId)), 700);
    await store.close();
  });

  it('refunds a charge once, in part or whole, never more than was charged', async () => {
    const { store, wallet, accountId, tx, credit, charge } = await walletWith(0);
    await tx((r) => credit(r, 1000, 'top-1'));
    await tx((r) => charge(r, 600, 'exit:1', 'CNY'));
    const tooMuch = await tx((r) => wallet.refund(r, { chargeReference: 'exit:1', amount: 601 }));
    assert.equal(tooMuch.status, 'rejected');
    const part = await tx((r) => wallet.refund(r, { chargeReference: 'exit:1', amount: 200 }));
    assert.equal(part.status, 'succeeded');
    assert.deepEqual(await tx((r) => wallet.refund(r, { chargeReference: 'exit:1', amount: 200 })), part);
    const second = await tx((r) => wallet.refund(r, { chargeReference: 'exit:1', amount: 100 }));
    assert.equal(second.status, 'rejected', 'one refund per charge');
    assert.equal(await tx((r) => r.accounts.balance(accountId)), 600);
    const unknown = await tx((r) => wallet.refund(r, { chargeReference: 'exit:9', amount: 1 }));
    assert.equal(unknown.status, 'rejected');
    assert.equal(await tx((r) => r.accounts.totalOfAllPostings()), 0);
    await store.close();
  });

  it('keeps the books balanced and no wallet below the credit the driver has over random operations (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2000 }),
        fc.array(
          fc.record({ kind: fc.constantFrom('topup', 'charge', 'refund'), amount: fc.integer({ min: 1, max: 1500 }) }),
          { maxLength: 25 },
        ),
        async (creditLimit, ops) => {
          const { store, wallet, accountId, tx, credit, charge } = await walletWith(creditLimit);
          const charges: string[] = [];
          for (const [i, op] of ops.entries()) {
            await tx(async (r) => {
              if (op.kind === 'topup') await credit(r, op.amount, `t${i}`);
              else if (op.kind === 'charge') {
                const res = await charge(r, op.amount, `c${i}`);
                if (res.status === 'succeeded') charges.push(`c${i}`);
              } else if (charges.length > 0) {
                await wallet.refund(r, { chargeReference: charges[i % charges.length]!, amount: op.amount });
              }
            });
            assert.equal(await tx((r) => r.accounts.totalOfAllPostings()), 0);
            assert.ok((await tx((r) => r.accounts.balance(accountId))) >= -creditLimit);
          }
          await store.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
