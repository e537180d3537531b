/**
 * The signed ledger on PostgreSQL, shared by several cloud instances.
 *
 * The Merkle log (`cloud/ledger/ledger.ts`) reads and writes its store
 * synchronously, so each instance keeps a copy of the log in memory
 * (`PgLedgerCopy`: records, every complete subtree hash, checkpoints and
 * cosignatures) and serves proofs, receipts and checkpoints from it. The
 * copy only ever holds what the database committed: it is brought up to
 * date from one REPEATABLE READ snapshot (records, nodes, checkpoints,
 * cosignatures consistent with each other) before every ledger write and on
 * every tick of a follower.
 *
 * One sequencer at a time: the instance that holds the session advisory
 * lock (7311, 2) on its own connection hashes new records into the tree,
 * signs checkpoints and stores cosignatures; the others only read. Its
 * writes go through that same connection, in a transaction that first
 * checks the lock is still held, so an instance that lost its connection
 * (and with it the lock) cannot write; and the tables' primary keys (a node
 * per position, a checkpoint per size) refuse a second writer's rows
 * rather than fork the log. When the holder dies, PostgreSQL ends its
 * session and frees the lock; another instance takes it on its next tick
 * (`turn`) and carries on from the committed state.
 *
 * The records themselves are written by the settlement transactions
 * (`PgStore`) into `ledger_queue`, so a settlement and its record commit
 * together, as on SQLite. Before each write the sequencer moves the queued
 * records that have committed into `ledger_records`, with the next indexes
 * in queue order, in one transaction (a record is in the queue or in the
 * log, never both or neither); only then are they hashed and checkpointed.
 * Readers see a record in the log once it has its index, and in a proof
 * once a checkpoint covers it, as on SQLite.
 *
 * The ledger CLI reads the log without being an instance (`readPgLedger`):
 * the same snapshot read into a fresh copy, with no lock and no write.
 */
import pg from 'pg';
import type { Hash } from '../../ledger/merkle.js';
import { completedParents, leafHashOfText, nodeHash } from '../../ledger/merkle.js';
import type { LedgerRecord, LedgerStore } from '../../ledger/ledger-store.js';
import { LedgerStoreError } from '../../ledger/ledger-store.js';
import { NoLedgerError } from '../../ledger/ledger-database.js';
import type { WriteSerializer } from '../../ledger/ledger.js';
import { pgTypes } from './pg-connection.js';

/** the advisory lock of the ledger sequencer: (7311, 2); (7311, 1) serialises migrations */
const LOCK_CLASS = 7311;
const LOCK_SEQUENCER = 2;

export class NotSequencerError extends Error {
  readonly code = 'NOT_SEQUENCER';
  constructor() {
    super('this instance is not the ledger sequencer');
  }
}

type CheckpointRow = { size: number; note: string; createdAt: number };

/** rows of the ledger tables, as `PgLedgerCopy.load` takes them */
type CommittedRows = Record<'records' | 'nodes' | 'checkpoints' | 'cosignatures', Array<Record<string, unknown>>>;

interface Mark {
  records: number;
  nodes: number[];
  checkpoints: number;
}

/** The log in memory, kept in step with the database; writes are queued for the sequencer to store. */
export class PgLedgerCopy implements LedgerStore {
  private refs: Array<string | null> = [];
  private recs: string[] = [];
  private created: number[] = [];
  private byRef = new Map<string, number>();
  /** levels[level][index]: every complete subtree hash */
  private levels: Hash[][] = [];
  private cps: CheckpointRow[] = [];
  private cpBySize = new Map<number, CheckpointRow>();
  private cosigs = new Map<number, Map<string, string>>();
  /** the highest cosignature revision loaded */
  cosignatureRev = 0;
  /** writes made since the last `takeOutbox` */
  private out = {
    records: [] as Array<{ idx: number; ref: string | null; record: string; at: number }>,
    nodes: [] as Array<{ level: number; idx: number; hash: Hash }>,
    checkpoints: [] as Array<CheckpointRow>,
    cosignatures: [] as Array<{ size: number; witness: string; line: string }>,
  };

