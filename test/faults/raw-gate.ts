/**
 * A gate's end of the WebSocket for tests that speak raw protocol messages
 * (hostile messages, operator actions a gate must not have): it connects,
 * sends anything, and reads the cloud's answers in order. Policy pushes are
 * kept aside in `policies` (they answer nothing); `next()` gives null once
 * the socket closed.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { authSigningBytes } from '../../proto/v1/codec.js';
import type { GateKey } from '../../proto/v1/gate-key.js';
import type { CloudToGate, Policy } from '../../proto/v1/messages.js';

export class RawGate {
  private readonly inbox: CloudToGate[] = [];
  private readonly waiting: Array<(m: CloudToGate | null) => void> = [];
  private readonly policyWaiting: Array<(p: Policy) => void> = [];
  private n = 0;
  /** every policy snapshot the cloud pushed, in order */
  readonly policies: Policy[] = [];
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as CloudToGate;
      if (m.type === 'policy') {
        // pushed on admission and every 30 s: not an answer to anything
        this.policies.push(m);
        for (const w of this.policyWaiting.splice(0)) w(m);
        return;
      }
      const w = this.waiting.shift();
      if (w) w(m);
      else this.inbox.push(m);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number) => {
        this.closeCode = code;
        for (const w of this.waiting.splice(0)) w(null);
        resolve(code);
      }),
    );
    ws.on('error', () => undefined);
  }

  static async connect(url: string, path = '/v1/gates/ws'): Promise<RawGate> {
    const ws = new WebSocket(url.replace('http', 'ws') + path);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new RawGate(ws);
  }

  /** the next message from the cloud, or null once the socket closed */
  next(): Promise<CloudToGate | null> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.closeCode !== null) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** the next policy snapshot pushed after the `seen` ones already in `policies` */
  policyAfter(seen: number): Promise<Policy> {
    const p = this.policies[seen];
    if (p) return Promise.resolve(p);
    return new Promise((resolve) => this.policyWaiting.push(() => resolve(this.policyAfter(seen))));
  }

  send(m: unknown, binary = false): void {
    if (Buffer.isBuffer(m)) this.ws.send(m, { binary });
    else this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  id(): string {
    return `g${++this.n}`;
  }

  async handshake(gateId: string, key: GateKey): Promise<void> {
    this.send({ v: 1, type: 'hello', id: this.id(), gateId, software: 'hostile-test' });
    const challenge = await this.next();
    assert.equal(challenge?.type, 'challenge');
    if (challenge?.type !== 'challenge') return;
    const signature = key.sign(authSigningBytes(gateId, challenge.nonce));
    this.send({ v: 1, type: 'auth', id: this.id(), gateId, nonce: challenge.nonce, signature });
    const welcome = await this.next();
    assert.equal(welcome?.type, 'welcome', JSON.stringify(welcome));
  }

  async ping(): Promise<void> {
    const id = this.id();
    this.send({ v: 1, type: 'ping', id });
    const pong = await this.next();
    assert.ok(pong?.type === 'pong' && pong.re === id, `expected a pong, got ${JSON.stringify(pong)}`);
  }

  close(): void {
    this.ws.close();
  }
}
