/**
 * The simulated gates of the cloud bench: each worker thread runs a share
 * of the gates (real ws sockets, the gate protocol, signed lane events) so
 * that the main thread is left to the cloud under test. This module is also
 * the workers' entry point (see the last line).
 */
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { authSigningBytes, laneEventSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import type { CloudToGate, LaneEventBody } from '../../proto/v1/messages.js';
import { provinces } from '../../proto/plate-syntax.js';

export const HOUR = 3_600_000;

export const WORKER_ROLE = 'platepay-cloud-bench-gates';

/**
 * Chinese plates use no I and no O; Q is left out too, so that no two bench
 * plates are look-alike twins (D and Q look alike: the cloud would rightly
 * send such a pair's exits to review, as in any lot where twins park).
 */
const CN_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

/** Plate number i: a province, a letter, five digits; distinct for i < provinces * 23 * 100000. */
export function plateOf(i: number): string {
  const p = [...provinces];
  const province = p[i % p.length]!;
  const rest = Math.floor(i / p.length);
  const letter = CN_LETTERS[rest % CN_LETTERS.length]!;
  return `${province}${letter}${String(Math.floor(rest / CN_LETTERS.length) % 100000).padStart(5, '0')}`;
}

// ---------------------------------------------------------------- the gates (worker thread)

export interface GateSpec {
  /** the cloud this gate connects to (else the `connect` command's url) */
  url?: string;
  gateId: string;
  seed: string;
  entryLane: string;
  exitLane: string;
}

type ToWorker =
  | { cmd: 'connect'; url: string; gates: GateSpec[] }
  | { cmd: 'run'; kind: 'entry' | 'exit'; plates: string[][]; tag: string; spacingMs?: number }
  | { cmd: 'close' };

type FromWorker =
  | { ev: 'connected' }
  | {
      ev: 'done';
      kind: 'entry' | 'exit';
      firstSentMs: number;
      lastDecisionMs: number;
      latencies: number[];
      reasons: Record<string, number>;
      settlementIds: string[];
      errors: string[];
      policies: number;
    }
  | { ev: 'failed'; message: string };

class SimGate {
  private readonly waiting = new Map<string, (m: CloudToGate) => void>();
  private next: ((m: CloudToGate) => void) | null = null;
  counter = 0;
  policies = 0;
  private n = 0;

  private constructor(
    readonly ws: WebSocket,
    readonly spec: GateSpec,
    readonly key: GateKey,
  ) {
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as CloudToGate;
      if (m.type === 'policy') {
        this.policies++;
        return;
      }
      const re = 're' in m ? m.re : null;
      const w = re !== null ? this.waiting.get(re) : undefined;
      if (w && re !== null) {
        this.waiting.delete(re);
        w(m);
      } else if (this.next) {
        const n = this.next;
        this.next = null;
        n(m);
      }
    });
  }

  static async connect(url: string, spec: GateSpec): Promise<SimGate> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const gate = new SimGate(ws, spec, GateKey.fromSeed(Buffer.from(spec.seed, 'base64')));
    const challenge = await gate.request({
      v: 1,
      type: 'hello',
      id: gate.id(),
      gateId: spec.gateId,
      software: 'bench',
    });
    if (challenge.type !== 'challenge')
      throw new Error(`gate ${spec.gateId}: expected a challenge, got ${challenge.type}`);
    const signature = gate.key.sign(authSigningBytes(spec.gateId, challenge.nonce));
    const welcome = await gate.request({
      v: 1,
      type: 'auth',
      id: gate.id(),
      gateId: spec.gateId,
      nonce: challenge.nonce,
      signature,
    });
    if (welcome.type !== 'welcome') throw new Error(`gate ${spec.gateId} not admitted: ${JSON.stringify(welcome)}`);
    gate.counter = welcome.lastCounter;
    return gate;
  }

  id(): string {
    return `b${++this.n}`;
  }

  request(message: { id: string } & Record<string, unknown>): Promise<CloudToGate> {
    return this.send(JSON.stringify(message), message.id);
  }

  send(text: string, id: string): Promise<CloudToGate> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(text);
    });
  }

  /** a signed lane event, ready to send */
  laneEvent(kind: 'entry' | 'exit', plate: string, eventId: string, at: number): { id: string; text: string } {
    const body: LaneEventBody = {
      gateId: this.spec.gateId,
      counter: ++this.counter,
      eventId,
      laneId: kind === 'entry' ? this.spec.entryLane : this.spec.exitLane,
      kind,
      plate,
      confidence: 0.99,
      evidenceDigest: 'ab'.repeat(32),
      triggeredAt: at,
      at,
    };
    const id = this.id();
    const signature = this.key.sign(laneEventSigningBytes(body));
    return { id, text: JSON.stringify({ v: 1, type: 'laneEvent', id, event: body, signature }) };
  }
}