  recordCount(): number {
    return this.recs.length;
  }

  treeSize(): number {
    return this.levels[0]?.length ?? 0;
  }

  appendRecords(records: ReadonlyArray<{ ref: string | null; record: string }>, at: number): number {
    const first = this.recordCount();
    for (const r of records) {
      if (r.record.includes('\n')) throw new LedgerStoreError('a ledger record must be one line');
      if (r.ref !== null && this.byRef.has(r.ref)) throw new LedgerStoreError(`ledger reference ${r.ref} is taken`);
    }
    for (const r of records) {
      this.out.records.push({ idx: this.recs.length, ref: r.ref, record: r.record, at });
      this.pushRecord(r.ref, r.record, at);
    }
    return first;
  }

  private pushRecord(ref: string | null, record: string, at: number): void {
    if (ref !== null) this.byRef.set(ref, this.recs.length);
    this.refs.push(ref);
    this.recs.push(record);
    this.created.push(at);
  }

  records(start: number, end: number): LedgerRecord[] {
    const out: LedgerRecord[] = [];
    for (let i = Math.max(0, start); i < Math.min(end, this.recs.length); i++) out.push(this.record(i));
    return out;
  }

  private record(i: number): LedgerRecord {
    return { index: i, ref: this.refs[i]!, record: this.recs[i]!, createdAt: this.created[i]! };
  }

  recordByRef(ref: string): LedgerRecord | null {
    const i = this.byRef.get(ref);
    return i === undefined ? null : this.record(i);
  }

  integrate(max = Number.MAX_SAFE_INTEGER): { oldSize: number; newSize: number } {
    const oldSize = this.treeSize();
    const end = Math.min(this.recordCount(), oldSize + max);
    this.insertLeaves(oldSize, this.recs.slice(oldSize, end));
    return { oldSize, newSize: end };
  }

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

  private insertLeaves(first: number, records: readonly string[]): void {
    records.forEach((record, k) => {
      const index = first + k;
      this.putNode(0, index, leafHashOfText(record));
      for (const { level, index: i } of completedParents(index)) {
        this.putNode(level, i, nodeHash(this.node(level - 1, 2 * i), this.node(level - 1, 2 * i + 1)));
      }
    });
  }

  private putNode(level: number, idx: number, hash: Hash): void {
    this.setNode(level, idx, hash);
    this.out.nodes.push({ level, idx, hash });
  }

  private setNode(level: number, idx: number, hash: Hash): void {
    const nodes = (this.levels[level] ??= []);
    if (nodes.length !== idx) throw new LedgerStoreError(`ledger node (${level}, ${idx}) is out of order`);
    nodes.push(hash);
  }

  node(level: number, index: number): Hash {
    const h = this.levels[level]?.[index];
    if (!h) throw new LedgerStoreError(`ledger node (${level}, ${index}) is not in the tree`);
    return h;
  }

  leafHashes(start: number, end: number): Hash[] {
    return (this.levels[0] ?? []).slice(Math.max(0, start), Math.max(0, end));
  }

  insertCheckpoint(size: number, note: string, at: number): void {
    const row = { size, note, createdAt: at };
    this.addCheckpoint(row);
    this.out.checkpoints.push(row);
  }

  private addCheckpoint(row: CheckpointRow): void {
    if (this.cpBySize.has(row.size)) throw new LedgerStoreError(`a checkpoint of size ${row.size} exists`);
    const last = this.cps[this.cps.length - 1];
    if (last && last.size > row.size) throw new LedgerStoreError(`checkpoint ${row.size} is older than ${last.size}`);
    this.cps.push(row);
    this.cpBySize.set(row.size, row);
  }

  latestCheckpoint(): CheckpointRow | null {
    const last = this.cps[this.cps.length - 1];
    return last ? { ...last } : null;
  }

