/**
 * A barrier that exists only in memory, for tests and the demo.
 *
 * Guarantees: every command sent is recorded in `commands` (lane, reason,
 * wall-clock time), the most recent 10,000 kept; it acknowledges after
 * `ackDelayMs` (default 5), unless told to fail (`setMode('fail')`: answers
 * ok:false after the same delay) or to stay silent (`setMode('no-ack')`, or
 * an ack delay not shorter than `timeoutMs`: answers ok:false at
 * `timeoutMs`, default 1000). Never throws; `close()` answers every
 * waiting command with ok:false at once, and later commands likewise.
 */
import type { BarrierCommand, BarrierContext, BarrierDriver, BarrierResult } from './barrier-driver.js';
import { elapsedMs } from './barrier-driver.js';

export interface SimulatedBarrierOptions {
  ackDelayMs?: number;
  timeoutMs?: number;
}

export type SimulatedMode = 'ack' | 'fail' | 'no-ack';

export interface SimulatedCommand {
  command: BarrierCommand;
  laneId: string;
  reason: string;
  /** epoch milliseconds when the command arrived */
  at: number;
}

const KEEP = 10_000;

export class SimulatedBarrier implements BarrierDriver {
  readonly kind = 'simulated';
  readonly commands: SimulatedCommand[] = [];
  readonly timeoutMs: number;
  ackDelayMs: number;
  private behaviour: SimulatedMode = 'ack';
  private failure = 'simulated barrier failure';
  private closed = false;
  private readonly waiting = new Set<() => void>();

  constructor(options: SimulatedBarrierOptions = {}) {
    this.ackDelayMs = options.ackDelayMs ?? 5;
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  get mode(): SimulatedMode {
    return this.behaviour;
  }

  /** how the following commands are answered; `error` is the failure text in 'fail' mode */
  setMode(mode: SimulatedMode, error = 'simulated barrier failure'): void {
    this.behaviour = mode;
    this.failure = error;
  }

  async send(command: BarrierCommand, context: BarrierContext): Promise<BarrierResult> {
    const startedAt = performance.now();
    if (this.closed) return { ok: false, error: 'simulated barrier is closed', afterMs: 0 };
    this.commands.push({ command, laneId: context.laneId, reason: context.reason, at: Date.now() });
    if (this.commands.length > KEEP) this.commands.splice(0, this.commands.length - KEEP);

    const mode = this.behaviour;
    const failure = this.failure;
    const silent = mode === 'no-ack' || this.ackDelayMs >= this.timeoutMs;
    const elapsed = await this.wait(silent ? this.timeoutMs : this.ackDelayMs);
    if (!elapsed) return { ok: false, error: 'simulated barrier closed while waiting', afterMs: elapsedMs(startedAt) };
    if (silent)
      return { ok: false, error: `no acknowledgement in ${this.timeoutMs} ms`, afterMs: elapsedMs(startedAt) };
    if (mode === 'fail') return { ok: false, error: failure, afterMs: elapsedMs(startedAt) };
    return { ok: true, ackMs: elapsedMs(startedAt) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waiting]) wake();
  }

  /** resolves true after `ms`, or false as soon as the driver is closed */
  private wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        resolve(true);
      }, ms);
      this.waiting.add(wake);
    });
  }
}
