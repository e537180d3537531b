/**
 * `platepay bench ledger`: how the signed ledger's cost grows with its
 * size, on this machine, against a baseline in the same run.
 *
 * - durable appends/s: group commit (batches of up to 1024 records, one
 *   transaction, one fsync and one signed checkpoint per batch) against the
 *   baseline of one transaction and one checkpoint per record;
 * - inclusion proof time at each size (mean over random indices), from
 *   stored subtree hashes, against the baseline of recomputing the proof
 *   from all leaf hashes;
 * - verification speed: `verifyLedger` over an export (re-derive every
 *   leaf and root, check every checkpoint signature), against the baseline
 *   of checking each record's inclusion proof in the last checkpoint one by
 *   one (what an auditor holding receipts would do).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedgerDatabase } from '../cloud/ledger/ledger-database.js';
import type { LedgerDatabase } from '../cloud/ledger/ledger-database.js';
import { exportLedger } from '../cloud/ledger/ledger-export.js';
import { directorySource, verifyLedger } from '../cloud/ledger/ledger-verifier.js';
import { leafHash, referenceInclusionProof, verifyInclusion } from '../cloud/ledger/merkle.js';
import { generateSigningKey } from '../cloud/ledger/signed-note.js';
import { SeededRandom } from '../scenes/seeded-random.js';

export interface LedgerBenchRow {
  records: number;
  appendsPerSecond: number;
  inclusionProofMs: number;
  verifyRecordsPerSecond: number;
}

export interface LedgerBenchResult {
  rows: LedgerBenchRow[];
  appendsPerSecond: number;
  inclusionProofMsAt1M: number | null;
  verifyRecordsPerSecond: number;
  baseline: {
    appendsPerSecond: number;
    inclusionProofMsAt1M: number | null;
    inclusionProofMsAt100k: number | null;
    verifyRecordsPerSecond: number;
  };
}

const key = generateSigningKey('bench.platepay/ledger');

function settlementRecord(i: number): string {
  return JSON.stringify({
    v: 1,
    settlementId: `stl_${i.toString(16).padStart(32, '0')}`,
    exitEventId: `gate-7:lane-2:${1_790_000_000_000 + i}`,
    lotId: 'lot_0123456789abcdef0123456789abcdef',
    plateHash: 'ab'.repeat(32),
    accountId: `acc_${(i % 5000).toString(16).padStart(32, '0')}`,
    amount: 500 + (i % 3000),
    currency: 'CNY',
    entryAt: 1_790_000_000_000 + i * 1000,
    exitAt: 1_790_000_000_000 + i * 1000 + 7_200_000,
    method: 'wallet',
    settledAt: 1_790_000_000_000 + i * 1000 + 7_200_050,
  });
}

/** Appends records [from, to) with up to `inFlight` appends waiting at once; returns seconds. */
async function appendRange(db: LedgerDatabase, from: number, to: number, inFlight: number): Promise<number> {
  const t0 = performance.now();
  for (let start = from; start < to; start += inFlight) {
    const end = Math.min(to, start + inFlight);
    const waits: Array<Promise<number>> = [];
    for (let i = start; i < end; i++) waits.push(db.ledger.append(settlementRecord(i)));
    await Promise.all(waits);
  }
  return (performance.now() - t0) / 1000;
}

export async function runLedgerBench(
  sizes: number[],
  progress: (msg: string) => void = () => undefined,
): Promise<LedgerBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'platepay-ledger-bench-'));
  const rows: LedgerBenchRow[] = [];
  const random = new SeededRandom(7);
  try {
    // baseline appends: one transaction (fsync) and one checkpoint per record
    const single = openLedgerDatabase(join(dir, 'single.db'), key, { origin: 'bench', batchSize: 1, batchMs: 1 });
    const n0 = 2000;
    const baselineAppends = n0 / (await appendRange(single, 0, n0, 1));
    await single.close();
    progress(`baseline: ${baselineAppends.toFixed(0)} appends/s with one fsync per record`);

    const db = openLedgerDatabase(join(dir, 'ledger.db'), key, { origin: 'bench', batchSize: 1024, batchMs: 5 });
    let size = 0;
    let appendSeconds = 0;
    let baselineProofAt100k: number | null = null;
    let baselineVerify = 0;
    let baselineProofAt1M: number | null = null;
    for (const target of sizes) {
      appendSeconds += await appendRange(db, size, target, 8192);
      size = target;
      const appendsPerSecond = size / appendSeconds;
      const samples = 2000;
      const t0 = performance.now();
      for (let i = 0; i < samples; i++) db.ledger.inclusionProof(random.int(0, size - 1), size);
      const inclusionProofMs = (performance.now() - t0) / samples;
      if (target === 100_000 || target === 1_000_000) {
        const leaves = db.ledger.leafHashes(0, size);
        const t1 = performance.now();
        const reps = 3;
        for (let i = 0; i < reps; i++) referenceInclusionProof(leaves, random.int(0, size - 1));
        const ms = (performance.now() - t1) / reps;
        if (target === 100_000) baselineProofAt100k = ms;
        else baselineProofAt1M = ms;
      }
      const out = join(dir, `export-${target}`);
      await exportLedger(db.ledger, out, { log: key, witnesses: [], quorum: 0 });
      const t2 = performance.now();
      const result = await verifyLedger(directorySource(out), { log: key, witnesses: [], quorum: 0 });
      if (!result.ok) throw new Error(`the benchmark's own ledger does not verify: ${result.problem}`);
      const verifyRecordsPerSecond = size / ((performance.now() - t2) / 1000);
      await rm(out, { recursive: true, force: true });
      const checkpoint = db.ledger.latest()!.checkpoint;
      const sample = Math.min(size, 20_000);
      const t3 = performance.now();
      for (let k = 0; k < sample; k++) {
        const i = random.int(0, size - 1);
        const leaf = leafHash(Buffer.from(db.ledger.records(i, i + 1)[0]!.record, 'utf8'));
        if (!verifyInclusion(leaf, i, checkpoint.size, db.ledger.inclusionProof(i, checkpoint.size), checkpoint.root)) {
          throw new Error(`record ${i} fails its inclusion proof`);
        }
      }
      baselineVerify = sample / ((performance.now() - t3) / 1000);
      rows.push({ records: size, appendsPerSecond, inclusionProofMs, verifyRecordsPerSecond });
      progress(
        `${size} records: ${appendsPerSecond.toFixed(0)} appends/s, proof ${inclusionProofMs.toFixed(4)} ms, verify ${verifyRecordsPerSecond.toFixed(0)} records/s`,
      );
    }
    await db.close();
    const last = rows[rows.length - 1]!;
    const at1M = rows.find((r) => r.records === 1_000_000);
    return {
      rows,
      appendsPerSecond: last.appendsPerSecond,
      inclusionProofMsAt1M: at1M ? at1M.inclusionProofMs : null,
      verifyRecordsPerSecond: last.verifyRecordsPerSecond,
      baseline: {
        appendsPerSecond: baselineAppends,
        inclusionProofMsAt1M: baselineProofAt1M,
        inclusionProofMsAt100k: baselineProofAt100k,
        verifyRecordsPerSecond: baselineVerify,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
