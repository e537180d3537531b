/**
 * `platepay bench settlement`: how often the right account is charged, on
 * real reads. Every image of each dataset is read once by the gate's reader
 * (exit-reads.ts); a car park of N open sessions is then simulated exit by
 * exit with the cloud's own matcher and candidate keys
 * (settlement-simulation.ts), over several seeds, at N = 1,000 and 10,000
 * by default. Per dataset and N: auto-settled, review, held, no-read and
 * wrong-charge rates, with the exact 95% upper bound of the wrong-charge
 * rate per million exits. Then the matcher's speed at N = 100 ... 100,000,
 * with the candidate keys against comparing each read with every session.
 */
import { basename, resolve } from 'node:path';
import { loadDataset } from '../../edge/vision/evaluation.js';
import { PlateReader, type RecognizerKind } from '../../edge/vision/plate-reader.js';
import { binomialUpperBound } from './binomial-bound.js';
import { readDataset, type ExitObservation } from './exit-reads.js';
import { cloudMatcher, simulateExits, formerMatcher } from './settlement-simulation.js';
import type { Matcher, SimulationStep, WrongCharge } from './settlement-simulation.js';
import { replayEndToEnd, type EndToEndResult } from './end-to-end-pass.js';
import { matchingSpeeds } from './matching-speed.js';

export interface SettlementBenchOptions {
  datasets: readonly string[];
  /** lot sizes to simulate (default 1,000 and 10,000) */
  sessions: readonly number[];
  /** simulated exits per dataset and lot size (default 1,250,000: with none seen, the 95% bound is under 3 per million) */
  exits: number;
  seed: number;
  recognizer: RecognizerKind;
  threads: number;
  /** lot sizes for the matching speed (default 100, 1,000, 10,000, 100,000) */
  speedSessions: readonly number[];
  /**
   * exits per dataset replayed end to end through the cloud's services on a
   * real SQLite database, at the first lot size (0: none)
   */
  endToEndExits: number;
}

export interface SettlementRow {
  dataset: string;
  sessions: number;
  exits: number;
  autoSettledRate: number;
  reviewRate: number;
  heldRate: number;
  noReadRate: number;
  wrongCharges: number;
  wrongChargesPerMillionUpper95: number;
  lookAlikeShare: number;
  oneOffShare: number;
  wrongExamples: WrongCharge[];
}

/**
 * Exits per seeded run: a fresh lot, with fresh twins, every this many exits.
 * Exits within a run share its twins, so more runs probe more of the
 * configurations a misread can meet.
 */
const EXITS_PER_RUN = 25_000;

