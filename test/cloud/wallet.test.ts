/**
 * The built-in wallet on real SQLite (or PostgreSQL, see cloud-harness.ts): top-ups, charges within the credit
 * limit, declines beyond it, refunds, idempotency by reference, and the
 * double-entry invariant (all postings sum to zero) over random sequences.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Wallet } from '../../cloud/payments/wallet.js';
import type { Repositories } from '../../cloud/storage/repositories.js';
import { randomBytes } from 'node:crypto';
import { ManualClock, T0, openTestStore } from './cloud-harness.js';

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
      creditLimit,
      label: 'wallet',
      createdAt: T0,
    });
  });
  const tx = <T>(f: (r: Repositories) => Promise<T>) => store.transaction(f);
  return { store, wallet, accountId, tx };
}

describe('Wallet', () => {
  it('charges within balance plus credit limit and declines beyond it', async () => {
    const { store, wallet, accountId, tx } = await walletWith(500);
    await tx((r) => wallet.topUp(r, accountId, 1000, 'top-1'));
    const ok = await tx((r) => wallet.charge(r, { accountId, amount: 1400, currency: 'CNY', reference: 'c1' }));
    assert.equal(ok.status, 'succeeded');
    assert.equal(await tx((r) => r.accounts.balance(accountId)), -400);
    const declined = await tx((r) => wallet.charge(r, { accountId, amount: 101, currency: 'CNY', reference: 'c2' }));
    assert.deepEqual(declined, { status: 'declined', reason: 'insufficient_funds' });
    const wrongCurrency = await tx((r) => wallet.charge(r, { accountId, amount: 1, currency: 'EUR', reference: 'c3' }));
    assert.deepEqual(wrongCurrency, { status: 'declined', reason: 'currency_mismatch' });
    assert.equal(await tx((r) => r.accounts.balance(accountId)), -400);
    await store.close();
  });

  it('returns the first result for a repeated reference and moves money once', async () => {
    const { store, wallet, accountId, tx } = await walletWith(0);
    await tx((r) => wallet.topUp(r, accountId, 1000, 'top-1'));
    await tx((r) => wallet.topUp(r, accountId, 1000, 'top-1'));
    const a = await tx((r) => wallet.charge(r, { accountId, amount: 300, currency: 'CNY', reference: 'exit:1' }));
    const b = await tx((r) => wallet.charge(r, { accountId, amount: 300, currency: 'CNY', reference: 'exit:1' }));
    assert.deepEqual(a, b);
    assert.equal(await tx((r) => r.accounts.balance(accountId)), 700);
    await assert.rejects(
      tx((r) => wallet.topUp(r, accountId, 5, 'top-1')),
      /already used/,
    );
    await store.close();
  });

  it('refunds a charge once, in part or whole, never more than was charged', async () => {
    const { store, wallet, accountId, tx } = await walletWith(0);
    await tx((r) => wallet.topUp(r, accountId, 1000, 'top-1'));
    await tx((r) => wallet.charge(r, { accountId, amount: 600, currency: 'CNY', reference: 'exit:1' }));
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

  it('keeps the books balanced and every wallet above its credit limit over random operations (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2000 }),
        fc.array(
          fc.record({ kind: fc.constantFrom('topup', 'charge', 'refund'), amount: fc.integer({ min: 1, max: 1500 }) }),
          { maxLength: 25 },
        ),
        async (creditLimit, ops) => {
          const { store, wallet, accountId, tx } = await walletWith(creditLimit);
          const charges: string[] = [];
          for (const [i, op] of ops.entries()) {
            await tx(async (r) => {
              if (op.kind === 'topup') await wallet.topUp(r, accountId, op.amount, `t${i}`);
              else if (op.kind === 'charge') {
                const res = await wallet.charge(r, {
                  accountId,
                  amount: op.amount,
                  currency: 'CNY',
                  reference: `c${i}`,
                });
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
