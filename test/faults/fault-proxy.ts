/**
 * A WebSocket-aware fault proxy for tests: it sits on 127.0.0.1 between a
 * gate unit and the cloud's gate hub and relays whole ws messages, so it can
 * break the network in ways a TCP proxy cannot express per message.
 *
 *   gate unit --ws--> FaultProxy (ws://127.0.0.1:PORT/...) --ws--> cloud
 *
 * Each gate connection is a "link": the proxy accepts the gate's socket,
 * opens one to the target with the same path, and relays frames both ways
 * ("up": gate -> cloud, "down": cloud -> gate), in order. Frames from the
 * gate that arrive before the cloud socket is open wait for it. When either
 * side closes, the other side is closed too and whatever the proxy still
 * holds for that link is discarded (as a broken middlebox would).
 *
 * Faults, on command:
 * - `drop()`: close every link now, both sides (the gate sees its socket
 *   close and reconnects through the proxy, which keeps accepting).
 * - `stall(ms, dirs)`: stop forwarding in one or both directions for `ms`
 *   without closing anything; frames that arrive meanwhile are queued and
 *   delivered in order when the stall ends (like a congested router).
 * - `arm(match, action)`: a one-shot fault on the next message that matches
 *   (direction, type, predicate); resolves with what was seen when it fired:
 *   - `drop`: the message is discarded and its link closed (a lane event
 *     lost in transit, or a decision lost after the cloud applied it);
 *   - `stall`: a stall starts with this message (it is queued, i.e. in
 *     flight, until the stall ends);
 *   - `duplicate`: the message is forwarded twice;
 *   - `reorder`: the message is held and delivered right after the next
 *     message in the same direction on the same link (at most `maxHoldMs`
 *     later; then it goes on its own);
 *   - `late-copy`: the message is forwarded, and a copy of it is delivered
 *     again after the next message of the same type in the same direction
 *     (a stale retransmission arriving out of order, e.g. a lane event with
 *     a lower counter after a higher one).
 *
 * Every message seen is logged (`log`) with its type and, for lane events
 * and decisions, the event id and counter, so a test can count what was
 * duplicated, held or lost. Only text frames holding JSON are parsed;
 * anything else is relayed untouched.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export type Direction = 'up' | 'down';

export interface SeenMessage {
  link: number;
  dir: Direction;
  /** the message's `type`, or '?' when it is not a JSON object */
  type: string;
  eventId: string | null;
  counter: number | null;
  /** a decision's `duplicate` flag (the cloud had applied the event before) */
  duplicate: boolean | null;
  at: number;
  /** what the proxy did with it */
  fate: 'forwarded' | 'queued' | 'dropped' | 'duplicated' | 'held' | 'late-copy';
}

export type FaultAction =
  | { kind: 'drop' }
  | { kind: 'stall'; ms: number; dirs: Direction[] }
  | { kind: 'duplicate' }
  | { kind: 'reorder'; maxHoldMs?: number }
  | { kind: 'late-copy'; maxHoldMs?: number };

export interface FaultMatch {
  dir: Direction;
  type?: string;
  when?: (m: SeenMessage) => boolean;
}

interface Frame {
  data: Buffer;
  binary: boolean;
  seen: SeenMessage;
}

interface Armed {
  match: FaultMatch;
  action: FaultAction;
  fired: (m: SeenMessage) => void;
}

interface Link {
  id: number;
  gate: WebSocket;
  cloud: WebSocket;
  closed: boolean;
  queue: Record<Direction, Frame[]>;
  /** held by `reorder`: goes after the next frame in its direction */
  held: Record<Direction, { frame: Frame; timer: NodeJS.Timeout } | null>;
  /** copies waiting for the next frame of their type (`late-copy`) */
  late: Array<{ frame: Frame; timer: NodeJS.Timeout }>;
}

