/**
 * The statements of one transaction attempt on one PostgreSQL connection,
 * sent in the order the work issues them and in as few round trips as
 * that order allows.
 *
 * Reads (`read`) go to the server at once and resolve with their rows.
 * Writes whose rows nobody needs (`write`: INSERT, UPDATE, DELETE) are held
 * back and sent together, as ONE statement of data-modifying CTEs, just
 * before the next read or the COMMIT: the trailing writes of an exit
 * (journal entry and postings, settlement, ledger record, session, lane
 * event, gate counter) cost one round trip instead of nine. Reads always
 * see every write issued before them. Two writes are not joined when the
 * second touches a table the first updates or deletes from (the parts of
 * one statement share a snapshot and must not change one row twice), nor
 * when the second reads a table (it would not see the first's rows).
 *
 * Reads issued together (`together`: the reads a unit of work starts while
 * it is called, e.g. under one `Promise.all`) are sent as ONE statement
 * (`joinReads`): each read's rows come back as a JSON array in a column of
 * its own, so an exit's opening reads (gate, lane, lot, the event id, the
 * candidate sessions) cost one round trip instead of five. They see one
 * snapshot, the statement's: also a read that waits for a row lock sees
 * the other reads as they were when the statement began, so a read that
 * must see what was committed before a lock was granted is issued after
 * that lock resolved (as a wallet charge reads the balance after holding
 * the driver). Values come back as JSON gives them (text, numbers, null):
 * not for BYTEA columns.
 *
 * A write's promise resolves when it is queued; its error, if any, is the
 * error of the next read or of `finish` (a failed statement aborts the
 * PostgreSQL transaction anyway, so the work can do nothing more with it).
 * After the first error every statement rejects with it, and none is sent
 * once the attempt is over (it would run outside the transaction).
 */
import type pg from 'pg';
import type { Row } from '../rows.js';
import { StorageError } from '../storage-errors.js';
import type { Query, Write } from './pg-connection.js';

interface BatchedRead {
  sql: string;
  params: unknown[];
  resolve: (rows: Row[]) => void;
  reject: (err: unknown) => void;
}

interface HeldWrite {
  sql: string;
  params: unknown[];
  table: string;
  /** an UPDATE, a DELETE or an upsert (a plain INSERT adds rows of its own) */
  changesRows: boolean;
}

const WRITE_TARGET = /^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([\w.]+)/i;

/** statement names, so each connection prepares a text once (shared by every connection of the process) */
const statementNames = new Map<string, string>();

function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (!name) {
    if (statementNames.size > 2000) return undefined;
    name = `pp${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** The held writes as one statement: each a CTE, its `$n` placeholders numbered on from the ones before. */
export function joinWrites(writes: ReadonlyArray<{ sql: string; params: unknown[] }>): {
  sql: string;
  params: unknown[];
} {
  if (writes.length === 1) return writes[0]!;
  const params: unknown[] = [];
  const parts = writes.map((w, i) => {
    const offset = params.length;
    params.push(...w.params);
    return `w${i} AS (${w.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
  });
  return { sql: `WITH ${parts.join(', ')} SELECT 1`, params };
}

/**
 * Reads as one statement: read i's rows, in its order, are the JSON array in column `r<i>` (an ARRAY
 * subquery keeps the order the read's ORDER BY gives), its `$n` placeholders numbered on from the ones before.
 * The column is `json`, not `json[]`: the driver parses it with JSON.parse, where a `json[]` goes through
 * a character-by-character array parser first (measured: more of the cloud's CPU than the statements saved).
 */
export function joinReads(reads: ReadonlyArray<{ sql: string; params: unknown[] }>): {
  sql: string;
  params: unknown[];
} {
  const params: unknown[] = [];
  const parts = reads.map((r, i) => {
    const offset = params.length;
    params.push(...r.params);
    const sql = r.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `array_to_json(ARRAY(SELECT row_to_json(t) FROM (${sql}) t)) AS r${i}`;
  });
  return { sql: `SELECT ${parts.join(', ')}`, params };
}

