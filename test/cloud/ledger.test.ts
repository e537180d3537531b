/**
 * The signed ledger end to end on real SQLite and real processes:
 * group-committed appends with signed checkpoints, export and independent
 * verification (`platepay ledger verify`, exit code and the named index for
 * every kind of tampering), witnesses that refuse rollbacks and forks, and
 * reconciliation of two copies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { openLedgerDatabase } from '../../cloud/ledger/ledger-database.js';
import type { LedgerDatabase } from '../../cloud/ledger/ledger-database.js';
import { exportLedger, splitCheckpointNotes } from '../../cloud/ledger/ledger-export.js';
import { directorySource, verifyLedger } from '../../cloud/ledger/ledger-verifier.js';
import fc from 'fast-check';
import {
  MemorySubtrees,
  hashesEqual,
  leafHash,
  leafHashOfText,
  verifyConsistency,
  verifyInclusion,
} from '../../cloud/ledger/merkle.js';
import { reconcile } from '../../cloud/ledger/reconcile.js';
import {
  addSignatureLines,
  formatCheckpoint,
  formatVerifierKey,
  generateSigningKey,
  parseNote,
  signNote,
  verifyCheckpointNote,
} from '../../cloud/ledger/signed-note.js';
import { Witness, WitnessError } from '../../cloud/ledger/witness.js';
import { ManualClock, T0, sqliteOnly } from './cloud-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'platepay.js');
const ORIGIN = 'test.platepay/ledger';

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const record = (i: number) => JSON.stringify({ v: 1, settlementId: `stl_${i}`, amount: 100 + i, currency: 'CNY' });

describe('ledger', { skip: sqliteOnly('the standalone SQLite ledger file') }, () => {
  let dir: string;
  const logKey = generateSigningKey(ORIGIN);
  const witnessKey = generateSigningKey('bank-a', 'cosignature');
  let db: LedgerDatabase;
  const clock = new ManualClock(T0);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-ledger-'));
    db = openLedgerDatabase(join(dir, 'ledger.db'), logKey, { origin: ORIGIN, batchSize: 64, batchMs: 5 }, clock);
  });
  after(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('group-commits appends under signed checkpoints, each extending the last', async () => {
    const indices = await Promise.all(Array.from({ length: 300 }, (_, i) => db.ledger.append(record(i), `stl_${i}`)));
    assert.deepEqual(
      indices,
      Array.from({ length: 300 }, (_, i) => i),
      'indices follow the order of appends',
    );
    const checkpoints = db.ledger.checkpoints();
    assert.ok(checkpoints.length >= 5 && checkpoints.length <= 300, `batched: ${checkpoints.length} checkpoints`);
    for (let k = 1; k < checkpoints.length; k++) {
      const [a, b] = [checkpoints[k - 1]!.checkpoint, checkpoints[k]!.checkpoint];
      assert.ok(b.size > a.size);
      assert.ok(verifyConsistency(a.size, b.size, a.root, b.root, db.ledger.consistencyProof(a.size, b.size)));
    }
    const receipt = db.ledger.receipt({ ref: 'stl_123' });
    const { checkpoint } = verifyCheckpointNote(receipt.checkpoint, logKey, []);
    assert.ok(
      verifyInclusion(
        leafHash(Buffer.from(receipt.record)),
        123,
        checkpoint.size,
        receipt.proof.map((p) => Buffer.from(p, 'base64')),
        checkpoint.root,
      ),
    );
  });

  it('a witness cosigns extensions only, refusing rollbacks, forks and unsigned checkpoints', () => {
    const statePath = join(dir, 'witness-state.json');
    const witness = new Witness(witnessKey, logKey, ORIGIN, statePath, clock);
    const all = db.ledger.checkpoints();
    const first = all[1]!;
    const line = witness.cosign(first.note, 0, []);
    const body = parseNote(first.note).body;
    assert.ok(
      verifyCheckpointNote(addSignatureLines(first.note, [line]), logKey, [witnessKey]).cosignedBy.includes('bank-a'),
    );
    const later = all[all.length - 1]!;
    const proof = db.ledger.consistencyProof(first.checkpoint.size, later.checkpoint.size);
    witness.cosign(later.note, first.checkpoint.size, proof);
    const refusal = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        assert.ok(err instanceof WitnessError, String(err));
        return err.code;
      }
      return 'accepted';
    };
    assert.equal(
      refusal(() => witness.cosign(first.note, later.checkpoint.size, [])),
      'ROLLBACK',
    );
    const forked = signNote(formatCheckpoint({ ...later.checkpoint, root: Buffer.alloc(32, 7) }), [logKey]);
    assert.equal(
      refusal(() => witness.cosign(forked, later.checkpoint.size, [])),
      'FORK',
    );
    const bigger = signNote(formatCheckpoint({ ...later.checkpoint, size: later.checkpoint.size + 5 }), [logKey]);
    assert.equal(
      refusal(() => witness.cosign(bigger, later.checkpoint.size, [])),
      'FORK',
      'no valid consistency proof',
    );
    const stranger = signNote(body, [generateSigningKey(ORIGIN)]);
    assert.equal(
      refusal(() => witness.cosign(stranger, later.checkpoint.size, [])),
      'BAD_SIGNATURE',
    );
    assert.equal(
      refusal(() => witness.cosign(later.note, 3, [])),
      'SIZE_MISMATCH',
    );
    // the state survives a restart: a new witness on the same file still refuses the rollback
    const again = new Witness(witnessKey, logKey, ORIGIN, statePath, clock);
    assert.equal(again.state?.size, later.checkpoint.size);
    assert.equal(
      refusal(() => again.cosign(first.note, later.checkpoint.size, [])),
      'ROLLBACK',
    );
  });

  describe('verify on an export', () => {
    let exportDir: string;
    let records: string[];
    let leaves: string[];
    let checkpoints: string;
    const vkey = formatVerifierKey(logKey);

    before(async () => {
      exportDir = join(dir, 'export');
      await exportLedger(db.ledger, exportDir, { log: logKey, witnesses: [], quorum: 0 });
      records = (await readFile(join(exportDir, 'records'), 'utf8')).split('\n').slice(0, -1);
      leaves = (await readFile(join(exportDir, 'leaves'), 'utf8')).split('\n').slice(0, -1);
      checkpoints = await readFile(join(exportDir, 'checkpoints'), 'utf8');
      assert.equal(records.length, 300);
    });

    /** writes a tampered copy and runs the CLI verifier on it */
    async function verifyCopy(name: string, files: { records?: string[]; leaves?: string[]; checkpoints?: string }) {
      const copy = join(dir, name);
      await exportLedger(db.ledger, copy, { log: logKey, witnesses: [], quorum: 0 });
      if (files.records) await writeFile(join(copy, 'records'), files.records.map((r) => r + '\n').join(''));
      if (files.leaves) await writeFile(join(copy, 'leaves'), files.leaves.map((r) => r + '\n').join(''));
      if (files.checkpoints !== undefined) await writeFile(join(copy, 'checkpoints'), files.checkpoints);
      return runCli(['ledger', 'verify', '--dir', copy, '--log-key', vkey]);
    }

    it('never writes over a folder that holds files; an empty one is used, and no scratch folder stays', async () => {
      const keys = { log: logKey, witnesses: [], quorum: 0 };
      // a partner's earlier export, or anything else: refused, and left as it was
      await assert.rejects(
        exportLedger(db.ledger, exportDir, keys),
        /already holds files \(checkpoints, keys, leaves, records\)/,
      );
      const kept = join(dir, 'kept');
      await mkdir(kept);
      await writeFile(join(kept, 'records'), 'precious\n');
      await assert.rejects(exportLedger(db.ledger, kept, keys), { code: 'EXPORT_FOLDER_NOT_EMPTY' });
      assert.equal(await readFile(join(kept, 'records'), 'utf8'), 'precious\n');
      const empty = join(dir, 'empty');
      await mkdir(empty);
      assert.equal((await exportLedger(db.ledger, empty, keys)).records, 300);
      assert.deepEqual((await readdir(empty)).sort(), ['checkpoints', 'keys', 'leaves', 'records']);
      assert.equal(await readFile(join(empty, 'records'), 'utf8'), records.map((r) => r + '\n').join(''));
      assert.deepEqual(
        (await readdir(dir)).filter((n) => n.includes('.partial-')),
        [],
        'the scratch folders were moved into place',
      );
    });

    it('names a folder that is missing or holds no export (exit 2), before asking for a key', async () => {
      const missing = await runCli(['ledger', 'verify', '--dir', join(dir, 'no-such-export')]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /no-such-export: no such folder/);
      const empty = join(dir, 'empty-export');
      await mkdir(empty);
      const none = await runCli(['ledger', 'verify', '--dir', empty, '--log-key', vkey]);
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /empty-export holds no ledger export \(no records file\)/);
    });

    it('accepts the untouched export', async () => {
      const r = await runCli(['ledger', 'verify', '--dir', exportDir, '--log-key', vkey]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /ok: 300 records/);
      const result = await verifyLedger(directorySource(exportDir), { log: logKey, witnesses: [], quorum: 0 });
      assert.equal(result.ok, true);
    });

    it('names the record whenever any one byte of any record is flipped (property)', async () => {
      const notes = splitCheckpointNotes(checkpoints);
      const source = (recs: string[]) => ({
        checkpoints: async () => notes,
        records: async function* () {
          yield recs;
        },
        leaves: async function* () {
          yield leaves;
        },
      });
      await fc.assert(
        fc.asyncProperty(
          fc.nat(records.length - 1),
          fc.nat(10_000),
          fc.integer({ min: 1, max: 255 }),
          async (i, at, xor) => {
            const bytes = Buffer.from(records[i]!, 'utf8');
            const p = at % bytes.length;
            bytes[p] = bytes[p]! ^ xor;
            const tampered = [...records];
            tampered[i] = bytes.toString('latin1');
            if (tampered[i] === records[i] || tampered[i]!.includes('\n')) return;
            const result = await verifyLedger(source(tampered), { log: logKey, witnesses: [], quorum: 0 });
            assert.equal(result.ok, false);
            if (!result.ok) assert.equal(result.recordIndex, i, result.problem);
          },
        ),
        { numRuns: 100 },
      );
    });

    it('names a record with one flipped byte', async () => {
      const tampered = [...records];
      tampered[137] = tampered[137]!.replace('"amount":237', '"amount":238');
      const r = await verifyCopy('flip', { records: tampered });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /record 137: does not match/);
    });

    it('names a flipped record even when its served leaf hash was changed to match', async () => {
      const tampered = [...records];
      tampered[200] = tampered[200]!.replace('"amount":300', '"amount":301');
      const forged = [...leaves];
      forged[200] = Buffer.from(leafHash(Buffer.from(tampered[200]!))).toString('hex');
      const r = await verifyCopy('flip-and-leaf', { records: tampered, leaves: forged });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /checkpoint \d+ \(size \d+\): its root does not match records (\d+)\.\.(\d+)/);
      const [, from, to] = /records (\d+)\.\.(\d+)/.exec(r.stdout)!;
      assert.ok(Number(from) <= 200 && 200 <= Number(to), r.stdout);
    });

    it('names the first record of a dropped, reordered or truncated log', async () => {
      const dropped = records.filter((_, i) => i !== 42);
      assert.match((await verifyCopy('drop', { records: dropped })).stdout, /record 42: does not match/);
      const swapped = [...records];
      [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
      assert.match((await verifyCopy('swap', { records: swapped })).stdout, /record 10: does not match/);
      const truncated = await verifyCopy('truncate', { records: records.slice(0, 250), leaves: leaves.slice(0, 250) });
      assert.equal(truncated.code, 1);
      assert.match(truncated.stdout, /records end at index 250/);
    });

    it('names a checkpoint whose text was changed or that forks the log', async () => {
      const notes = splitCheckpointNotes(checkpoints);
      const k = 2;
      const c = verifyCheckpointNote(notes[k]!, logKey, []).checkpoint;
      const edited = [...notes];
      edited[k] = notes[k]!.replace(`\n${c.size}\n`, `\n${c.size + 1}\n`);
      const r1 = await verifyCopy('edited-checkpoint', { checkpoints: edited.join('\n') });
      assert.equal(r1.code, 1);
      assert.match(r1.stdout, new RegExp(`checkpoint ${k}:`));
      // a fork: a validly signed checkpoint with another root for the same size
      const forked = [...notes];
      forked[k] = signNote(formatCheckpoint({ ...c, root: Buffer.alloc(32, 9) }), [logKey]);
      const r2 = await verifyCopy('forked-checkpoint', { checkpoints: forked.join('\n') });
      assert.equal(r2.code, 1);
      assert.match(r2.stdout, new RegExp(`checkpoint ${k} \\(size ${c.size}\\): its root does not match`));
      const r3 = await runCli([
        'ledger',
        'verify',
        '--dir',
        exportDir,
        '--log-key',
        formatVerifierKey(generateSigningKey(ORIGIN)),
      ]);
      assert.equal(r3.code, 1, 'another log key');
      assert.match(r3.stdout, /checkpoint 0:/);
    });

    it('names two validly signed checkpoints of the same size with different roots a fork, not a truncation', async () => {
      const notes = splitCheckpointNotes(checkpoints);
      const k = 2;
      const c = verifyCheckpointNote(notes[k]!, logKey, []).checkpoint;
      const other = signNote(formatCheckpoint({ ...c, root: Buffer.alloc(32, 9) }), [logKey]);
      assert.equal(verifyCheckpointNote(other, logKey, []).checkpoint.size, c.size, 'validly signed, same size');
      const forked = [...notes.slice(0, k + 1), other, ...notes.slice(k + 1)];
      const r = await verifyCopy('fork-same-size', { checkpoints: forked.join('\n') });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`checkpoint ${k + 1}: a second root for size ${c.size} \\(fork\\)`));
      assert.doesNotMatch(r.stdout, /missing/);
      const source = {
        checkpoints: async () => forked,
        records: async function* () {
          yield records;
        },
        leaves: () => null,
      };
      const result = await verifyLedger(source, { log: logKey, witnesses: [], quorum: 0 });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.match(result.problem, /fork/);
        assert.equal(result.checkpointIndex, k + 1);
      }
      // the same checkpoint twice is no fork, but still refused, by name
      const repeated = [...notes.slice(0, k + 1), notes[k]!, ...notes.slice(k + 1)];
      const r2 = await verifyCopy('repeat-same-size', { checkpoints: repeated.join('\n') });
      assert.equal(r2.code, 1);
      assert.match(r2.stdout, new RegExp(`checkpoint ${k + 1}: repeats size ${c.size}`));
    });

    it('requires the cosignature quorum', async () => {
      const r = await runCli([
        'ledger',
        'verify',
        '--dir',
        exportDir,
        '--log-key',
        vkey,
        '--witness-key',
        formatVerifierKey(witnessKey),
        '--quorum',
        '1',
      ]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /checkpoint 0 .*0 valid cosignatures, quorum is 1/);
    });
  });

  it('hashes a text record in one call exactly as its UTF-8 bytes (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        assert.ok(hashesEqual(leafHashOfText(text), leafHash(Buffer.from(text, 'utf8'))));
      }),
    );
  });

  it('reconciles two copies by Merkle roots, naming the records that differ', () => {
    const ours = new MemorySubtrees();
    const theirs = new MemorySubtrees();
    for (let i = 0; i < 1000; i++) {
      ours.append(leafHash(Buffer.from(record(i))));
      theirs.append(leafHash(Buffer.from(i === 500 || i === 777 ? record(i) + ' ' : record(i))));
    }
    for (let i = 1000; i < 1003; i++) ours.append(leafHash(Buffer.from(record(i))));
    const report = reconcile(ours, ours.size, theirs, theirs.size);
    assert.equal(report.matched, 998);
    assert.deepEqual(report.oursOnly, [500, 777, 1000, 1001, 1002]);
    assert.deepEqual(report.theirsOnly, [500, 777]);
    assert.deepEqual(reconcile(ours, 1000, ours, 1000), { matched: 1000, oursOnly: [], theirsOnly: [] });
  });
});