export class FaultProxy {
  readonly log: SeenMessage[] = [];
  private readonly links = new Set<Link>();
  private readonly armed: Armed[] = [];
  private readonly stalledUntil: Record<Direction, number> = { up: 0, down: 0 };
  private readonly stallTimers = new Set<NodeJS.Timeout>();
  private nextLink = 0;
  /** links opened so far (the gate's connections through the proxy) */
  connections = 0;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly target: string,
    readonly port: number,
  ) {
    server.on('connection', (gate, request) => this.accept(gate, request.url ?? '/'));
  }

  /** Listens on 127.0.0.1 (any free port) and relays to `target` (ws://host:port, no path). */
  static async start(target: string): Promise<FaultProxy> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 8 * 1024 * 1024 });
    await once(server, 'listening');
    return new FaultProxy(server, target.replace(/\/+$/, ''), (server.address() as AddressInfo).port);
  }

  /** ws URL of the proxy for `path` (e.g. the gate hub's /v1/gates/ws) */
  url(path: string): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** links currently open */
  get openLinks(): number {
    return [...this.links].filter((l) => !l.closed).length;
  }

  /** lane-event frames the proxy holds right now (queued by a stall, held or waiting as a late copy) */
  get laneEventsHeld(): number {
    let n = 0;
    for (const l of this.links) {
      n += l.queue.up.filter((f) => f.seen.type === 'laneEvent').length;
      if (l.held.up?.frame.seen.type === 'laneEvent') n++;
      n += l.late.filter((c) => c.frame.seen.type === 'laneEvent').length;
    }
    return n;
  }

  /** Closes every open link now, both sides. */
  drop(): void {
    for (const l of this.links) this.closeLink(l);
  }

  /** Stops forwarding in `dirs` for `ms` (frames queue up); resolves when forwarding resumes. */
  stall(ms: number, dirs: Direction[] = ['up', 'down']): Promise<void> {
    const until = Date.now() + ms;
    for (const d of dirs) this.stalledUntil[d] = Math.max(this.stalledUntil[d], until);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stallTimers.delete(timer);
        for (const l of this.links) for (const d of dirs) this.flush(l, d);
        resolve();
      }, ms);
      this.stallTimers.add(timer);
    });
  }

  /** A one-shot fault on the next matching message; resolves with that message when it fired. */
  arm(match: FaultMatch, action: FaultAction): Promise<SeenMessage> {
    return new Promise((resolve) => this.armed.push({ match, action, fired: resolve }));
  }

  /** Forgets faults armed but not fired yet. */
  disarm(): void {
    this.armed.length = 0;
  }

  async close(): Promise<void> {
    this.disarm();
    for (const t of this.stallTimers) clearTimeout(t);
    this.stallTimers.clear();
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(gate: WebSocket, path: string): void {
    const cloud = new WebSocket(this.target + path, { maxPayload: 8 * 1024 * 1024 });
    const link: Link = {
      id: ++this.nextLink,
      gate,
      cloud,
      closed: false,
      queue: { up: [], down: [] },
      held: { up: null, down: null },
      late: [],
    };
    this.links.add(link);
    this.connections++;
    gate.on('message', (data: Buffer, binary: boolean) => this.receive(link, 'up', data, binary));
    cloud.on('message', (data: Buffer, binary: boolean) => this.receive(link, 'down', data, binary));
    cloud.on('open', () => this.flush(link, 'up'));
    for (const s of [gate, cloud]) {
      s.on('close', () => this.closeLink(link));
      s.on('error', () => this.closeLink(link));
    }
  }

  private closeLink(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    for (const d of ['up', 'down'] as const) {
      const h = link.held[d];
      if (h) clearTimeout(h.timer);
      link.held[d] = null;
      link.queue[d] = [];
    }
    for (const c of link.late) clearTimeout(c.timer);
    link.late = [];
    link.gate.terminate();
    link.cloud.terminate();
    this.links.delete(link);
  }

  private receive(link: Link, dir: Direction, data: Buffer, binary: boolean): void {
    if (link.closed) return;
    const seen = describe(link.id, dir, data, binary);
    this.log.push(seen);
    const frame: Frame = { data, binary, seen };
    const i = this.armed.findIndex(
      (a) =>
        a.match.dir === dir && (!a.match.type || a.match.type === seen.type) && (!a.match.when || a.match.when(seen)),
    );
    const fault = i >= 0 ? this.armed.splice(i, 1)[0]! : null;
    if (!fault) {
      this.forward(link, dir, frame);
      this.afterForward(link, dir, seen);
      return;
    }
    const a = fault.action;
    switch (a.kind) {
      case 'drop':
        seen.fate = 'dropped';
        fault.fired(seen);
        this.closeLink(link);
        return;
      case 'stall':
        void this.stall(a.ms, a.dirs);
        fault.fired(seen);
        this.forward(link, dir, frame);
        this.afterForward(link, dir, seen);
        return;
      case 'duplicate':
        fault.fired(seen);
        this.forward(link, dir, frame);
        this.forward(link, dir, { ...frame, seen: { ...seen, fate: 'duplicated' } });
        this.log.push({ ...seen, fate: 'duplicated' });
        this.afterForward(link, dir, seen);
        return;
      case 'reorder': {
        seen.fate = 'held';
        const timer = setTimeout(() => this.release(link, dir), a.maxHoldMs ?? 4000);
        link.held[dir] = { frame, timer };
        fault.fired(seen);
        return;
      }
      case 'late-copy': {
        fault.fired(seen);
        this.forward(link, dir, frame);
        this.afterForward(link, dir, seen);
        const copy: Frame = { ...frame, seen: { ...seen, fate: 'late-copy' } };
        const entry = {
          frame: copy,
          timer: setTimeout(() => {
            link.late = link.late.filter((c) => c !== entry);
            this.sendLate(link, dir, copy);
          }, a.maxHoldMs ?? 10_000),
        };
        link.late.push(entry);
        return;
      }
    }
  }

  /** After a frame went out: a held frame follows it, and so does a late copy waiting for its type. */
  private afterForward(link: Link, dir: Direction, seen: SeenMessage): void {
    this.release(link, dir);
    for (const entry of [...link.late]) {
      if (entry.frame.seen.dir !== dir || entry.frame.seen.type !== seen.type || entry.frame.seen === seen) continue;
      if (entry.frame.seen.eventId !== null && entry.frame.seen.eventId === seen.eventId) continue; // a resend of itself
      clearTimeout(entry.timer);
      link.late = link.late.filter((c) => c !== entry);
      this.sendLate(link, dir, entry.frame);
    }
  }

  private sendLate(link: Link, dir: Direction, frame: Frame): void {
    this.log.push({ ...frame.seen, at: Date.now() });
    this.forward(link, dir, frame);
  }

  private release(link: Link, dir: Direction): void {
    const h = link.held[dir];
    if (!h) return;
    clearTimeout(h.timer);
    link.held[dir] = null;
    this.log.push({ ...h.frame.seen, fate: 'forwarded', at: Date.now() });
    this.forward(link, dir, h.frame);
  }

  private forward(link: Link, dir: Direction, frame: Frame): void {
    if (link.closed) return;
    const to = dir === 'up' ? link.cloud : link.gate;
    const blocked = this.stalledUntil[dir] > Date.now() || to.readyState !== WebSocket.OPEN;
    if (blocked || link.queue[dir].length > 0) {
      if (frame.seen.fate === 'forwarded') frame.seen.fate = 'queued';
      link.queue[dir].push(frame);
      return;
    }
    to.send(frame.data, { binary: frame.binary });
  }

  private flush(link: Link, dir: Direction): void {
    if (link.closed || this.stalledUntil[dir] > Date.now()) return;
    const to = dir === 'up' ? link.cloud : link.gate;
    if (to.readyState !== WebSocket.OPEN) return;
    const frames = link.queue[dir];
    link.queue[dir] = [];
    for (const f of frames) to.send(f.data, { binary: f.binary });
  }
}

function describe(link: number, dir: Direction, data: Buffer, binary: boolean): SeenMessage {
  const seen: SeenMessage = {
    link,
    dir,
    type: '?',
    eventId: null,
    counter: null,
    duplicate: null,
    at: Date.now(),
    fate: 'forwarded',
  };
  if (binary) return seen;
  try {
    const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    if (typeof m.type === 'string') seen.type = m.type;
    const event = m.event as { eventId?: unknown; counter?: unknown } | undefined;
    const decision = m.decision as { eventId?: unknown; duplicate?: unknown } | undefined;
    if (typeof decision?.duplicate === 'boolean') seen.duplicate = decision.duplicate;
    const eventId = event?.eventId ?? decision?.eventId;
    if (typeof eventId === 'string') seen.eventId = eventId;
    if (typeof event?.counter === 'number') seen.counter = event.counter;
  } catch {
    // not JSON: relayed as it is
  }
  return seen;
}
