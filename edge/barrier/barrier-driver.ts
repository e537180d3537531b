/**
 * The barrier contract, and the wrapper every lane drives its barrier through.
 *
 * A BarrierDriver sends one command to one physical (or simulated) barrier
 * and resolves with the device's answer: `ok: true` only once the device
 * confirmed, `ok: false` when it failed or did not answer in time. A driver
 * never throws and never hangs past its own timeout.
 *
 * ConfirmingBarrier guarantees, for one lane:
 * - a command counts as done only after the driver confirmed it; the state
 *   ('closed' at start, the resting position) changes only then;
 * - a failed, unacknowledged or crashed command sets the state to
 *   'unknown' and raises an 'alarm' event `{ laneId, command, error }`;
 * - commands run one at a time, in the order given, so the state always
 *   describes the last command the device answered;
 * - a 'state' event `(state)` follows every change of the state;
 * - `open()` / `close()` always resolve (never reject), even if the driver
 *   breaks its contract (throws, returns garbage, or never answers: a
 *   safety deadline of the driver's `timeoutMs` plus a grace period, or
 *   61 s for drivers that do not state one, applies).
 * A listener that throws from 'alarm' does not swallow the result: the
 * command still resolves, and the listener's error is rethrown on the next
 * tick (a bug there should be loud).
 */
import { EventEmitter } from 'node:events';

export type BarrierCommand = 'open' | 'close';
export type BarrierResult = { ok: true; ackMs: number } | { ok: false; error: string; afterMs: number };
export interface BarrierContext {
  laneId: string;
  reason: string;
}

/** drives one lane's barrier; resolves only when the device confirmed (ok) or failed/timed out (never throws, never hangs past its timeout) */
export interface BarrierDriver {
  readonly kind: string; // 'simulated' | 'http-relay' | 'command'
  /** the driver's own answer deadline (ms), if it has one; ConfirmingBarrier's safety deadline builds on it */
  readonly timeoutMs?: number;
  send(command: BarrierCommand, context: BarrierContext): Promise<BarrierResult>;
  close(): Promise<void>;
}

export type BarrierState = 'closed' | 'open' | 'unknown';

export interface BarrierAlarm {
  laneId: string;
  command: BarrierCommand;
  error: string;
}

/** extra time the wrapper gives a driver beyond the driver's own timeout before giving up on it */
export const SAFETY_GRACE_MS = 1000;
const FALLBACK_DRIVER_TIMEOUT_MS = 60_000;

/** milliseconds since `startedAt` (a performance.now() reading), rounded */
export function elapsedMs(startedAt: number): number {
  return Math.max(0, Math.round(performance.now() - startedAt));
}

function isResult(r: unknown): r is BarrierResult {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  if (o.ok === true) return typeof o.ackMs === 'number';
  return o.ok === false && typeof o.error === 'string' && typeof o.afterMs === 'number';
}

/** Wraps a driver: records a command as done only after the driver confirms; a failed or unacknowledged command raises an alarm; keeps the lane's barrier state */
export class ConfirmingBarrier extends EventEmitter {
  private current: BarrierState = 'closed';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly driver: BarrierDriver,
    readonly laneId: string,
  ) {
    super();
  }

  get state(): BarrierState {
    return this.current;
  }

  open(reason: string): Promise<BarrierResult> {
    return this.enqueue('open', reason);
  }

  close(reason: string): Promise<BarrierResult> {
    return this.enqueue('close', reason);
  }

  /** releases the driver (aborts what it has in flight); does not move the barrier */
  async shutdown(): Promise<void> {
    try {
      await this.driver.close();
    } catch {
      // a driver that fails to close has nothing more to release
    }
  }

  private enqueue(command: BarrierCommand, reason: string): Promise<BarrierResult> {
    const run = this.queue.then(() => this.run(command, reason));
    this.queue = run;
    return run;
  }

  private async run(command: BarrierCommand, reason: string): Promise<BarrierResult> {
    const result = await this.sendWithDeadline(command, reason);
    const before = this.current;
    if (result.ok) {
      this.current = command === 'open' ? 'open' : 'closed';
    } else {
      this.current = 'unknown';
      this.raise({ laneId: this.laneId, command, error: result.error });
    }
    if (this.current !== before) this.emit('state', this.current);
    return result;
  }

  private sendWithDeadline(command: BarrierCommand, reason: string): Promise<BarrierResult> {
    const startedAt = performance.now();
    const own = this.driver.timeoutMs;
    const limit =
      (typeof own === 'number' && Number.isFinite(own) && own > 0 ? own : FALLBACK_DRIVER_TIMEOUT_MS) + SAFETY_GRACE_MS;
    return new Promise<BarrierResult>((resolve) => {
      let settled = false;
      const finish = (r: BarrierResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(
        () =>
          finish({
            ok: false,
            error: `${this.driver.kind} driver gave no answer in ${limit} ms`,
            afterMs: elapsedMs(startedAt),
          }),
        limit,
      );
      let pending: Promise<BarrierResult>;
      try {
        pending = Promise.resolve(this.driver.send(command, { laneId: this.laneId, reason }));
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        (r) =>
          finish(
            isResult(r)
              ? r
              : {
                  ok: false,
                  error: `${this.driver.kind} driver returned a malformed result`,
                  afterMs: elapsedMs(startedAt),
                },
          ),
        (err: unknown) =>
          finish({
            ok: false,
            error: `${this.driver.kind} driver failed: ${err instanceof Error ? err.message : String(err)}`,
            afterMs: elapsedMs(startedAt),
          }),
      );
    });
  }

  private raise(alarm: BarrierAlarm): void {
    try {
      this.emit('alarm', alarm);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}
