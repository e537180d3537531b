/**
 * Who pays for a plate (`LinkRepository.payerOfPlate`, the read an exit
 * charges from) on the backend under test: the plate's active link, its
 * account and the account's active saved payment method, as the reads one
 * by one give them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { T0, TEST_BACKEND, openTestStore } from './cloud-harness.js';

describe(`the payer of a plate (${TEST_BACKEND})`, () => {
  it('is the active link with its account and saved method, as read one by one; none for a plate not linked', async () => {
    const store = await openTestStore();
    const own = randomBytes(8).toString('hex');
    const driverId = `drv_${own}`;
    const account = {
      id: `acc_${own}`,
      driverId,
      kind: 'wallet' as const,
      currency: 'CNY',
      creditLimit: 2 ** 40,
      label: 'wallet',
      createdAt: T0,
    };
    const link = {
      id: `lnk_${own}`,
      plate: 'PAY1234',
      accountId: account.id,
      driverId,
      createdAt: T0,
      removedAt: null,
    };
    const method = {
      id: `pm_${own}`,
      driverId,
      accountId: account.id,
      provider: 'test',
      customerId: 'cus_1',
      methodId: 'pm_card',
      label: 'visa ending 4242',
      verifiedAt: T0 + 1,
      removedAt: null,
    };
    try {
      await store.transaction(async (r) => {
        await r.drivers.insert({ id: driverId, email: `${own}@b.c`, name: 'A', passwordHash: 'x', createdAt: T0 });
        await r.accounts.insert(account);
        await r.links.insert(link);
      });
      const payer = (plate: string) => store.transaction((r) => r.links.payerOfPlate(plate));
      assert.deepEqual(await payer('PAY1234'), { link, account, method: null });
      assert.equal(await payer('NOT1234'), null);
      await store.transaction((r) => r.payments.insertMethod(method));
      assert.deepEqual(await payer('PAY1234'), { link, account, method });
      // as the reads one by one, also inside reads started together
      const apart = await store.transaction(async (r) => {
        const l = (await r.links.activeByPlate('PAY1234'))!;
        return {
          link: l,
          account: await r.accounts.byId(l.accountId),
          method: await r.payments.methodOfAccount(l.accountId),
        };
      });
      const together = await store.transaction((r) =>
        r.together(() => Promise.all([r.links.payerOfPlate('PAY1234'), r.links.payerOfPlate('NOT1234')])),
      );
      assert.deepEqual(together, [apart, null]);
      await store.transaction((r) => r.payments.removeMethod(method.id, T0 + 2));
      assert.deepEqual(await payer('PAY1234'), { link, account, method: null });
      await store.transaction((r) => r.links.remove(link.id, T0 + 3));
      assert.equal(await payer('PAY1234'), null);
    } finally {
      await store.close();
    }
  });
});
