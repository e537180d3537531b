/**
 * The signed settlement ledger: an append-only Merkle log (RFC 9162
 * hashing) with signed checkpoints (C2SP signed-note / tlog-checkpoint),
 * inclusion and consistency proofs, receipts and witness cosignatures.
 *
 * Fault model and invariants:
 * - A record is durable once its append resolves (or, in the cloud, once
 *   the settlement transaction that wrote it committed). Records are never
 *   changed or removed; index = position in the log.
 * - Appends are group-committed: records queue until `batchSize` are
 *   waiting or `batchMs` has passed, then one transaction writes them,
 *   hashes them into the tree and signs a checkpoint for the new size. A
 *   crash loses only appends that had not resolved, never part of a batch.
 * - Every checkpoint's tree is an extension of the previous one (same
 *   records, more of them); proofs come from stored subtree hashes in
 *   O(log n) lookups.
 * - Readers only see records below the tree size, i.e. committed ones.
 */
import type { Clock } from '../../time/clock.js';
import type { Hash } from './merkle.js';
import { consistencyProof, inclusionProof, treeRoot } from './merkle.js';
import type { LedgerRecord, LedgerStore } from './ledger-store.js';
import type { Checkpoint, NoteSigningKey } from './signed-note.js';
import { addSignatureLines, formatCheckpoint, parseCheckpoint, parseNote, signNote } from './signed-note.js';

/** Runs `work` in a write transaction after any transaction in flight on the same database. */
export type WriteSerializer = <T>(work: () => T) => Promise<T>;

export interface LedgerOptions {
  /** the log's name in checkpoints, e.g. "platepay.example/ledger" */
  origin: string;
  /** flush appends when this many are waiting */
  batchSize: number;
  /** or when the oldest has waited this long (ms) */
  batchMs: number;
}

export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  /** the note: body, log signature and any cosignatures */
  note: string;
  createdAt: number;
}

export interface Receipt {
  index: number;
  record: string;
  /** inclusion proof in the checkpoint's tree, base64 hashes */
  proof: string[];
  checkpoint: string;
}

export class LedgerError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_RANGE' | 'NOT_YET_IN_TREE',
    message: string,
  ) {
    super(message);
  }
}

interface PendingAppend {
  ref: string | null;
  record: string;
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

export class Ledger {
  private pending: PendingAppend[] = [];
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LedgerStore,
    readonly key: NoteSigningKey,
    private readonly write: WriteSerializer,
    private readonly clock: Clock,
    readonly options: LedgerOptions,
  ) {}

