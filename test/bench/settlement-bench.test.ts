/**
 * The settlement bench (bench/settlement/): its exact binomial bound, the
 * car park simulation (it counts a wrong charge when a matcher makes one),
 * and a whole run on rendered plates through the real reader, with its
 * end-to-end pass through the cloud on SQLite.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { binomialCdf, binomialUpperBound } from '../../bench/settlement/binomial-bound.js';
import type { ExitObservation } from '../../bench/settlement/exit-reads.js';
import { runSettlementBench } from '../../bench/settlement/settlement-bench.js';
import type { SettlementRow } from '../../bench/settlement/settlement-bench.js';
import { cloudMatcher, simulateExits, type Matcher } from '../../bench/settlement/settlement-simulation.js';
import { plateDistanceKind } from '../../cloud/sessions/plate-matching.js';
import { renderPlate } from '../../scenes/plate-renderer.js';

describe('binomialUpperBound (exact, Clopper-Pearson)', () => {
  it('with no events in n trials is 1 - 0.025^(1/n): about 3.69 per n', () => {
    assert.ok(Math.abs(binomialUpperBound(0, 1_000_000) * 1e6 - 3.689) < 0.001);
    assert.ok(Math.abs(binomialUpperBound(0, 10) - (1 - Math.pow(0.025, 0.1))) < 1e-12);
  });

  it('matches published values (k = 1, 5 of 100: 0.0545, 0.1128)', () => {
    assert.ok(Math.abs(binomialUpperBound(1, 100) - 0.0545) < 0.0001);
    assert.ok(Math.abs(binomialUpperBound(5, 100) - 0.1128) < 0.0001);
  });

  it('leaves 2.5% in the lower tail, lies above k/n and rises with k (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.nat(), (n, kk) => {
        const k = kk % n;
        const upper = binomialUpperBound(k, n);
        assert.ok(upper >= k / n && upper <= 1);
        if (k > 0) assert.ok(Math.abs(binomialCdf(k, n, upper) - 0.025) < 1e-6, `${k}/${n}`);
        assert.ok(binomialUpperBound(k + 1, n) >= upper);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what is not a count', () => {
    assert.throws(() => binomialUpperBound(-1, 10), RangeError);
    assert.throws(() => binomialUpperBound(11, 10), RangeError);
    assert.throws(() => binomialUpperBound(0, 0), RangeError);
    assert.throws(() => binomialUpperBound(0.5, 10), RangeError);
  });
});

/** Reads with the faults the bench must catch: look-alike misreads, a misread that is another plate's twin. */
const observations: ExitObservation[] = [
  { file: 'a', truth: 'AB1234', read: { plate: 'AB1234', confidence: 0.99 } },
  { file: 'b', truth: 'XY5678', read: { plate: 'XY567B', confidence: 0.98 } },
  { file: 'c', truth: 'KO4979', read: { plate: 'K04979', confidence: 0.996 } },
  { file: 'd', truth: 'PQ8812', read: { plate: 'PQ8B12', confidence: 0.95 } },
  { file: 'e', truth: 'ZZ9001', read: null },
];
const others = ['MN4455', 'GH7788', 'TT1200', 'RS0099'];

/** Charges the first session that fits in any way, whatever the confidence and whoever else fits. */
const permissive: Matcher = (read, open) => {
  const fit = [...open].sort((a, b) => (a.id < b.id ? -1 : 1)).find((s) => plateDistanceKind(read.plate, s.plate));
  return fit ? { kind: 'exact', sessionId: fit.id } : { kind: 'none' };
};

