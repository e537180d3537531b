/**
 * Sends journaled lane events to the cloud strictly in counter order (the
 * cloud refuses a counter below one it has applied), one at a time: the
 * outbox left from a previous run or an outage first, then new events.
 * A lane waits for its own event's decision with a deadline; if the
 * deadline passes the event stays in the outbox and is still delivered
 * later, exactly once (the cloud deduplicates by event id).
 */
import type { DecisionBody } from '../../proto/v1/messages.js';
import type { Journal } from '../journal/journal.js';
import type { Uplink } from './uplink.js';
import { UplinkError } from './uplink.js';

interface Waiter {
  resolve: (d: DecisionBody) => void;
  reject: (e: Error) => void;
}

export interface OutboxObserver {
  refused(eventId: string, code: string, message: string): void;
}

export class OutboxSender {
  private readonly waiters = new Map<string, Waiter[]>();
  private running = false;
  private again = false;

  constructor(
    private readonly journal: Journal,
    private readonly uplink: Uplink,
    private readonly observer: OutboxObserver,
    private readonly requestTimeoutMs = 5000,
  ) {
    uplink.on('connected', () => this.kick());
    // a lane waiting for a decision decides by the offline policy now, not at its deadline
    uplink.on('disconnected', () => {
      const offline = new UplinkError('OFFLINE', 'the cloud connection was lost', true);
      for (const waiters of this.waiters.values()) for (const w of waiters) w.reject(offline);
      this.waiters.clear();
    });
  }

  /** Resolves with the cloud's decision for a journaled event, or rejects at the deadline. */
  decisionFor(eventId: string, deadlineMs: number): Promise<DecisionBody> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.drop(eventId, waiter);
          reject(new UplinkError('TIMEOUT', `no decision within ${deadlineMs} ms`, true));
        },
        Math.max(0, deadlineMs),
      );
      const waiter: Waiter = {
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.set(eventId, [...(this.waiters.get(eventId) ?? []), waiter]);
      if (!this.uplink.online) {
        this.drop(eventId, waiter);
        waiter.reject(new UplinkError('OFFLINE', 'the cloud is not connected', true));
        return;
      }
      this.kick();
    });
  }

  private drop(eventId: string, waiter: Waiter): void {
    const rest = (this.waiters.get(eventId) ?? []).filter((w) => w !== waiter);
    if (rest.length) this.waiters.set(eventId, rest);
    else this.waiters.delete(eventId);
  }

  /** Starts draining the outbox (no-op when already draining). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.uplink.online) {
      const [event] = this.journal.outbox(1);
      if (!event) return;
      try {
        const decision = await this.uplink.submit(event, this.requestTimeoutMs);
        this.journal.setCloudDecision(event.eventId, decision);
        for (const w of this.waiters.get(event.eventId) ?? []) w.resolve(decision);
        this.waiters.delete(event.eventId);
      } catch (err) {
        if (err instanceof UplinkError && !err.retryable) {
          // the cloud will never apply it: take it out of the outbox, say so loudly
          const refusal: DecisionBody = {
            eventId: event.eventId,
            action: 'hold',
            reason: `refused:${err.code}`,
            fee: null,
            currency: null,
            settlementId: null,
            reviewId: null,
            duplicate: false,
          };
          this.journal.setCloudDecision(event.eventId, refusal);
          this.observer.refused(event.eventId, err.code, err.message);
          for (const w of this.waiters.get(event.eventId) ?? []) w.reject(err);
          this.waiters.delete(event.eventId);
          continue;
        }
        return; // offline or timed out: try again on the next connect or event
      }
    }
  }
}
