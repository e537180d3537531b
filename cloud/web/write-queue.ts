/**
 * A bounded write-behind queue for what the operator dashboard keeps (lane
 * reads with their crops, gate presence): the gate hub hands an item over
 * and goes on with its decision at once; the items are written later, in
 * order, in batches, one batch at a time. A failed batch is logged and
 * dropped (this is evidence for people to look at, not money); when the
 * queue is full, new items are dropped and counted, so a slow or absent
 * database can neither hold up nor fail a gate decision, nor fill memory.
 *
 * `flushed()` lets a reader see its own instance's writes: it resolves once
 * every item pushed before the call has been written (or given up on).
 */

/** the part of a pino/fastify logger used here */
export interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WriteQueueOptions<T> {
  /** what is written, for the log ("lane reads") */
  what: string;
  /** writes one batch, in order; a throw drops the batch (logged) */
  write: (batch: T[]) => Promise<void> | void;
  log: Log;
  /** items waiting at most; beyond that new items are dropped */
  limit: number;
  /** items per batch at most */
  batch: number;
}

export class WriteQueue<T> {
  private readonly items: T[] = [];
  private running = false;
  private closed = false;
  /** items taken in so far, and items written or given up on so far: `flushed` waits for the second to catch up */
  private taken = 0;
  private done = 0;
  private dropped = 0;
  private readonly waiters: Array<{ upTo: number; resolve: () => void }> = [];

  constructor(private readonly o: WriteQueueOptions<T>) {}

  /** Queues `item`; never throws and never waits. False when it was dropped (the queue is full or closed). */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.items.length >= this.o.limit) {
      this.dropped++;
      return false;
    }
    this.items.push(item);
    this.taken++;
    if (!this.running) {
      this.running = true;
      // after the caller's turn (the gate hub answers the gate first), then until the queue is empty
      setImmediate(() => void this.drain());
    }
    return true;
  }

  /** Resolves once every item pushed before this call has been written or given up on. */
  flushed(): Promise<void> {
    if (this.done >= this.taken) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ upTo: this.taken, resolve }));
  }

  /** Writes what is queued, then takes nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
  }

  private async drain(): Promise<void> {
    while (this.items.length > 0) {
      const batch = this.items.splice(0, this.o.batch);
      try {
        await this.o.write(batch);
      } catch (err) {
        this.o.log.error({ err, items: batch.length }, `writing ${this.o.what} failed; dropped`);
      }
      this.done += batch.length;
      if (this.dropped > 0) {
        this.o.log.warn({ dropped: this.dropped, limit: this.o.limit }, `${this.o.what}: queue full; dropped`);
        this.dropped = 0;
      }
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.waiters[i]!.upTo <= this.done) this.waiters.splice(i, 1)[0]!.resolve();
      }
    }
    this.running = false;
  }
}
