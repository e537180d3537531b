/** What the cloud bench checks after a run: every exit decided and charged exactly once, the ledger caught up, and the figures of a phase. */
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { percentile } from '../../edge/vision/percentile.js';
import { PhaseDone } from './gate-fleet.js';

/** What the gates saw of an exit phase that is wrong: refusals, exits not charged, shared settlements. */
export function exitProblems(exits: PhaseDone, expected: number): string[] {
  const problems: string[] = [];
  const charged = exits.reasons.charged ?? 0;
  if (exits.errors.length) problems.push(`refusals: ${exits.errors.join(' | ')}`);
  if (charged !== expected) problems.push(`${charged} of ${expected} exits charged: ${JSON.stringify(exits.reasons)}`);
  if (new Set(exits.settlementIds).size !== expected) problems.push('the exits did not get distinct settlements');
  return problems;
}

/** Throughput and decision latency of an exit phase (first exit sent to last decision received). */
export function exitFigures(exits: PhaseDone, charged: number) {
  const seconds = (exits.lastDecisionMs - exits.firstSentMs) / 1000;
  const latencies = Float64Array.from(exits.latencies).sort();
  return {
    seconds: round(seconds, 3),
    exitsPerSecond: Math.round(charged / seconds),
    decisionP50Ms: round(percentile(latencies, 50, NaN), 2),
    decisionP99Ms: round(percentile(latencies, 99, NaN), 2),
    decisionMaxMs: round(latencies[latencies.length - 1] ?? NaN, 2),
  };
}

export const LEDGER_DRAIN_TIMEOUT_MS = 120_000;

export const BENCH_DATABASE_PREFIX = 'platepay_bench_';

/** Waits until `ledger_queue` is empty and a signed checkpoint covers `records`; false on timeout. */
export async function waitForLedger(url: string, records: number, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ queued: string; signed: string }>(
        'SELECT (SELECT COUNT(*) FROM ledger_queue) AS queued, ' +
          '(SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints) AS signed',
      );
      if (Number(rows[0]!.queued) === 0 && Number(rows[0]!.signed) >= records) return true;
      if (performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await client.end();
  }
}

/** checkDatabase's checks on a PostgreSQL database (after the ledger queue drained). */
export async function checkPostgres(url: string, exits: number, settlementIds: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const one = async (sql: string, params: unknown[] = []) =>
      Number(Object.values((await client.query(sql, params)).rows[0] as Record<string, unknown>)[0]);
    const problems: string[] = [];
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) problems.push(`${what}: ${got}, expected ${want}`);
    };
    expect('settlements', await one('SELECT COUNT(*) FROM settlements'), exits);
    expect('settled exit events', await one('SELECT COUNT(DISTINCT exit_event_id) FROM settlements'), exits);
    expect('settled sessions', await one('SELECT COUNT(DISTINCT session_id) FROM settlements'), exits);
    expect('wallet settlements', await one("SELECT COUNT(*) FROM settlements WHERE method = 'wallet'"), exits);
    expect('charge entries', await one("SELECT COUNT(*) FROM journal_entries WHERE kind = 'charge'"), exits);
    expect(
      'charges matching a settlement',
      await one('SELECT COUNT(*) FROM settlements s JOIN journal_entries j ON j.id = s.journal_entry_id'),
      exits,
    );
    expect('sessions not closed', await one("SELECT COUNT(*) FROM parking_sessions WHERE status != 'closed'"), 0);
    expect('records still queued', await one('SELECT COUNT(*) FROM ledger_queue'), 0);
    expect('ledger records', await one('SELECT COUNT(*) FROM ledger_records'), exits);
    expect(
      'settlements with their ledger record',
      await one('SELECT COUNT(*) FROM settlements s JOIN ledger_records r ON r.ref = s.id'),
      exits,
    );
    expect('records in the tree', await one('SELECT COUNT(*) FROM ledger_nodes WHERE level = 0'), exits);
    expect('largest signed checkpoint', await one('SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints'), exits);
    expect('sum of all postings', await one('SELECT COALESCE(SUM(amount), 0) FROM postings'), 0);
    expect(
      'decided settlements missing from the database',
      settlementIds.length -
        (await one('SELECT COUNT(*) FROM settlements WHERE id = ANY($1::text[])', [settlementIds])),
      0,
    );
    return problems;
  } finally {
    await client.end();
  }
}

/** Exactly-once and ledger checks on the database after a run; returns what is wrong. */
export function checkDatabase(path: string, exits: number, settlementIds: string[]): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, number>)[0]!;
    const problems: string[] = [];
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) problems.push(`${what}: ${got}, expected ${want}`);
    };
    expect('settlements', one('SELECT COUNT(*) FROM settlements'), exits);
    expect('settled exit events', one('SELECT COUNT(DISTINCT exit_event_id) FROM settlements'), exits);
    expect('settled sessions', one('SELECT COUNT(DISTINCT session_id) FROM settlements'), exits);
    expect('wallet settlements', one("SELECT COUNT(*) FROM settlements WHERE method = 'wallet'"), exits);
    expect('charge entries', one("SELECT COUNT(*) FROM journal_entries WHERE kind = 'charge'"), exits);
    expect(
      'charges matching a settlement',
      one('SELECT COUNT(*) FROM settlements s JOIN journal_entries j ON j.id = s.journal_entry_id'),
      exits,
    );
    expect('sessions not closed', one("SELECT COUNT(*) FROM parking_sessions WHERE status != 'closed'"), 0);
    expect('ledger records', one('SELECT COUNT(*) FROM ledger_records'), exits);
    expect(
      'settlements with their ledger record',
      one('SELECT COUNT(*) FROM settlements s JOIN ledger_records r ON r.ref = s.id'),
      exits,
    );
    expect('records in the tree', one('SELECT COUNT(*) FROM ledger_nodes WHERE level = 0'), exits);
    expect('largest signed checkpoint', one('SELECT COALESCE(MAX(size), 0) FROM ledger_checkpoints'), exits);
    expect('sum of all postings', one('SELECT COALESCE(SUM(amount), 0) FROM postings'), 0);
    const known = db.prepare('SELECT 1 FROM settlements WHERE id = ?');
    const missing = settlementIds.filter((id) => known.get(id) === undefined).length;
    expect('decided settlements missing from the database', missing, 0);
    return problems;
  } finally {
    db.close();
  }
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