describe('simulateExits', () => {
  const run = (match?: Matcher) =>
    simulateExits({ observations, otherPlates: others, sessions: 40, exits: 5000, seed: 7, neighbourChance: 1, match });

  it('counts a wrong charge when the matcher makes one', () => {
    const c = run(permissive);
    assert.ok(c.wrong > 0, JSON.stringify(c));
    assert.ok(c.wrongExamples.length > 0);
    for (const w of c.wrongExamples) assert.notEqual(w.charged, w.truth);
  });

  it('the cloud matcher makes none on the same exits, and every exit has one outcome', () => {
    const c = run(cloudMatcher);
    assert.equal(c.wrong, 0, JSON.stringify(c.wrongExamples));
    assert.equal(c.right + c.wrong + c.review + c.held + c.noRead, c.exits);
    assert.equal(c.exits, 5000);
    assert.ok(c.noRead > 0 && c.review > 0 && c.right > 0);
    assert.ok(c.lookAlikeShare > 0.1, `look-alike share ${c.lookAlikeShare}`);
  });

  it('is reproducible: the same seed gives the same counts', () => {
    assert.deepEqual(run(cloudMatcher), run(cloudMatcher));
  });

  it('refuses a lot of no sessions and an empty dataset', () => {
    assert.throws(() => simulateExits({ observations, otherPlates: [], sessions: 0, exits: 1, seed: 1 }), RangeError);
    assert.throws(
      () => simulateExits({ observations: [], otherPlates: [], sessions: 9, exits: 1, seed: 1 }),
      RangeError,
    );
  });
});

describe('runSettlementBench on rendered plates (real reader)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'platepay-settlement-'));
    await mkdir(join(dir, 'images'), { recursive: true });
    const rows = ['file,plate'];
    for (const [style, text] of [
      ['us', '7ABC123'],
      ['eu', 'BA123CD'],
      ['cn-blue', '皖A12345'],
    ] as const) {
      const plate = await renderPlate({ style, text }, 260);
      await writeFile(join(dir, `images/${style}.png`), plate.png);
      rows.push(`images/${style}.png,${text}`);
    }
    await writeFile(join(dir, 'labels.csv'), rows.join('\n') + '\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads each image once, simulates every lot size and reports rates that add up', async () => {
    const messages: string[] = [];
    const result = await runSettlementBench(
      {
        datasets: [dir],
        sessions: [20, 200],
        exits: 3000,
        seed: 3,
        recognizer: 'plate',
        threads: 1,
        speedSessions: [100, 1000],
        endToEndExits: 300,
      },
      (m) => messages.push(m),
    );
    const rows = result.datasets as SettlementRow[];
    assert.deepEqual(
      rows.map((r) => r.sessions),
      [20, 200],
    );
    for (const r of rows) {
      assert.equal(r.exits, 3000);
      const sum = r.autoSettledRate + r.reviewRate + r.heldRate + r.noReadRate;
      assert.ok(Math.abs(sum - 1) < 1e-5, `rates add up to ${sum}`);
      assert.equal(r.wrongCharges, 0);
      assert.ok(r.wrongChargesPerMillionUpper95 > 0);
    }
    // the same exits through the cloud's services on SQLite: the same decision every time, settled and recorded
    const [e2e] = result.endToEnd as Array<{
      exits: number;
      agreed: number;
      settlements: number;
      ledgerRecords: number;
    }>;
    assert.equal(e2e!.exits, 300);
    assert.equal(e2e!.agreed, 300, JSON.stringify(result.endToEnd));
    assert.ok(e2e!.settlements > 0);
    assert.equal(e2e!.ledgerRecords, e2e!.settlements);
    const reads = result.reads as Array<{ images: number; readRight: number }>;
    assert.equal(reads[0]!.images, 3);
    assert.equal(reads[0]!.readRight, 3, messages.join('\n'));
    const matching = result.matching as Array<{ sessions: number; matchesPerSecond: number }>;
    assert.deepEqual(
      matching.map((m) => m.sessions),
      [100, 1000],
    );
    assert.ok(matching.every((m) => m.matchesPerSecond > 0));
  });

  it('names a folder that is not a dataset before loading any model', async () => {
    await assert.rejects(
      runSettlementBench(
        {
          datasets: [join(dir, 'images')],
          sessions: [10],
          exits: 10,
          seed: 1,
          recognizer: 'plate',
          threads: 1,
          speedSessions: [],
          endToEndExits: 0,
        },
        () => {},
      ),
      /labels\.csv/,
    );
  });
});
