/**
 * The gate unit's one WebSocket connection to the cloud: the signed
 * handshake, request/response by message id, a heartbeat, and reconnection
 * with exponential backoff and jitter.
 *
 * Events: 'connected' (welcome), 'disconnected', 'policy' (a snapshot).
 * `request` never hangs: it rejects with `UplinkError` when offline, when
 * the answer does not come within its timeout, or when the cloud refuses.
 * `notify` sends a one-way message (no answer) when online, and skips it
 * silently when not.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { CloudToGate, DecisionBody, GateStatus, LaneEventBody, Policy, Welcome } from '../../proto/v1/messages.js';
import { PROTOCOL_VERSION } from '../../proto/v1/messages.js';
import {
  ProtoError,
  authSigningBytes,
  decodeCloudToGate,
  encodeMessage,
  laneEventSigningBytes,
} from '../../proto/v1/codec.js';
import type { GateKey } from '../../proto/v1/gate-key.js';

export interface UplinkOptions {
  url: string;
  gateId: string;
  key: GateKey;
  heartbeatMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

export class UplinkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** whether sending the same request again later may succeed */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (m: CloudToGate) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Uplink extends EventEmitter {
  private socket: WebSocket | null = null;
  private welcome: Welcome | null = null;
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private attempts = 0;
  private stopped = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  latestPolicy: Policy | null = null;

  constructor(private readonly options: UplinkOptions) {
    super();
  }

  get online(): boolean {
    return this.welcome !== null && this.socket?.readyState === WebSocket.OPEN;
  }

  get lastAppliedCounter(): number {
    return this.welcome?.lastCounter ?? 0;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.failPending(new UplinkError('OFFLINE', 'the uplink is stopping', true));
    const s = this.socket;
    this.socket = null;
    if (s && s.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.terminate();
      });
    }
  }

  private nextId(): string {
    return `g${Date.now().toString(36)}-${++this.counter}`;
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.options.url, { maxPayload: 4 * 1024 * 1024, handshakeTimeout: 5000 });
    this.socket = socket;
    socket.on('open', () => {
      const id = this.nextId();
      this.send({ v: PROTOCOL_VERSION, type: 'hello', id, gateId: this.options.gateId, software: 'platepay-edge/1' });
    });
    socket.on('message', (data: Buffer) => this.onMessage(data));
    socket.on('close', () => this.onClose(socket));
    socket.on('error', () => undefined); // 'close' follows
  }

  private onClose(socket: WebSocket): void {
    if (this.socket !== socket) return;
    const wasOnline = this.welcome !== null;
    this.welcome = null;
    this.socket = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.failPending(new UplinkError('OFFLINE', 'the connection to the cloud closed', true));
    if (wasOnline) this.emit('disconnected');
    if (this.stopped) return;
    const base = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** Math.min(this.attempts, 10));
    this.attempts++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private failPending(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private send(message: Parameters<typeof encodeMessage>[0]): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  private onMessage(data: Buffer): void {
    let m: CloudToGate;
    try {
      m = decodeCloudToGate(data);
    } catch (err) {
      this.emit('protocolError', err instanceof ProtoError ? err : new Error(String(err)));
      return;
    }
    switch (m.type) {
      case 'challenge': {
        const signature = this.options.key.sign(authSigningBytes(this.options.gateId, m.nonce));
        this.send({ v: 1, type: 'auth', id: this.nextId(), gateId: this.options.gateId, nonce: m.nonce, signature });
        return;
      }
      case 'welcome':
        this.welcome = m;
        this.attempts = 0;
        if (this.heartbeat) clearInterval(this.heartbeat); // a second welcome must not leave a timer behind
        this.heartbeat = setInterval(() => {
          this.request({ v: 1, type: 'ping', id: this.nextId() }, this.options.heartbeatMs).catch(() =>
            this.socket?.terminate(),
          );
        }, this.options.heartbeatMs);
        this.heartbeat.unref();
        this.emit('connected', m);
        return;
      case 'policy':
        this.latestPolicy = m;
        this.emit('policy', m);
        return;
      case 'ping':
        this.send({ v: 1, type: 'pong', id: this.nextId(), re: m.id });
        return;
      case 'error':
        if (m.re === null || !this.pending.has(m.re)) {
          this.emit('protocolError', new UplinkError(m.code, m.message, m.retryable));
          if (!this.welcome) this.socket?.close(); // refused at the handshake
          return;
        }
        break;
    }
    const re = 're' in m ? m.re : null;
    const p = re ? this.pending.get(re) : undefined;
    if (!p || !re) return;
    this.pending.delete(re);
    clearTimeout(p.timer);
    if (m.type === 'error') p.reject(new UplinkError(m.code, m.message, m.retryable));
    else p.resolve(m);
  }

  private request(
    message: Parameters<typeof encodeMessage>[0] & { id: string },
    timeoutMs: number,
  ): Promise<CloudToGate> {
    if (!this.online) return Promise.reject(new UplinkError('OFFLINE', 'the cloud is not connected', true));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        reject(new UplinkError('TIMEOUT', `no answer within ${timeoutMs} ms`, true));
      }, timeoutMs);
      this.pending.set(message.id, { resolve, reject, timer });
      this.send(message);
    });
  }

  /**
   * Sends a one-way message (no answer is expected) when admitted; offline it is skipped, not
   * queued. The envelope (`v`, `id`) is filled in. Returns whether it was sent.
   */
  notify(message: Omit<GateStatus, 'v' | 'id'>): boolean {
    if (!this.online) return false;
    this.send({ ...message, v: PROTOCOL_VERSION, id: this.nextId() });
    return true;
  }

  /** Signs and sends a lane event; resolves with the cloud's decision. */
  async submit(event: LaneEventBody, timeoutMs: number): Promise<DecisionBody> {
    const signature = this.options.key.sign(laneEventSigningBytes(event));
    const reply = await this.request({ v: 1, type: 'laneEvent', id: this.nextId(), event, signature }, timeoutMs);
    if (reply.type !== 'decision') throw new UplinkError('BAD_MESSAGE', `expected a decision, got ${reply.type}`, true);
    return reply.decision;
  }
}
