/**
 * Stripe's webhook signatures, as published ("Verify webhook signatures
 * manually", docs.stripe.com/webhooks#verify-manually):
 *
 *   Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]
 *   v1 = hex(HMAC-SHA256(endpoint secret, "<t>.<raw request body>"))
 *
 * A delivery is genuine when one v1 matches one of the endpoint's secrets
 * (several during a rotation), compared in constant time, and its
 * timestamp is within the tolerance (default 300 s) of now, in either
 * direction (a replay of an old delivery is refused). Other schemes (v0)
 * are ignored. The body must be the bytes as received, not re-serialised.
 * The built-in test provider signs its webhooks the same way.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejected } from '../payment-gateway.js';

export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signStripePayload(secret: string, timestampSeconds: number, rawBody: Buffer | string): string {
  return `t=${timestampSeconds},v1=${hmac(secret, timestampSeconds, rawBody)}`;
}

/** Checks a `Stripe-Signature` header; returns its timestamp (seconds) or throws `WebhookRejected`. */
export function verifyStripeSignature(
  header: string | undefined,
  rawBody: Buffer | string,
  secrets: readonly string[],
  nowMs: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): number {
  if (!header) throw new WebhookRejected('MISSING_SIGNATURE', 'the Stripe-Signature header is missing');
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new WebhookRejected('BAD_SIGNATURE', 'the Stripe-Signature header is malformed');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== null) {
        throw new WebhookRejected('BAD_SIGNATURE', 'the Stripe-Signature timestamp is malformed');
      }
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value))
        throw new WebhookRejected('BAD_SIGNATURE', 'a v1 signature is not 64 hex digits');
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === null || signatures.length === 0) {
    throw new WebhookRejected('BAD_SIGNATURE', 'the Stripe-Signature header has no timestamp or no v1 signature');
  }
  const expected = secrets.map((s) => Buffer.from(hmac(s, timestamp!, rawBody), 'hex'));
  const genuine = expected.some((e) => signatures.some((s) => s.length === e.length && timingSafeEqual(s, e)));
  if (!genuine) throw new WebhookRejected('BAD_SIGNATURE', 'no signature matches the payload and the endpoint secret');
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) {
    throw new WebhookRejected('STALE_WEBHOOK', `the webhook was signed more than ${toleranceSeconds} s from now`);
  }
  return timestamp;
}

function hmac(secret: string, timestampSeconds: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}