export async function gateWorker(): Promise<void> {
  const port = parentPort!;
  let gates: SimGate[] = [];
  const post = (m: FromWorker) => port.postMessage(m);
  port.on('message', (m: ToWorker) => {
    void (async () => {
      try {
        if (m.cmd === 'connect') {
          gates = new Array<SimGate>(m.gates.length);
          // a few hundred handshakes at a time: the listen backlog is finite
          const width = 200;
          for (let i = 0; i < m.gates.length; i += width) {
            await Promise.all(
              m.gates.slice(i, i + width).map(async (spec, j) => {
                gates[i + j] = await SimGate.connect(spec.url ?? m.url, spec);
              }),
            );
          }
          post({ ev: 'connected' });
        } else if (m.cmd === 'run') {
          post(await runPhase(gates, m.kind, m.plates, m.tag, m.spacingMs ?? 0));
        } else {
          for (const g of gates) g.ws.close();
          port.close();
        }
      } catch (err) {
        post({ ev: 'failed', message: (err as Error).stack ?? String(err) });
      }
    })();
  });
}

async function runPhase(
  gates: SimGate[],
  kind: 'entry' | 'exit',
  plates: string[][],
  tag: string,
  spacingMs: number,
): Promise<FromWorker> {
  // sign everything first: the clock measures the cloud, not the gates' signing
  const at = kind === 'entry' ? Date.now() - 3 * HOUR : Date.now();
  const events = gates.map((g, gi) =>
    plates[gi]!.map((plate, k) => g.laneEvent(kind, plate, `${tag}-${kind}-${gi}-${k}`, at)),
  );
  const policiesBefore = gates.reduce((s, g) => s + g.policies, 0);
  const latencies: number[] = [];
  const reasons: Record<string, number> = {};
  const settlementIds: string[] = [];
  const errors: string[] = [];
  const firstSentMs = performance.now();
  let lastDecisionMs = firstSentMs;
  await Promise.all(
    gates.map(async (g, gi) => {
      for (const e of events[gi]!) {
        // paced: a gate sends about one event per spacingMs (a car needs that long at a lane)
        if (spacingMs > 0) await new Promise((r) => setTimeout(r, spacingMs * (0.5 + Math.random())));
        const sent = performance.now();
        const answer = await g.send(e.text, e.id);
        const now = performance.now();
        lastDecisionMs = Math.max(lastDecisionMs, now);
        if (answer.type !== 'decision') {
          errors.push(JSON.stringify(answer).slice(0, 300));
          continue;
        }
        latencies.push(now - sent);
        const reason = answer.decision.duplicate ? `duplicate-${answer.decision.reason}` : answer.decision.reason;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        if (answer.decision.settlementId) settlementIds.push(answer.decision.settlementId);
      }
    }),
  );
  return {
    ev: 'done',
    kind,
    firstSentMs,
    lastDecisionMs,
    latencies,
    reasons,
    settlementIds,
    errors: errors.slice(0, 20),
    policies: gates.reduce((s, g) => s + g.policies, 0) - policiesBefore,
  };
}

export class GateFleet {
  private readonly worker: Worker;
  private readonly replies: FromWorker[] = [];
  private waiter: ((m: FromWorker) => void) | null = null;
  private exited: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { role: WORKER_ROLE } });
    this.worker.on('message', (m: FromWorker) => this.deliver(m));
    this.worker.on('error', (err) => {
      this.exited = err;
      this.deliver({ ev: 'failed', message: err.stack ?? err.message });
    });
  }

  private deliver(m: FromWorker): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w(m);
    else this.replies.push(m);
  }

  private reply(): Promise<FromWorker> {
    const m = this.replies.shift();
    if (m) return Promise.resolve(m);
    if (this.exited) return Promise.resolve({ ev: 'failed', message: this.exited.message });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  async ask(m: ToWorker): Promise<Extract<FromWorker, { ev: 'connected' | 'done' }>> {
    this.worker.postMessage(m);
    const r = await this.reply();
    if (r.ev === 'failed') throw new Error(`the gates failed: ${r.message}`);
    return r;
  }

  async close(): Promise<void> {
    this.worker.postMessage({ cmd: 'close' } satisfies ToWorker);
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------- the cloud side (main thread)

export type PhaseDone = Extract<FromWorker, { ev: 'done' }>;

// a worker thread started by GateFleet runs its share of the gates
if (!isMainThread && (workerData as { role?: string } | null)?.role === WORKER_ROLE) void gateWorker();
