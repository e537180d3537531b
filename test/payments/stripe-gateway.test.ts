/**
 * The Stripe adapter (cloud/payments/stripe/) against the local emulator
 * of Stripe's API (stripe-emulator.ts) over real HTTP: charges, declines,
 * idempotency across 5xx, timeouts and dropped connections (exactly one
 * charge), and webhook signatures (genuine, forged, tampered, stale,
 * missing, rotated), with fast-check properties for the signature scheme.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ProviderDeclined,
  ProviderRejected,
  ProviderUnavailable,
  WebhookRejected,
} from '../../cloud/payments/payment-gateway.js';
import { StripeGateway, formEncode } from '../../cloud/payments/stripe/stripe-gateway.js';
import { signStripePayload, verifyStripeSignature } from '../../cloud/payments/stripe/stripe-signature.js';
import { StripeEmulator } from './stripe-emulator.js';

describe('StripeGateway against the Stripe emulator', { timeout: 60_000 }, () => {
  const emulator = new StripeEmulator();
  let gateway: StripeGateway;
  let customerId: string;
  let n = 0;
  const charge = (pm: string, key = `exit:evt-${++n}`, amount = 1500, timeoutMs?: number) =>
    gateway.chargeSaved(
      {
        customerId,
        paymentMethodId: pm,
        amount,
        currency: 'CNY',
        idempotencyKey: key,
        description: 'parking',
        metadata: { exit_event: key },
      },
      timeoutMs ? { timeoutMs } : {},
    );

  before(async () => {
    const baseUrl = await emulator.start();
    gateway = new StripeGateway({ apiKey: emulator.apiKey, webhookSecrets: [emulator.webhookSecret], baseUrl });
    customerId = (await gateway.createCustomer({ driverId: 'drv_1', email: 'a@b.c', idempotencyKey: 'customer:drv_1' }))
      .customerId;
    for (const pm of ['pm_card_visa', 'pm_card_chargeDeclined', 'pm_card_chargeDeclinedInsufficientFunds']) {
      await gateway.attachPaymentMethod({ customerId, paymentMethodId: pm });
    }
  });
  after(async () => {
    await emulator.close();
  });

  it('charges a saved card off-session: succeeded, amount, upper-case currency', async () => {
    const p = await charge('pm_card_visa', 'exit:ok');
    assert.equal(p.status, 'succeeded');
    assert.equal(p.amount, 1500);
    assert.equal(p.currency, 'CNY');
    assert.equal(emulator.chargesByKey.get('exit:ok'), 1);
  });

  it('declines become ProviderDeclined with the reason; an unknown card is refused at attach', async () => {
    await assert.rejects(
      charge('pm_card_chargeDeclined'),
      (e) => e instanceof ProviderDeclined && e.reason === 'card_declined',
    );
    await assert.rejects(
      charge('pm_card_chargeDeclinedInsufficientFunds'),
      (e) => e instanceof ProviderDeclined && e.reason === 'insufficient_funds',
    );
    await assert.rejects(gateway.attachPaymentMethod({ customerId, paymentMethodId: 'pm_nope' }), ProviderRejected);
  });

  it('a wrong API key is ProviderRejected, not a retry', async () => {
    const wrong = new StripeGateway({
      apiKey: 'sk_test_wrong',
      webhookSecrets: [emulator.webhookSecret],
      baseUrl: (gateway as unknown as { baseUrl: string }).baseUrl,
    });
    await assert.rejects(
      wrong.createCustomer({ driverId: 'd', email: 'e@f.g', idempotencyKey: 'k' }),
      ProviderRejected,
    );
  });

  it('after a 5xx the same key charges once', async () => {
    emulator.failNext(1, 503);
    await assert.rejects(charge('pm_card_visa', 'exit:5xx'), ProviderUnavailable);
    assert.equal(emulator.chargesByKey.get('exit:5xx'), undefined, 'the outage charged nothing');
    const p = await charge('pm_card_visa', 'exit:5xx');
    assert.equal(p.status, 'succeeded');
    assert.equal(emulator.chargesByKey.get('exit:5xx'), 1);
  });

  it('after a timeout the retry with the same key gets the first answer: one charge', async () => {
    emulator.delayNext(1, 1500);
    await assert.rejects(charge('pm_card_visa', 'exit:slow', 1500, 200), ProviderUnavailable);
    const first = [...emulator.intents.values()].find((i) => i.metadata.exit_event === 'exit:slow')!;
    const again = await charge('pm_card_visa', 'exit:slow');
    assert.equal(again.id, first.id);
    assert.equal(emulator.chargesByKey.get('exit:slow'), 1);
  });

  it('after a dropped connection the retry charges nothing more', async () => {
    emulator.dropNext(1);
    await assert.rejects(charge('pm_card_visa', 'exit:drop'), ProviderUnavailable);
    assert.equal(emulator.chargesByKey.get('exit:drop'), 1, 'the provider charged before the line went dead');
    const again = await charge('pm_card_visa', 'exit:drop');
    assert.equal(again.status, 'succeeded');
    assert.equal(emulator.chargesByKey.get('exit:drop'), 1);
  });

  it('the same key with another amount is refused (idempotency_error)', async () => {
    await charge('pm_card_visa', 'exit:amount', 1000);
    await assert.rejects(charge('pm_card_visa', 'exit:amount', 1001), ProviderRejected);
    assert.equal(emulator.chargesByKey.get('exit:amount'), 1);
  });

  it('webhooks: genuine accepted; forged, tampered, stale and unsigned refused; rotation accepted', () => {
    const now = Date.now();
    const event = {
      id: 'evt_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(now / 1000),
      data: {
        object: {
          id: 'pi_1',
          object: 'payment_intent',
          status: 'succeeded',
          amount: 700,
          currency: 'cny',
          metadata: { top_up: 'top_1' },
        },
      },
    };
    const body = Buffer.from(JSON.stringify(event));
    const sig = (secret: string, at = now) => ({
      'stripe-signature': signStripePayload(secret, Math.floor(at / 1000), body),
    });
    const parsed = gateway.parseWebhook(body, sig(emulator.webhookSecret), now);
    assert.equal(parsed.type, 'payment.succeeded');
    assert.deepEqual(parsed.payment, {
      id: 'pi_1',
      status: 'succeeded',
      amount: 700,
      currency: 'CNY',
      clientSecret: null,
      metadata: { top_up: 'top_1' },
    });
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof WebhookRejected ? e.reason : 'other';
      }
      return 'accepted';
    };
    assert.equal(
      reason(() => gateway.parseWebhook(body, sig('whsec_forged_secret'), now)),
      'BAD_SIGNATURE',
    );
    assert.equal(
      reason(() =>
        gateway.parseWebhook(Buffer.from(body.toString().replace('700', '70000')), sig(emulator.webhookSecret), now),
      ),
      'BAD_SIGNATURE',
    );
    assert.equal(
      reason(() => gateway.parseWebhook(body, sig(emulator.webhookSecret, now - 301_000), now)),
      'STALE_WEBHOOK',
    );
    assert.equal(
      reason(() => gateway.parseWebhook(body, sig(emulator.webhookSecret, now + 301_000), now)),
      'STALE_WEBHOOK',
    );
    assert.equal(
      reason(() => gateway.parseWebhook(body, {}, now)),
      'MISSING_SIGNATURE',
    );
    assert.equal(
      reason(() => gateway.parseWebhook(body, { 'stripe-signature': 't=abc,v1=zz' }, now)),
      'BAD_SIGNATURE',
    );
    const rotated = new StripeGateway({
      apiKey: emulator.apiKey,
      webhookSecrets: ['whsec_old_secret1', emulator.webhookSecret],
    });
    assert.equal(
      reason(() => rotated.parseWebhook(body, sig(emulator.webhookSecret), now)),
      'accepted',
    );
    const other = Buffer.from(JSON.stringify({ ...event, type: 'charge.refunded' }));
    assert.equal(
      gateway.parseWebhook(
        other,
        { 'stripe-signature': signStripePayload(emulator.webhookSecret, Math.floor(now / 1000), other) },
        now,
      ).type,
      'other',
    );
  });

  it('the emulator retries a webhook until it is answered 2xx', async () => {
    const { createServer } = await import('node:http');
    let calls = 0;
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (!body.includes('evt_retry')) return res.writeHead(200).end('{}');
        calls++;
        res.writeHead(calls < 3 ? 500 : 200).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      emulator.webhookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
      const status = await emulator.deliver({ id: 'evt_retry' });
      assert.equal(status, 200);
      assert.equal(calls, 3, 'two refused deliveries, then the one answered 200');
    } finally {
      emulator.webhookUrl = null;
      receiver.closeAllConnections();
      receiver.close();
    }
  });

  it('form encoding nests metadata as Stripe expects and leaves out nulls', () => {
    assert.equal(
      formEncode({ amount: 5, customer: null, confirm: true, metadata: { exit_event: 'a b' } }),
      'amount=5&confirm=true&metadata%5Bexit_event%5D=a%20b',
    );
  });
});

describe('Stripe signatures (properties)', () => {
  it('sign then verify round-trips for any body and secret', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.stringMatching(/^whsec_[A-Za-z0-9]{8,40}$/),
        (bytes, secret) => {
          const body = Buffer.from(bytes);
          const now = 1_800_000_000_000;
          assert.equal(
            verifyStripeSignature(signStripePayload(secret, now / 1000, body), body, [secret], now),
            now / 1000,
          );
        },
      ),
    );
  });
  it('any changed byte of the body or the signature fails', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.boolean(), (bytes, at, inSignature) => {
        const secret = 'whsec_property_secret';
        const now = 1_800_000_000_000;
        const body = Buffer.from(bytes);
        let header = signStripePayload(secret, now / 1000, body);
        let signed = body;
        if (inSignature) {
          const i = header.length - 1 - (at % 64);
          header = header.slice(0, i) + (header[i] === '0' ? '1' : '0') + header.slice(i + 1);
        } else {
          signed = Buffer.from(body);
          signed[at % signed.length] ^= 0x01;
        }
        assert.throws(() => verifyStripeSignature(header, signed, [secret], now), WebhookRejected);
      }),
    );
  });
});