  /** Appends one record; resolves with its index once it is durable and in a signed checkpoint. */
  append(record: string, ref: string | null = null): Promise<number> {
    if (record.includes('\n')) return Promise.reject(new RangeError('a ledger record must be one line'));
    return new Promise((resolve, reject) => {
      this.pending.push({ ref, record, resolve, reject });
      if (this.pending.length >= this.options.batchSize) void this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.options.batchMs);
    });
  }

  /** Writes the waiting appends in one transaction with their checkpoint. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        const first = await this.write(() => {
          const at = this.clock.now();
          this.store.integrate(); // records written by others first, if any
          const index = this.store.appendAndIntegrate(batch, at);
          this.integrateAndSign(at);
          return index;
        });
        batch.forEach((p, i) => p.resolve(first + i));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    });
    return this.flushing;
  }

  /**
   * Hashes records written by others (the cloud's settlement transactions)
   * into the tree and signs a checkpoint if the tree grew. Returns the new
   * checkpoint, or null when there was nothing new.
   */
  async checkpoint(): Promise<SignedCheckpoint | null> {
    return this.write(() => this.integrateAndSign(this.clock.now()));
  }

  /** Checkpoints every `batchMs` until `stop`. */
  start(onError: (err: unknown) => void = () => undefined): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      this.checkpoint().catch(onError);
    }, this.options.batchMs);
    this.ticker.unref();
  }

  async stop(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    await this.flush();
  }

  private integrateAndSign(at: number): SignedCheckpoint | null {
    const { oldSize, newSize } = this.store.integrate();
    if (newSize === oldSize && this.store.latestCheckpoint()?.size === newSize) return null;
    const checkpoint: Checkpoint = {
      origin: this.options.origin,
      size: newSize,
      root: treeRoot(this.store, newSize),
      extensions: [],
    };
    const note = signNote(formatCheckpoint(checkpoint), [this.key]);
    this.store.insertCheckpoint(newSize, note, at);
    return { checkpoint, note, createdAt: at };
  }

  /** Records in the tree (committed); `end` is capped at the tree size. */
  records(start: number, end: number): LedgerRecord[] {
    const size = this.store.treeSize();
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
      throw new LedgerError('BAD_RANGE', `bad record range [${start}, ${end})`);
    }
    return this.store.records(start, Math.min(end, size));
  }

  leafHashes(start: number, end: number): Hash[] {
    return this.store.leafHashes(start, Math.min(end, this.store.treeSize()));
  }

  get size(): number {
    return this.store.treeSize();
  }

  /** The latest checkpoint with the cosignatures collected so far. */
  latest(): SignedCheckpoint | null {
    const row = this.store.latestCheckpoint();
    return row ? this.withCosignatures(row) : null;
  }

  checkpointOf(size: number): SignedCheckpoint | null {
    const row = this.store.checkpointOf(size);
    return row ? this.withCosignatures(row) : null;
  }

  checkpoints(): SignedCheckpoint[] {
    return this.store.checkpoints().map((row) => this.withCosignatures(row));
  }

  private withCosignatures(row: { size: number; note: string; createdAt: number }): SignedCheckpoint {
    const lines = this.store.cosignatures(row.size).map((c) => c.line);
    const note = lines.length ? addSignatureLines(row.note, lines) : row.note;
    return { checkpoint: parseCheckpoint(parseNote(row.note).body), note, createdAt: row.createdAt };
  }

  addCosignature(size: number, witness: string, line: string): void {
    this.store.putCosignature(size, witness, line);
  }

  inclusionProof(index: number, size: number): Hash[] {
    this.checkSize(size);
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new LedgerError('BAD_RANGE', `index ${index} is not in a tree of size ${size}`);
    }
    return inclusionProof(this.store, index, size);
  }

  consistencyProof(oldSize: number, newSize: number): Hash[] {
    this.checkSize(newSize);
    if (!Number.isInteger(oldSize) || oldSize < 1 || oldSize > newSize) {
      throw new LedgerError('BAD_RANGE', `no consistency proof from size ${oldSize} to ${newSize}`);
    }
    return consistencyProof(this.store, oldSize, newSize);
  }

  /** A record with its inclusion proof in the latest checkpoint, by index or by reference (settlement id). */
  receipt(which: { index: number } | { ref: string }): Receipt {
    const record =
      'ref' in which
        ? this.store.recordByRef(which.ref)
        : (this.store.records(which.index, which.index + 1)[0] ?? null);
    if (!record) throw new LedgerError('NOT_FOUND', 'no such ledger record');
    const latest = this.latest();
    if (!latest || latest.checkpoint.size <= record.index) {
      throw new LedgerError('NOT_YET_IN_TREE', `record ${record.index} is not in a checkpoint yet; retry shortly`);
    }
    const proof = inclusionProof(this.store, record.index, latest.checkpoint.size);
    return {
      index: record.index,
      record: record.record,
      proof: proof.map((h) => Buffer.from(h).toString('base64')),
      checkpoint: latest.note,
    };
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 1 || size > this.store.treeSize()) {
      throw new LedgerError('BAD_RANGE', `tree size ${size} is not between 1 and ${this.store.treeSize()}`);
    }
  }
}