  checkpointAtLeast(size: number): CheckpointRow | null {
    let lo = 0;
    let hi = this.cps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cps[mid]!.size < size) lo = mid + 1;
      else hi = mid;
    }
    const row = this.cps[lo];
    return row ? { ...row } : null;
  }

  checkpointOf(size: number): CheckpointRow | null {
    const row = this.cpBySize.get(size);
    return row ? { ...row } : null;
  }

  checkpoints(): CheckpointRow[] {
    return this.cps.map((r) => ({ ...r }));
  }

  putCosignature(size: number, witness: string, line: string): void {
    if (!this.cpBySize.has(size)) throw new LedgerStoreError(`no checkpoint of size ${size}`);
    this.setCosignature(size, witness, line);
    this.out.cosignatures.push({ size, witness, line });
  }

  private setCosignature(size: number, witness: string, line: string): void {
    let m = this.cosigs.get(size);
    if (!m) this.cosigs.set(size, (m = new Map()));
    m.set(witness, line);
  }

  cosignatures(size: number): Array<{ witness: string; line: string }> {
    const m = this.cosigs.get(size);
    if (!m) return [];
    return [...m.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([witness, line]) => ({ witness, line }));
  }

  /** true when writes are waiting to be stored */
  hasOutbox(): boolean {
    const o = this.out;
    return o.records.length + o.nodes.length + o.checkpoints.length + o.cosignatures.length > 0;
  }

  takeOutbox(): PgLedgerCopy['out'] {
    const o = this.out;
    this.out = { records: [], nodes: [], checkpoints: [], cosignatures: [] };
    return o;
  }

  mark(): Mark {
    return { records: this.recs.length, nodes: this.levels.map((l) => l.length), checkpoints: this.cps.length };
  }

  /** Undoes the records, nodes and checkpoints added since `m` (their write failed); cosignatures are queued again. */
  rollBack(m: Mark, unstored: PgLedgerCopy['out'] | null): void {
    for (let i = m.records; i < this.recs.length; i++) {
      const ref = this.refs[i];
      if (ref !== null && ref !== undefined) this.byRef.delete(ref);
    }
    this.refs.length = this.recs.length = this.created.length = m.records;
    this.levels.forEach((l, level) => (l.length = m.nodes[level] ?? 0));
    for (const row of this.cps.slice(m.checkpoints)) this.cpBySize.delete(row.size);
    this.cps.length = m.checkpoints;
    this.out.records = [];
    this.out.nodes = [];
    this.out.checkpoints = [];
    if (unstored) this.out.cosignatures.unshift(...unstored.cosignatures);
  }

  /** Adds what the database committed since the last load (rows in order, from one snapshot). */
  load(rows: CommittedRows): void {
    for (const r of rows.records) {
      if ((r.idx as number) !== this.recs.length) {
        throw new LedgerStoreError(`ledger record ${this.recs.length} is missing`);
      }
      this.pushRecord((r.ref as string | null) ?? null, r.record as string, r.created_at as number);
    }
    for (const r of rows.nodes) this.setNode(r.level as number, r.idx as number, r.hash as Buffer);
    for (const r of rows.checkpoints) {
      this.addCheckpoint({ size: r.size as number, note: r.note as string, createdAt: r.created_at as number });
    }
    for (const r of rows.cosignatures) {
      this.setCosignature(r.size as number, r.witness as string, r.line as string);
      this.cosignatureRev = Math.max(this.cosignatureRev, r.rev as number);
    }
  }
}

