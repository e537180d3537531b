/**
 * Where the ledger lives: SQLite tables that may share a database with the
 * cloud service (so a settlement and its record commit together) or stand
 * alone (a partner's copy, the benchmarks).
 *
 * - `ledger_records`: the records in log order (index = position), each with
 *   an optional unique reference (the settlement id);
 * - `ledger_nodes`: every complete subtree hash (level 0 = leaf hashes), so
 *   roots and proofs take O(log n) lookups;
 * - `ledger_checkpoints`: the signed checkpoint notes, by tree size;
 * - `ledger_cosignatures`: witness cosignature lines, by size and witness.
 *
 * The store is synchronous (better-sqlite3); callers wrap writes in a
 * transaction. Records may run ahead of the tree: `integrate` hashes the
 * records not yet in the tree.
 */
import type Database from 'better-sqlite3';
import type { Hash, SubtreeSource } from './merkle.js';
import { completedParents, leafHashOfText, nodeHash } from './merkle.js';

export const LEDGER_SCHEMA = `
  CREATE TABLE IF NOT EXISTS ledger_records (
    idx INTEGER PRIMARY KEY,
    ref TEXT UNIQUE,
    record TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ledger_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ledger_checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ledger_cosignatures (
    size INTEGER NOT NULL REFERENCES ledger_checkpoints(size),
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (size, witness)
  );
`;

export interface LedgerRecord {
  index: number;
  ref: string | null;
  record: string;
  createdAt: number;
}

export class LedgerStoreError extends Error {
  readonly code = 'LEDGER_STORE';
}

type CheckpointRow = { size: number; note: string; createdAt: number };

/**
 * What the ledger reads and writes, synchronously: SQLite
 * (`SqliteLedgerStore`) or, for PostgreSQL, an in-memory copy of the log
 * that is read from and written back to the database around each write
 * (`cloud/storage/postgres/pg-ledger-store.ts`). Writes are made inside the
 * ledger's WriteSerializer.
 */
export interface LedgerStore extends SubtreeSource {
  recordCount(): number;
  treeSize(): number;
  appendRecords(records: ReadonlyArray<{ ref: string | null; record: string }>, at: number): number;
  records(start: number, end: number): LedgerRecord[];
  recordByRef(ref: string): LedgerRecord | null;
  integrate(max?: number): { oldSize: number; newSize: number };
  appendAndIntegrate(records: ReadonlyArray<{ ref: string | null; record: string }>, at: number): number;
  leafHashes(start: number, end: number): Hash[];
  insertCheckpoint(size: number, note: string, at: number): void;
  latestCheckpoint(): CheckpointRow | null;
  checkpointAtLeast(size: number): CheckpointRow | null;
  checkpointOf(size: number): CheckpointRow | null;
  checkpoints(): CheckpointRow[];
  putCosignature(size: number, witness: string, line: string): void;
  cosignatures(size: number): Array<{ witness: string; line: string }>;
}

export class SqliteLedgerStore implements LedgerStore {
  private readonly stmt;

  constructor(private readonly db: Database.Database) {
    db.exec(LEDGER_SCHEMA);
    this.stmt = {
      maxRecord: db.prepare('SELECT MAX(idx) AS m FROM ledger_records'),
      maxLeaf: db.prepare('SELECT MAX(idx) AS m FROM ledger_nodes WHERE level = 0'),
      insertRecord: db.prepare('INSERT INTO ledger_records (idx, ref, record, created_at) VALUES (?, ?, ?, ?)'),
      records: db.prepare('SELECT * FROM ledger_records WHERE idx >= ? AND idx < ? ORDER BY idx'),
      recordByRef: db.prepare('SELECT * FROM ledger_records WHERE ref = ?'),
      node: db.prepare('SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?'),
      insertNode: db.prepare('INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)'),
      leaves: db.prepare('SELECT hash FROM ledger_nodes WHERE level = 0 AND idx >= ? AND idx < ? ORDER BY idx'),
      insertCheckpoint: db.prepare('INSERT INTO ledger_checkpoints (size, note, created_at) VALUES (?, ?, ?)'),
      latestCheckpoint: db.prepare('SELECT * FROM ledger_checkpoints ORDER BY size DESC LIMIT 1'),
      checkpointAtLeast: db.prepare('SELECT * FROM ledger_checkpoints WHERE size >= ? ORDER BY size LIMIT 1'),
      checkpointOf: db.prepare('SELECT * FROM ledger_checkpoints WHERE size = ?'),
      checkpoints: db.prepare('SELECT * FROM ledger_checkpoints ORDER BY size'),
      upsertCosignature: db.prepare(
        'INSERT INTO ledger_cosignatures (size, witness, line) VALUES (?, ?, ?) ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line',
      ),
      cosignatures: db.prepare('SELECT witness, line FROM ledger_cosignatures WHERE size = ? ORDER BY witness'),
    };
  }

  /** Number of records written (the tree may be behind). */
  recordCount(): number {
    const r = this.stmt.maxRecord.get() as { m: number | null };
    return r.m === null ? 0 : r.m + 1;
  }

  /** Number of records hashed into the tree. */
  treeSize(): number {
    const r = this.stmt.maxLeaf.get() as { m: number | null };
    return r.m === null ? 0 : r.m + 1;
  }

