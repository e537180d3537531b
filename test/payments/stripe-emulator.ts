/**
 * A local emulator of the subset of Stripe's API that platepay uses
 * (cloud/payments/stripe/stripe-gateway.ts), for tests only: no network
 * reaches Stripe from these machines. It follows the published behaviour:
 * - `Authorization: Bearer <key>`: any other key is 401;
 * - `POST /v1/customers`, `POST /v1/payment_methods/:id/attach`,
 *   `POST /v1/payment_intents`, `GET /v1/payment_intents/:id`;
 * - test payment methods: `pm_card_visa` (paid), `pm_card_chargeDeclined`
 *   (402 card_declined), `pm_card_chargeDeclinedInsufficientFunds` (402,
 *   decline_code insufficient_funds); others are 400 resource_missing;
 * - `Idempotency-Key`: a repeated key with the same parameters replays the
 *   first answer (`Idempotent-Replayed: true`), with other parameters it is
 *   400 idempotency_error, and while the first is still running 409;
 * - webhooks `payment_intent.succeeded` / `payment_intent.payment_failed`
 *   signed with `Stripe-Signature` and POSTed to `webhookUrl`, retried
 *   until answered 2xx.
 * Faults for the tests: `failNext` (5xx), `delayNext` (the charge happens,
 * the answer comes late: a slow provider), `dropNext` (the charge happens,
 * the connection is cut: no answer), `holdWebhooks`, duplicate deliveries,
 * and `onCharge` (called when money moves, e.g. to SIGKILL the cloud).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { signStripePayload } from '../../cloud/payments/stripe/stripe-signature.js';

interface Intent {
  id: string;
  object: 'payment_intent';
  amount: number;
  currency: string;
  status: string;
  customer: string | null;
  payment_method: string | null;
  client_secret: string;
  metadata: Record<string, string>;
}

interface Saved {
  fingerprint: string;
  status: number;
  body: unknown;
}

const CARDS: Record<string, { brand: string; last4: string; decline: string | null }> = {
  pm_card_visa: { brand: 'visa', last4: '4242', decline: null },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', decline: 'card_declined' },
  pm_card_chargeDeclinedInsufficientFunds: { brand: 'visa', last4: '9995', decline: 'insufficient_funds' },
};

export class StripeEmulator {
  readonly apiKey = `sk_test_${randomBytes(12).toString('hex')}`;
  readonly webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  webhookUrl: string | null = null;
  /** called when a payment moves money, before its answer is sent */
  onCharge: (intent: Intent) => void = () => undefined;
  /** how many times money moved, per idempotency key */
  readonly chargesByKey = new Map<string, number>();
  readonly intents = new Map<string, Intent>();
  /** every webhook delivery attempt and its answer */
  readonly deliveries: Array<{ eventId: string; status: number }> = [];
  duplicateWebhooks = false;
  webhookRetryMs = 50;

  private server: Server | null = null;
  private readonly idempotency = new Map<string, Saved | 'running'>();
  private readonly customers = new Set<string>();
  private readonly attached = new Map<string, string>();
  private faults: Array<{ kind: 'fail'; status: number } | { kind: 'delay'; ms: number } | { kind: 'drop' }> = [];
  private heldWebhooks = false;
  private readonly held: Array<() => void> = [];
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  get totalCharges(): number {
    return [...this.chargesByKey.values()].reduce((a, b) => a + b, 0);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** the next `n` API requests answer `status` (500, 503) without doing anything */
  failNext(n: number, status = 500): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'fail', status });
  }
  /** the next `n` API requests are carried out at once but answered after `ms` */
  delayNext(n: number, ms: number): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'delay', ms });
  }
  /** the next `n` API requests are carried out, then their connection is cut with no answer */
  dropNext(n: number): void {
    for (let i = 0; i < n; i++) this.faults.push({ kind: 'drop' });
  }
  /** webhooks wait until `releaseWebhooks` (then go out newest first: out of order) */
  holdWebhooks(): void {
    this.heldWebhooks = true;
  }
  releaseWebhooks(): void {
    this.heldWebhooks = false;
    for (const send of this.held.splice(0).reverse()) send();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (d: Buffer) => (s += d.toString()));
      req.on('end', () => resolve(s));
    });
    const fault = this.faults.shift();
    if (fault?.kind === 'fail') return send(res, fault.status, apiError('api_error', 'emulated outage'));
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return send(res, 401, apiError('invalid_request_error', 'Invalid API Key provided'));
    }
    const params = new URLSearchParams(raw);
    const key = req.headers['idempotency-key'];
    const fingerprint = `${req.method} ${req.url} ${raw}`;
    let answer: Saved;
    let replayed = false;
    if (req.method === 'POST' && typeof key === 'string') {
      const saved = this.idempotency.get(key);
      if (saved === 'running') {
        return send(res, 409, apiError('idempotency_error', 'a request with this key is in progress'));
      }
      if (saved && saved.fingerprint !== fingerprint) {
        return send(
          res,
          400,
          apiError('idempotency_error', 'Keys for idempotent requests can only be used with the same parameters'),
        );
      }
      if (saved) {
        answer = saved;
        replayed = true;
      } else {
        this.idempotency.set(key, 'running');
        answer = { fingerprint, ...this.route(req.method!, req.url ?? '', params, key) };
        this.idempotency.set(key, answer);
      }
    } else {
      answer = { fingerprint, ...this.route(req.method ?? 'GET', req.url ?? '', params, null) };
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await this.sleep(fault.ms);
    if (replayed) res.setHeader('idempotent-replayed', 'true');
    send(res, answer.status, answer.body);
  }

  private route(
    method: string,
    url: string,
    p: URLSearchParams,
    key: string | null,
  ): { status: number; body: unknown } {
    const path = url.split('?')[0]!;
    if (method === 'POST' && path === '/v1/customers') {
      const id = `cus_${randomBytes(7).toString('hex')}`;
      this.customers.add(id);
      return { status: 200, body: { id, object: 'customer', email: p.get('email') } };
    }
    const attach = /^\/v1\/payment_methods\/([^/]+)\/attach$/.exec(path);
    if (method === 'POST' && attach) {
      const pm = decodeURIComponent(attach[1]!);
      const card = CARDS[pm];
      if (!card)
        return {
          status: 400,
          body: apiError('invalid_request_error', `No such PaymentMethod: '${pm}'`, 'resource_missing'),
        };
      const customer = p.get('customer') ?? '';
      if (!this.customers.has(customer))
        return {
          status: 400,
          body: apiError('invalid_request_error', `No such customer: '${customer}'`, 'resource_missing'),
        };
      this.attached.set(pm, customer);
      return {
        status: 200,
        body: { id: pm, object: 'payment_method', customer, card: { brand: card.brand, last4: card.last4 } },
      };
    }
    if (method === 'POST' && path === '/v1/payment_intents') return this.createIntent(p, key);
    const get = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && get) {
      const intent = this.intents.get(get[1]!);
      return intent
        ? { status: 200, body: intent }
        : { status: 404, body: apiError('invalid_request_error', 'No such payment_intent', 'resource_missing') };
    }
    return { status: 404, body: apiError('invalid_request_error', `Unrecognized request URL (${method}: ${path})`) };
  }

  private createIntent(p: URLSearchParams, key: string | null): { status: number; body: unknown } {
    const amount = Number(p.get('amount'));
    const currency = p.get('currency') ?? '';
    if (!Number.isSafeInteger(amount) || amount < 1 || !/^[a-z]{3}$/.test(currency)) {
      return {
        status: 400,
        body: apiError('invalid_request_error', 'amount and currency are required', 'parameter_invalid_integer'),
      };
    }
    const metadata: Record<string, string> = {};
    for (const [k, v] of p) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) metadata[m[1]!] = v;
    }
    const pm = p.get('payment_method');
    const id = `pi_${randomBytes(12).toString('hex')}`;
    const intent: Intent = {
      id,
      object: 'payment_intent',
      amount,
      currency,
      status: 'requires_payment_method',
      customer: p.get('customer'),
      payment_method: pm,
      client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
      metadata,
    };
    this.intents.set(id, intent);
    if (!pm || p.get('confirm') !== 'true') return { status: 200, body: intent };
    const card = CARDS[pm];
    if (!card)
      return {
        status: 400,
        body: apiError('invalid_request_error', `No such PaymentMethod: '${pm}'`, 'resource_missing'),
      };
    if (card.decline) {
      intent.status = 'requires_payment_method';
      this.webhook('payment_intent.payment_failed', intent);
      return {
        status: 402,
        body: {
          error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: card.decline,
            message: 'Your card was declined.',
            payment_intent: intent,
          },
        },
      };
    }
    intent.status = 'succeeded';
    if (key) this.chargesByKey.set(key, (this.chargesByKey.get(key) ?? 0) + 1);
    this.onCharge(intent);
    this.webhook('payment_intent.succeeded', intent);
    return { status: 200, body: intent };
  }

  /** Sends a signed event about `intent` to `webhookUrl` (twice with `duplicateWebhooks`). */
  webhook(type: string, intent: Intent): void {
    const event = {
      id: `evt_${randomBytes(12).toString('hex')}`,
      object: 'event',
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object: { ...intent } },
    };
    const go = () => {
      void this.deliver(event);
      if (this.duplicateWebhooks) void this.deliver(event);
    };
    if (this.heldWebhooks) this.held.push(go);
    else go();
  }

  /** Delivers `event` (retrying until 2xx, at most 20 times); `sign` may forge or age the signature. */
  async deliver(
    event: { id: string },
    sign = (body: string) => signStripePayload(this.webhookSecret, Math.floor(Date.now() / 1000), body),
  ): Promise<number> {
    const body = JSON.stringify(event);
    for (let attempt = 0; attempt < 20 && !this.closed; attempt++) {
      if (attempt > 0) await this.sleep(this.webhookRetryMs * 2 ** Math.min(attempt - 1, 5));
      if (!this.webhookUrl) continue;
      try {
        const res = await fetch(this.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sign(body) },
          body,
        });
        this.deliveries.push({ eventId: event.id, status: res.status });
        if (res.ok) return res.status;
      } catch {
        this.deliveries.push({ eventId: event.id, status: 0 });
      }
    }
    return 0;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

function apiError(type: string, message: string, code?: string) {
  return { error: { type, message, ...(code ? { code } : {}) } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