/** The ledger's storage on PostgreSQL for one instance: its copy, the sequencer lock, and the write path. */
export class PgLedger {
  readonly copy = new PgLedgerCopy();
  private lockClient: pg.Client | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly pool: pg.Pool,
  ) {}

  static async open(url: string, pool: pg.Pool): Promise<PgLedger> {
    const ledger = new PgLedger(url, pool);
    await ledger.refresh();
    return ledger;
  }

  /** true while this instance holds the sequencer lock (as far as it knows) */
  get isSequencer(): boolean {
    return this.lockClient !== null;
  }

  /**
   * One tick: takes the sequencer lock if it is free and brings the copy up
   * to date. True when this instance is the sequencer (it may checkpoint).
   */
  turn(): Promise<boolean> {
    return this.serial(async () => {
      const leader = await this.acquire();
      if (!leader) await this.refresh();
      return leader;
    });
  }

  /** The ledger's WriteSerializer: the sequencer runs `work` on an up-to-date copy and stores what it wrote. */
  readonly write: WriteSerializer = <T>(work: () => T): Promise<T> =>
    this.serial(async () => {
      if (!(await this.acquire())) throw new NotSequencerError();
      await this.sequenceQueued();
      await this.refresh();
      const mark = this.copy.mark();
      let value: T;
      try {
        value = work();
      } catch (err) {
        this.copy.rollBack(mark, null);
        throw err;
      }
      if (!this.copy.hasOutbox()) return value;
      const out = this.copy.takeOutbox();
      const client = this.lockClient!;
      try {
        await client.query('BEGIN');
        await this.checkLock(client);
        if (out.records.length) {
          await client.query(
            `INSERT INTO ledger_records (idx, ref, record, created_at)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])`,
            [
              out.records.map((r) => r.idx),
              out.records.map((r) => r.ref),
              out.records.map((r) => r.record),
              out.records.map((r) => r.at),
            ],
          );
        }
        if (out.nodes.length) {
          await client.query(
            'INSERT INTO ledger_nodes (level, idx, hash) SELECT * FROM unnest($1::int[], $2::bigint[], $3::bytea[])',
            [out.nodes.map((n) => n.level), out.nodes.map((n) => n.idx), out.nodes.map((n) => Buffer.from(n.hash))],
          );
        }
        for (const c of out.checkpoints) {
          await client.query('INSERT INTO ledger_checkpoints (size, note, created_at) VALUES ($1, $2, $3)', [
            c.size,
            c.note,
            c.createdAt,
          ]);
        }
        for (const c of out.cosignatures) {
          await client.query(
            `INSERT INTO ledger_cosignatures (size, witness, line) VALUES ($1, $2, $3)
             ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line, rev = nextval('ledger_cosignatures_rev')`,
            [c.size, c.witness, c.line],
          );
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        this.copy.rollBack(mark, out);
        throw err;
      }
      return value;
    });

  async close(): Promise<void> {
    this.closed = true;
    await this.chain.catch(() => undefined);
    const client = this.candidate;
    this.lockClient = null;
    this.candidate = null;
    if (client) await client.end().catch(() => undefined); // frees the lock for another instance
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Gives the committed queued records their indexes after the last record of the log (one transaction). */
  private async sequenceQueued(): Promise<void> {
    const client = this.lockClient!;
    try {
      await client.query('BEGIN');
      await this.checkLock(client);
      await client.query(
        `WITH moved AS (DELETE FROM ledger_queue RETURNING seq, ref, record, created_at),
              head AS (SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM ledger_records)
         INSERT INTO ledger_records (idx, ref, record, created_at)
         SELECT head.next + row_number() OVER (ORDER BY moved.seq) - 1, moved.ref, moved.record, moved.created_at
         FROM moved, head`,
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Throws unless this session still holds the sequencer lock (call inside the writing transaction). */
  private async checkLock(client: pg.Client): Promise<void> {
    const held = await client.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
         AND classid = $1 AND objid = $2 AND objsubid = 2`,
      [LOCK_CLASS, LOCK_SEQUENCER],
    );
    if (held.rowCount !== 1) throw new NotSequencerError();
  }

  /** Holds the sequencer lock, or takes it if it is free; false when another instance has it. */
  private async acquire(): Promise<boolean> {
    if (this.lockClient) return true;
    if (this.closed) return false;
    try {
      const client = await this.candidateClient();
      const r = await client.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, LOCK_SEQUENCER]);
      if (r.rows[0]?.ok !== true) return false;
      if (this.closed || this.candidate !== client) {
        await client.end().catch(() => undefined); // frees the lock again
        return false;
      }
      this.lockClient = client;
      return true;
    } catch {
      return false; // the database is unreachable: not the sequencer for now
    }
  }

  /** the connection that tries for the lock (kept between tries), and holds it once taken */
  private candidate: pg.Client | null = null;

  private async candidateClient(): Promise<pg.Client> {
    if (this.candidate) return this.candidate;
    // named, so an operator (or a test) can see in pg_stat_activity which process is the sequencer
    const client = new pg.Client({
      connectionString: this.url,
      types: pgTypes,
      keepAlive: true,
      application_name: `platepay-ledger-sequencer-${process.pid}`,
    });
    // the session is gone, and the lock with it: stop writing; the next tick connects again
    const lost = () => {
      if (this.candidate === client) this.candidate = null;
      if (this.lockClient === client) this.lockClient = null;
      client.end().catch(() => undefined);
    };
    client.on('error', lost);
    client.on('end', lost);
    this.candidate = client;
    try {
      await client.connect();
    } catch (err) {
      lost();
      throw err;
    }
    return client;
  }

  /** Loads, from one snapshot, what was committed since the copy was last brought up to date. */
  private async refresh(): Promise<void> {
    const c = await this.pool.connect();
    let rows;
    try {
      rows = await readCommitted(c, this.copy);
    } finally {
      c.release();
    }
    this.copy.load(rows);
  }
}

/**
 * What the database committed beyond `copy` (all of it for an empty copy),
 * read in one REPEATABLE READ READ ONLY transaction: records, nodes,
 * checkpoints and cosignatures consistent with each other. Takes no lock.
 */
async function readCommitted(c: pg.ClientBase, copy: PgLedgerCopy): Promise<CommittedRows> {
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const records = await c.query(
      'SELECT idx, ref, record, created_at FROM ledger_records WHERE idx >= $1 ORDER BY idx',
      [copy.recordCount()],
    );
    const nodes = await c.query(
      'SELECT level, idx, hash FROM ledger_nodes WHERE idx >= ($1::bigint >> level) ORDER BY level, idx',
      [copy.treeSize()],
    );
    const checkpoints = await c.query(
      'SELECT size, note, created_at FROM ledger_checkpoints WHERE size > $1 ORDER BY size',
      [copy.latestCheckpoint()?.size ?? -1],
    );
    const cosignatures = await c.query(
      'SELECT size, witness, line, rev FROM ledger_cosignatures WHERE rev > $1 ORDER BY rev',
      [copy.cosignatureRev],
    );
    await c.query('COMMIT');
    return { records: records.rows, nodes: nodes.rows, checkpoints: checkpoints.rows, cosignatures: cosignatures.rows };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * The whole log of the database at `url`, from one snapshot, for reading
 * it outside the cloud (`platepay ledger export`, `reconcile`): on a
 * connection of its own, without the sequencer lock, writing nothing.
 * Throws NoLedgerError for a bad URL, no such database, or no ledger
 * tables; any other failure (server unreachable, authentication) names
 * the database and keeps its code.
 */
export async function readPgLedger(url: string): Promise<PgLedgerCopy> {
  let where: string;
  try {
    const u = new URL(url);
    where = `${u.host || 'localhost'}${u.pathname}`; // without the credentials
  } catch {
    throw new NoLedgerError('not a PostgreSQL URL: expected postgres://user:password@host:port/database');
  }
  const client = new pg.Client({
    connectionString: url,
    types: pgTypes,
    connectionTimeoutMillis: 10_000,
    application_name: `platepay-ledger-reader-${process.pid}`,
  });
  client.on('error', () => undefined); // the connection dropped: the query in flight rejects
  try {
    await client.connect();
    const copy = new PgLedgerCopy();
    copy.load(await readCommitted(client, copy));
    return copy;
  } catch (err) {
    const e = err as Error & { code?: string; errors?: Error[] };
    if (e.code === '3D000') throw NoLedgerError.noDatabase(where); // invalid_catalog_name
    if (e.code === '42P01') throw NoLedgerError.noTables(where); // undefined_table
    const detail = e.message || e.errors?.map((x) => x.message).join('; ') || String(e.code);
    throw Object.assign(new Error(`cannot read the ledger from ${where}: ${detail}`), { code: e.code });
  } finally {
    await client.end().catch(() => undefined);
  }
}
