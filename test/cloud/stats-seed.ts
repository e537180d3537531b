/**
 * A car park with a known history for the chart figures, seeded fast
 * through the API (POST /v1/events as the admin key, no images): random
 * stays from a seeded generator, some of linked cars that are charged from
 * a wallet, some of unknown cars held for payment, a few that never leave,
 * and exits of plates that never came in (review). What the cloud answered
 * is kept with each car, so a test computes the expected figures from the
 * same history on its own.
 */
import type { DriverCall } from './top-up.js';
import { topUpAndWait } from './top-up.js';

export type Call = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown },
) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SeededDecision {
  action: string;
  reason: string;
  fee: number | null;
  settlementId: string | null;
  reviewId: string | null;
}

export interface SeededRead {
  kind: 'entry' | 'exit';
  plate: string;
  at: number;
  confidence: number;
  decision: SeededDecision;
}

export interface SeededCarPark {
  reads: SeededRead[];
}

/** mulberry32: a small seeded generator, so a failing seed can be run again */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** plates of digits and letters no OCR confuses with one another, so no two cars are look-alikes */
const PLATE_CHARS = '3479ACEFHKMNPRTUVWXY';

export async function seedCarPark(
  call: Call,
  o: {
    adminKey: string;
    lanes: { entry: string; exit: string };
    /** stays begin in [start, start + spanMs) */
    start: number;
    spanMs: number;
    cars: number;
    seed: number;
    /** a fresh e-mail address for the wallet's driver */
    email: string;
  },
): Promise<SeededCarPark> {
  const random = seededRandom(o.seed);
  const signUp = await call('POST', '/v1/drivers', {
    body: { email: o.email, password: 'correct horse battery', name: 'Chart Driver' },
  });
  if (signUp.status !== 201) throw new Error(`sign-up: ${JSON.stringify(signUp.body)}`);
  const token = signUp.body.token as string;
  const accountId = (await call('GET', '/v1/me', { token })).body.accounts[0].id as string;
  const driverCall: DriverCall = (method, path, body) => call(method, path, { token, body });
  await topUpAndWait(driverCall, accountId, 10_000_000, `seed-${o.seed}`);

  const plates = new Set<string>();
  const plate = () => {
    for (;;) {
      let p = 'SD';
      for (let i = 0; i < 5; i++) p += PLATE_CHARS[Math.floor(random() * PLATE_CHARS.length)];
      if (!plates.has(p)) {
        plates.add(p);
        return p;
      }
    }
  };
  const minute = 60_000;
  const planned: Array<Omit<SeededRead, 'decision'>> = [];
  for (let i = 0; i < o.cars; i++) {
    const p = plate();
    const linked = random() < 0.6;
    if (linked) {
      const l = await call('POST', '/v1/me/links', { token, body: { plate: p, accountId } });
      if (l.status !== 201) throw new Error(`link ${p}: ${JSON.stringify(l.body)}`);
    }
    const entryAt = o.start + Math.floor((random() * o.spanMs) / minute) * minute + Math.floor(random() * 60) * 1000;
    // entry reads of any confidence (an entry opens a stay whatever it is); exits confident enough to match
    planned.push({ kind: 'entry', plate: p, at: entryAt, confidence: Math.round(random() * 10_000) / 10_000 });
    if (random() < 0.85) {
      const stay = (10 + Math.floor(random() * 600)) * minute + Math.floor(random() * 60) * 1000;
      planned.push({
        kind: 'exit',
        plate: p,
        at: entryAt + stay,
        confidence: 0.97 + Math.floor(random() * 300) / 10_000,
      });
    }
  }
  // a few exits of cars that never came in: each is queued for review
  for (let i = 0; i < Math.max(1, Math.floor(o.cars / 10)); i++) {
    const at = o.start + Math.floor(random() * o.spanMs);
    planned.push({ kind: 'exit', plate: plate(), at, confidence: 0.99 });
  }
  planned.sort((a, b) => a.at - b.at);

  const reads: SeededRead[] = [];
  for (const [i, r] of planned.entries()) {
    const sent = await call('POST', '/v1/events', {
      token: o.adminKey,
      body: {
        eventId: `seed-${o.seed}-${i}`,
        laneId: r.kind === 'entry' ? o.lanes.entry : o.lanes.exit,
        plate: r.plate,
        confidence: r.confidence,
        at: r.at,
      },
    });
    if (sent.status !== 200) throw new Error(`event ${i}: ${sent.status} ${JSON.stringify(sent.body)}`);
    const d = sent.body;
    reads.push({
      ...r,
      decision: {
        action: d.action,
        reason: d.reason,
        fee: d.fee,
        settlementId: d.settlementId,
        reviewId: d.reviewId,
      },
    });
  }
  return { reads };
}