export class TransactionStatements {
  private firstErrorSeen: unknown = null;
  private finished = false;
  /** the chain of statements sent so far: each waits for the one before */
  private sent: Promise<unknown> = Promise.resolve();
  private held: HeldWrite[] = [];
  /** the reads being gathered by `together`, or null */
  private batch: BatchedRead[] | null = null;
  /** round trips to the server (statements sent, or queued to be sent), for the store's figures */
  roundTrips = 0;

  constructor(private readonly client: pg.PoolClient) {}

  /** the first error of the attempt, or null */
  get firstError(): unknown {
    return this.firstErrorSeen;
  }

  readonly read: Query = (sql, params = []) => {
    const batch = this.batch;
    if (batch) return new Promise<Row[]>((resolve, reject) => batch.push({ sql, params, resolve, reject }));
    this.sendHeld();
    return this.send(sql, params);
  };

  /**
   * Runs `reads` and sends the reads it issues before it first waits (its `Promise.all`) as one
   * statement; reads issued within an outer `together` join the outer one.
   */
  readonly together = <T>(reads: () => Promise<T>): Promise<T> => {
    if (this.batch) return reads();
    this.batch = [];
    try {
      return reads();
    } finally {
      this.sendBatch();
    }
  };

  readonly write: Write = async (sql, params = []) => {
    // the reads gathered so far were issued before this write: they are sent before it, so they do not see it
    if (this.batch) {
      this.sendBatch();
      this.batch = [];
    }
    const target = WRITE_TARGET.exec(sql);
    if (!target) {
      this.sendHeld();
      await this.send(sql, params);
      return;
    }
    const table = target[2]!.toLowerCase();
    // an upsert may change a row another part of the statement wrote: it is joined like an UPDATE
    const changesRows = !/^\s*INSERT/i.test(target[1]!) || /\bDO\s+UPDATE\b/i.test(sql);
    // a write that reads a table (INSERT ... SELECT) must see the writes before it: they are sent first
    const readsTables = /\bSELECT\b[\s\S]*\bFROM\s+(?!unnest\()/i.test(sql);
    if (readsTables || this.held.some((h) => h.table === table && (h.changesRows || changesRows))) this.sendHeld();
    this.held.push({ sql, params, table, changesRows });
  };

  /** Sends what is held and waits for every statement; rejects with the attempt's first error, if any. */
  async settle(): Promise<void> {
    this.sendHeld();
    await this.sent;
    if (this.firstErrorSeen !== null) throw this.firstErrorSeen;
  }

  /** Waits for the statements sent, whatever their outcome; no statement is sent after this. */
  async end(): Promise<void> {
    this.held = [];
    await this.sent;
    this.finished = true;
  }

  /** Sends the gathered reads (one alone as it is, several joined) and stops gathering. */
  private sendBatch(): void {
    const batch = this.batch ?? [];
    this.batch = null;
    if (batch.length === 0) return;
    this.sendHeld();
    if (batch.length === 1) {
      const [only] = batch;
      this.send(only!.sql, only!.params).then(only!.resolve, only!.reject);
      return;
    }
    const joined = joinReads(batch);
    this.send(joined.sql, joined.params).then(
      (rows) => batch.forEach((r, i) => r.resolve(rows[0]![`r${i}`] as Row[])),
      (err) => batch.forEach((r) => r.reject(err)),
    );
  }

  private sendHeld(): void {
    if (this.held.length === 0) return;
    const joined = joinWrites(this.held);
    this.held = [];
    void this.send(joined.sql, joined.params).catch(() => undefined); // its error is the next statement's
  }

  private send(sql: string, params: unknown[]): Promise<Row[]> {
    const run = async (): Promise<Row[]> => {
      if (this.finished) throw new StorageError('a statement after its transaction ended');
      if (this.firstErrorSeen !== null) throw this.firstErrorSeen; // the transaction is aborted
      try {
        const name = statementName(sql);
        const result = await this.client.query(
          name ? { name, text: sql, values: params } : { text: sql, values: params },
        );
        return result.rows as Row[];
      } catch (err) {
        this.firstErrorSeen = err;
        throw err;
      }
    };
    this.roundTrips++;
    const result = this.sent.then(run, run);
    this.sent = result.catch(() => undefined);
    return result;
  }
}
