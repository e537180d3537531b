/**
 * Exactly once across the payment provider (cloud/settlement/card-charges.ts),
 * with a real `platepay cloud` process configured for Stripe and pointed at
 * the Stripe emulator:
 * - the cloud SIGKILLed at the moment the provider charges (before its
 *   answer reaches us, before our commit): after a restart the charge is
 *   asked again with the same key, the provider replays it, and there is
 *   exactly one charge, one settlement and one ledger record; the late
 *   webhook changes nothing;
 * - a provider slower than the lane's budget, or answering 5xx: the gate is
 *   answered within the budget (held, `payment_pending`), the charge
 *   settles when the provider answers, and the car then leaves.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KEY, PLATE_KEY, hourlyTariff, newCloudDatabase, queryCloudDatabase } from '../cloud/cloud-harness.js';
import type { CloudDatabase } from '../cloud/cloud-harness.js';
import type { Instance } from '../cloud/cloud-instances.js';
import { call, startInstance, stopInstance, until } from '../cloud/cloud-instances.js';
import { StripeEmulator } from './stripe-emulator.js';

describe('card charges across the provider, with the cloud killed', { timeout: 180_000 }, () => {
  const emulator = new StripeEmulator();
  let dir: string;
  let db: CloudDatabase;
  let configFile: string;
  let cloud: Instance;
  let lane: { entry: string; exit: string };
  let n = 0;

  const start = async () => {
    cloud = await startInstance('cloud', configFile);
    emulator.webhookUrl = `${cloud.url}/v1/payments/webhooks/stripe`;
  };
  const event = (laneId: string, plate: string, at: number, id = `crash-${process.pid}-${++n}`) =>
    call(cloud.url, 'POST', '/v1/events', ADMIN_KEY, { eventId: id, laneId, plate, confidence: 0.99, at });
  /** a driver whose account has pm_card_visa saved, with `plate` linked and parked for two hours */
  const parkedCardDriver = async (email: string, plate: string) => {
    const signup = await call(cloud.url, 'POST', '/v1/drivers', undefined, {
      email,
      password: 'long enough',
      name: 'D',
    });
    const token = signup.body.token as string;
    const accountId = (await call(cloud.url, 'GET', '/v1/me', token)).body.accounts[0].id as string;
    const saved = await call(cloud.url, 'PUT', `/v1/me/accounts/${accountId}/payment-method`, token, {
      paymentMethod: 'pm_card_visa',
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    await call(cloud.url, 'POST', '/v1/me/links', token, { plate, accountId });
    const entry = await event(lane.entry, plate, Date.now() - 2 * 3_600_000 + 60_000);
    assert.equal(entry.body.action, 'open');
    return { token, accountId };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-card-crash-'));
    db = await newCloudDatabase(dir);
    const baseUrl = await emulator.start();
    configFile = join(dir, 'cloud.json');
    await writeFile(
      configFile,
      JSON.stringify({
        database: db.database,
        adminKey: ADMIN_KEY,
        plateKey: PLATE_KEY,
        ...db.config,
        logLevel: 'silent',
        ledgerBatchMs: 100,
        exitChargeBudgetMs: 300,
        payments: {
          provider: 'stripe',
          apiKey: emulator.apiKey,
          webhookSecrets: [emulator.webhookSecret],
          baseUrl,
          timeoutMs: 2000,
        },
      }),
    );
    await start();
    const lot = await call(cloud.url, 'POST', '/v1/lots', ADMIN_KEY, { name: 'Crash P1', tariff: hourlyTariff });
    const entry = await call(cloud.url, 'POST', `/v1/lots/${lot.body.id}/lanes`, ADMIN_KEY, {
      name: 'in',
      direction: 'entry',
    });
    const exit = await call(cloud.url, 'POST', `/v1/lots/${lot.body.id}/lanes`, ADMIN_KEY, {
      name: 'out',
      direction: 'exit',
    });
    lane = { entry: entry.body.id, exit: exit.body.id };
  });
  after(async () => {
    if (cloud) await stopInstance(cloud);
    await emulator.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('killed between the provider charge and our commit: one charge, one settlement after restart', async () => {
    const driver = await parkedCardDriver('killed@example.com', 'KIL1234');
    const exitId = `crash-exit-${process.pid}`;
    emulator.holdWebhooks(); // the webhook is not what saves us here
    emulator.onCharge = () => cloud.child.kill('SIGKILL');
    const exitAt = Date.now();
    await assert.rejects(event(lane.exit, 'KIL1234', exitAt, exitId), 'the cloud died before answering');
    await cloud.exited;
    emulator.onCharge = () => undefined;
    assert.equal(emulator.chargesByKey.get(`exit:${exitId}`), 1, 'the provider charged once');
    const started = await queryCloudDatabase<{ status: string }>(
      db.database,
      'SELECT status FROM card_charges WHERE exit_event_id = ?',
      [exitId],
    );
    assert.deepEqual(started, [{ status: 'started' }], 'the charge was written before the provider was asked');

    await start(); // asks the provider again with the same key at start
    const receipts = await until('the settlement after restart', async () => {
      const r = await call(cloud.url, 'GET', '/v1/me/receipts', driver.token);
      return r.body.receipts.length > 0 ? r.body.receipts : null;
    });
    assert.equal(receipts.length, 1);
    assert.equal(receipts[0].settlement.method, 'card');
    assert.equal(receipts[0].settlement.amount, 1000);
    emulator.releaseWebhooks(); // the late webhook finds the charge settled
    await until('the late webhook delivered', async () =>
      emulator.deliveries.some((d) => d.status === 200) ? true : null,
    );
    const resent = await event(lane.exit, 'KIL1234', exitAt, exitId);
    assert.equal(resent.body.reason, 'charged', 'a resend gets the final decision');
    assert.equal(resent.body.settlementId, receipts[0].settlement.id);
    assert.equal(emulator.chargesByKey.get(`exit:${exitId}`), 1, 'still one charge at the provider');
    const rows = await queryCloudDatabase<{ n: number }>(
      db.database,
      'SELECT COUNT(*) AS n FROM settlements WHERE exit_event_id = ?',
      [exitId],
    );
    assert.equal(Number(rows[0]!.n), 1, 'one settlement');
    const charges = await queryCloudDatabase<{ status: string }>(
      db.database,
      'SELECT status FROM card_charges WHERE exit_event_id = ?',
      [exitId],
    );
    assert.deepEqual(charges, [{ status: 'succeeded' }]);
  });

  it('a provider slower than the budget: the gate is answered in time, the car leaves once it is paid', async () => {
    await parkedCardDriver('slow@example.com', 'SLO1234');
    // the charge's answer comes late, and so does its webhook (otherwise the webhook would settle it in time)
    emulator.holdWebhooks();
    emulator.delayNext(1, 1500);
    const exit = await event(lane.exit, 'SLO1234', Date.now());
    assert.equal(exit.body.action, 'hold', JSON.stringify(exit.body));
    assert.equal(exit.body.reason, 'payment_pending');
    // the charge settles when the provider answers; the car's next read at the exit lets it out
    const again = await until('the car let out after the late answer', async () => {
      const r = await event(lane.exit, 'SLO1234', Date.now());
      return r.body.action === 'open' ? r.body : null;
    });
    assert.equal(again.reason, 'paid');
    emulator.releaseWebhooks();
  });

  it('a provider answering 5xx: held, asked again, paid once', async () => {
    await parkedCardDriver('outage@example.com', 'OUT1234');
    const exitId = `outage-exit-${process.pid}`;
    emulator.failNext(1, 503);
    const exit = await event(lane.exit, 'OUT1234', Date.now(), exitId);
    assert.equal(exit.body.reason, 'payment_pending');
    await until('the retried charge settles', async () => {
      const r = await queryCloudDatabase<{ status: string }>(
        db.database,
        'SELECT status FROM card_charges WHERE exit_event_id = ?',
        [exitId],
      );
      return r[0]?.status === 'succeeded' ? true : null;
    });
    assert.equal(emulator.chargesByKey.get(`exit:${exitId}`), 1);
  });
});