export async function runSettlementBench(
  o: SettlementBenchOptions,
  progress: (m: string) => void,
): Promise<Record<string, unknown>> {
  // every folder is checked before the models load: a bad one is named at once
  for (const dir of o.datasets) await loadDataset(dir);
  const reader = await PlateReader.create({ threads: o.threads, recognizerKind: o.recognizer });
  const reads: Array<{ dataset: string; observations: ExitObservation[] }> = [];
  try {
    for (const dir of o.datasets) {
      const t0 = performance.now();
      const observations = await readDataset(reader, dir, (done, total) => {
        if (done % 100 === 0 || done === total) progress(`${basename(dir)}: read ${done}/${total} images`);
      });
      const right = observations.filter((x) => x.read?.plate === x.truth).length;
      progress(
        `${basename(dir)}: ${right}/${observations.length} read right in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
      reads.push({ dataset: basename(resolve(dir)), observations });
    }
  } finally {
    await reader.close();
  }

  const rows: SettlementRow[] = [];
  const baselineRows: SettlementRow[] = [];
  const twinFreeRows: SettlementRow[] = [];
  const endToEnd: Array<{ dataset: string; sessions: number } & EndToEndResult> = [];
  for (const [d, { dataset, observations }] of reads.entries()) {
    const otherPlates = reads.filter((_, i) => i !== d).flatMap((r) => r.observations.map((x) => x.truth));
    for (const sessions of o.sessions) {
      const t0 = performance.now();
      const row = simulateDataset(
        dataset,
        observations,
        otherPlates,
        sessions,
        o.exits,
        EXITS_PER_RUN,
        o.seed,
        cloudMatcher,
      );
      rows.push(row);
      progress(
        `${dataset}, ${sessions} sessions: ${row.exits} exits, auto-settled ${pct(row.autoSettledRate)}, ` +
          `review ${pct(row.reviewRate)}, held ${pct(row.heldRate)}, no read ${pct(row.noReadRate)}, ` +
          `wrong ${row.wrongCharges} (<= ${row.wrongChargesPerMillionUpper95.toFixed(2)} per million) ` +
          `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      // the baseline, on a fifth of the exits in as many runs (as many draws of twins): the former matcher
      const base = simulateDataset(
        dataset,
        observations,
        otherPlates,
        sessions,
        Math.max(1, Math.round(o.exits / 5)),
        EXITS_PER_RUN / 5,
        o.seed,
        formerMatcher,
      );
      baselineRows.push(base);
      // context, at the first lot size: the same on a fifth of the exits in a lot with no planted twins
      // (strangers only, as in a real car park, where two plates one look-alike apart rarely park at once)
      const free =
        sessions === o.sessions[0]
          ? simulateDataset(
              dataset,
              observations,
              otherPlates,
              sessions,
              Math.max(1, Math.round(o.exits / 5)),
              EXITS_PER_RUN,
              o.seed,
              cloudMatcher,
              0,
            )
          : null;
      if (free) twinFreeRows.push(free);
      if (sessions === o.sessions[0] && o.endToEndExits > 0) {
        // the first exits of the first run again, step by step, through the cloud
        const steps: SimulationStep[] = [];
        simulateExits({
          observations,
          otherPlates,
          sessions,
          exits: o.endToEndExits,
          seed: o.seed,
          match: cloudMatcher,
          trace: (step) => steps.push(step),
        });
        const e2e = await replayEndToEnd(steps, progress);
        endToEnd.push({ dataset, sessions, ...e2e });
        progress(
          `  end to end through the cloud (SQLite): ${e2e.agreed} of ${e2e.exits} exits decided as simulated, ` +
            `${e2e.settlements} settlements, ${e2e.ledgerRecords} ledger records, in ${e2e.seconds} s`,
        );
      }
      progress(
        `  baseline (the former matcher): auto-settled ${pct(base.autoSettledRate)}, ` +
          `wrong ${base.wrongCharges} of ${base.exits} (<= ${base.wrongChargesPerMillionUpper95.toFixed(2)} per million)` +
          (free
            ? `; no planted twins: auto-settled ${pct(free.autoSettledRate)}, wrong ${free.wrongCharges} of ${free.exits}`
            : ''),
      );
    }
  }

  const all = reads.flatMap((r) => r.observations);
  progress(`matching speed: filling SQLite lots of ${o.speedSessions.join(', ')} open sessions`);
  const speed = await matchingSpeeds(all, o.speedSessions, o.seed);
  for (const s of speed)
    progress(
      `matching at ${s.sessions} open sessions: ${Math.round(s.matchesPerSecond)} /s with candidate keys ` +
        `(${s.candidatesPerExit.toFixed(1)} sessions compared per exit), ${Math.round(s.baseline.matchesPerSecond)} /s comparing every session`,
    );
  const first = speed[0];
  const last = speed[speed.length - 1];
  return {
    datasets: rows,
    endToEnd,
    /** the cloud's matcher in lots with no planted twins (first lot size, a fifth of the exits): what a real car park sees */
    twinFree: twinFreeRows,
    reads: reads.map(({ dataset, observations }) => ({
      dataset,
      images: observations.length,
      readRight: observations.filter((x) => x.read?.plate === x.truth).length,
      noRead: observations.filter((x) => !x.read).length,
    })),
    matching: speed,
    // headline: how much slower an exit is at the largest lot than at the smallest
    matchingSlowdown: first && last ? round(first.matchesPerSecond / last.matchesPerSecond) : null,
    baseline: {
      rule: 'the former matcher (a confident exact read wins over its twins; an exact only fit is charged at any confidence; sessions one character away do not count); a fifth of the exits, as many runs',
      datasets: baselineRows,
      matchingSlowdown: first && last ? round(first.baseline.matchesPerSecond / last.baseline.matchesPerSecond) : null,
    },
    recognizer: o.recognizer,
    seed: o.seed,
  };
}

function simulateDataset(
  dataset: string,
  observations: readonly ExitObservation[],
  otherPlates: readonly string[],
  sessions: number,
  exits: number,
  exitsPerRun: number,
  seed: number,
  match: Matcher,
  neighbourChance?: number,
): SettlementRow {
  let done = 0;
  const t = { exits: 0, right: 0, wrong: 0, review: 0, held: 0, noRead: 0, lookAlike: 0, oneOff: 0, runs: 0 };
  const wrongExamples: WrongCharge[] = [];
  for (let run = 0; done < exits; run++) {
    const n = Math.min(exitsPerRun, exits - done);
    const c = simulateExits({
      observations,
      otherPlates,
      sessions,
      exits: n,
      seed: seed + run,
      match,
      neighbourChance,
    });
    done += n;
    t.exits += c.exits;
    t.right += c.right;
    t.wrong += c.wrong;
    t.review += c.review;
    t.held += c.held;
    t.noRead += c.noRead;
    t.lookAlike += c.lookAlikeShare;
    t.oneOff += c.oneOffShare;
    t.runs++;
    for (const w of c.wrongExamples) if (wrongExamples.length < 20) wrongExamples.push(w);
  }
  const rate = (k: number) => (t.exits ? round(k / t.exits, 6) : 0);
  return {
    dataset,
    sessions,
    exits: t.exits,
    autoSettledRate: rate(t.right + t.wrong),
    reviewRate: rate(t.review),
    heldRate: rate(t.held),
    noReadRate: rate(t.noRead),
    wrongCharges: t.wrong,
    wrongChargesPerMillionUpper95: t.exits ? round(binomialUpperBound(t.wrong, t.exits) * 1e6, 3) : 0,
    lookAlikeShare: round(t.lookAlike / Math.max(1, t.runs), 3),
    oneOffShare: round(t.oneOff / Math.max(1, t.runs), 3),
    wrongExamples,
  };
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