  /** Appends records at the end of the log; returns the index of the first. Call inside a transaction. */
  appendRecords(records: ReadonlyArray<{ ref: string | null; record: string }>, at: number): number {
    const first = this.recordCount();
    records.forEach((r, i) => {
      if (r.record.includes('\n')) throw new LedgerStoreError('a ledger record must be one line');
      this.stmt.insertRecord.run(first + i, r.ref, r.record, at);
    });
    return first;
  }

  records(start: number, end: number): LedgerRecord[] {
    return (this.stmt.records.all(start, end) as Array<Record<string, unknown>>).map(toRecord);
  }

  recordByRef(ref: string): LedgerRecord | null {
    const r = this.stmt.recordByRef.get(ref) as Record<string, unknown> | undefined;
    return r ? toRecord(r) : null;
  }

  /**
   * Hashes records [treeSize, min(recordCount, treeSize + max)) into the tree:
   * their leaf hashes and every subtree they complete. Call inside a transaction.
   */
  integrate(max = Number.MAX_SAFE_INTEGER): { oldSize: number; newSize: number } {
    const oldSize = this.treeSize();
    const end = Math.min(this.recordCount(), oldSize + max);
    const batch = 4096;
    let expected = oldSize;
    for (let start = oldSize; start < end; start += batch) {
      const records = this.records(start, Math.min(end, start + batch));
      for (const r of records)
        if (r.index !== expected++) throw new LedgerStoreError(`ledger record ${expected - 1} is missing`);
      this.insertLeaves(
        start,
        records.map((r) => r.record),
      );
    }
    if (expected !== end) throw new LedgerStoreError(`ledger record ${expected} is missing`);
    return { oldSize, newSize: end };
  }

  /**
   * Appends records and hashes them into the tree in one go, from memory
   * (the group-commit path). The tree must be up to date. Call inside a
   * transaction.
   */
  appendAndIntegrate(records: ReadonlyArray<{ ref: string | null; record: string }>, at: number): number {
    const first = this.recordCount();
    if (this.treeSize() !== first) throw new LedgerStoreError('records are waiting to be integrated');
    this.appendRecords(records, at);
    this.insertLeaves(
      first,
      records.map((r) => r.record),
    );
    return first;
  }

  /** Inserts leaf hashes for records at [first, first + n) and the subtrees they complete. */
  private insertLeaves(first: number, records: readonly string[]): void {
    const fresh = new Map<string, Hash>();
    const get = (level: number, index: number): Hash => fresh.get(`${level}:${index}`) ?? this.node(level, index);
    records.forEach((record, k) => {
      const index = first + k;
      const leaf = leafHashOfText(record);
      this.stmt.insertNode.run(0, index, leaf);
      fresh.set(`0:${index}`, leaf);
      for (const { level, index: i } of completedParents(index)) {
        const hash = nodeHash(get(level - 1, 2 * i), get(level - 1, 2 * i + 1));
        this.stmt.insertNode.run(level, i, hash);
        fresh.set(`${level}:${i}`, hash);
      }
    });
  }

  node(level: number, index: number): Hash {
    const r = this.stmt.node.get(level, index) as { hash: Buffer } | undefined;
    if (!r) throw new LedgerStoreError(`ledger node (${level}, ${index}) is not in the tree`);
    return r.hash;
  }

  leafHashes(start: number, end: number): Hash[] {
    return (this.stmt.leaves.all(start, end) as Array<{ hash: Buffer }>).map((r) => r.hash);
  }

  insertCheckpoint(size: number, note: string, at: number): void {
    this.stmt.insertCheckpoint.run(size, note, at);
  }

  latestCheckpoint(): { size: number; note: string; createdAt: number } | null {
    return toCheckpoint(this.stmt.latestCheckpoint.get());
  }

  /** the first checkpoint whose tree holds `size` records */
  checkpointAtLeast(size: number): { size: number; note: string; createdAt: number } | null {
    return toCheckpoint(this.stmt.checkpointAtLeast.get(size));
  }

  checkpointOf(size: number): { size: number; note: string; createdAt: number } | null {
    return toCheckpoint(this.stmt.checkpointOf.get(size));
  }

  checkpoints(): Array<{ size: number; note: string; createdAt: number }> {
    return (this.stmt.checkpoints.all() as unknown[]).map((r) => toCheckpoint(r)!);
  }

  putCosignature(size: number, witness: string, line: string): void {
    this.stmt.upsertCosignature.run(size, witness, line);
  }

  cosignatures(size: number): Array<{ witness: string; line: string }> {
    return this.stmt.cosignatures.all(size) as Array<{ witness: string; line: string }>;
  }
}

function toRecord(r: Record<string, unknown>): LedgerRecord {
  return {
    index: r.idx as number,
    ref: (r.ref as string | null) ?? null,
    record: r.record as string,
    createdAt: r.created_at as number,
  };
}

function toCheckpoint(r: unknown): { size: number; note: string; createdAt: number } | null {
  if (!r) return null;
  const o = r as Record<string, unknown>;
  return { size: o.size as number, note: o.note as string, createdAt: o.created_at as number };
}
