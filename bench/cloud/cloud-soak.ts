/**
 * The cloud memory soak (`platepay bench cloud --soak`): 100 gates, cars
 * entering and leaving for N minutes, the heap sampled after a forced GC;
 * it passes when the heap stays flat and every exit was charged once.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { percentile } from '../../edge/vision/percentile.js';
import { plateOf } from './gate-fleet.js';
import { CARS_PER_LOT, linkPlates, startSite, unlinkPlates } from './bench-site.js';
import { checkDatabase, round } from './bench-checks.js';

// ---------------------------------------------------------------- the soak (`bench cloud --soak`)

export interface CloudSoakSample {
  /** seconds since the soak traffic started */
  atS: number;
  /** the cloud's (main thread's) heap after a forced full GC, and the whole process's RSS */
  heapUsedMiB: number;
  rssMiB: number;
  /** exits charged per second, and the exits' decision p99, over the interval since the last sample */
  exitsPerSecond: number;
  decisionP99Ms: number;
}

export interface CloudSoakResult {
  minutes: number;
  gates: number;
  samples: CloudSoakSample[];
  /** mean heapUsed of the last third of the samples minus that of the first third (after the warm-up) */
  heapGrowthMiB: number;
  /** the growth allowed: max(10% of the first third, 16 MiB) */
  heapLimitMiB: number;
  flat: boolean;
  exits: number;
  /** exits answered `charged` */
  charged: number;
  /** every exit charged exactly once, one ledger record each, all in a signed checkpoint */
  chargedOnce: boolean;
  problems: string[];
  /** 1-minute load average before and after */
  loadAverage: [number, number];
}

const SOAK_GATES = 100;

/** cars per gate per round: a round is their entries, then their exits */
const SOAK_CARS_PER_ROUND = 3;

/** each gate sends about one event per second */
const SOAK_SPACING_MS = 1000;

const SOAK_SAMPLE_MS = 15_000;

const SOAK_WARMUP_SAMPLES = 2;

const MiB = 2 ** 20;

/** A full, forced GC: `gc` when node runs with --expose-gc, else exposed at run time. */
function forcedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Did the heap stay flat? Compares the mean of the last third of the samples with the first third. */
function heapVerdict(samples: CloudSoakSample[]): { growthMiB: number; limitMiB: number; flat: boolean } {
  const steady = samples.length > SOAK_WARMUP_SAMPLES + 1 ? samples.slice(SOAK_WARMUP_SAMPLES) : samples;
  if (steady.length < 2) return { growthMiB: NaN, limitMiB: NaN, flat: false };
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (xs: CloudSoakSample[]) => xs.reduce((s, x) => s + x.heapUsedMiB, 0) / xs.length;
  const first = mean(steady.slice(0, third));
  const growthMiB = mean(steady.slice(-third)) - first;
  const limitMiB = Math.max(0.1 * first, 16);
  return { growthMiB: round(growthMiB), limitMiB: round(limitMiB), flat: growthMiB <= limitMiB };
}

/**
 * The soak: one cloud, 100 gates connected the whole time, cars entering and leaving in rounds at
 * about one event per gate per second for `minutes`. Each round links fresh plates (so every exit
 * closes a session and is charged), and unlinks them after their exits (the allow-list stays the
 * same size). About every 15 s, between rounds, and after the last round, the cloud's heap is
 * measured after a forced GC.
 */
export async function runCloudSoak(
  minutes: number,
  progress: (m: string) => void = () => undefined,
): Promise<CloudSoakResult> {
  const loadBefore = loadavg()[0]!;
  const perRound = SOAK_GATES * SOAK_CARS_PER_ROUND;
  const lotCount = Math.max(1, Math.round(perRound / CARS_PER_LOT));
  const label = `soak, ${SOAK_GATES} gates`;
  const site = await startSite(SOAK_GATES, lotCount, true, label, progress);
  const gc = forcedGc();
  // a read-only connection of our own: each round's settlements must be in the database
  const monitor = new Database(site.database, { readonly: true });
  try {
    const known = monitor.prepare('SELECT 1 FROM settlements WHERE id = ?');
    const problems: string[] = [];
    const problem = (m: string) => {
      if (problems.length < 20) problems.push(m);
    };
    const samples: CloudSoakSample[] = [];
    const base = `s${Date.now().toString(36)}`;
    let plateNo = 0;
    let exits = 0;
    let charged = 0;
    let intervalCharged = 0;
    let intervalLatencies: number[] = [];
    progress(`${label}: ${minutes} min of traffic, ~${SOAK_GATES} events/s, a sample every ${SOAK_SAMPLE_MS / 1000} s`);
    const start = performance.now();
    const end = start + minutes * 60_000;
    let intervalStart = start;
    let nextSample = start + SOAK_SAMPLE_MS;
    for (let r = 0; performance.now() < end; r++) {
      const roundStart = performance.now();
      const plates = site.specs.map(() => Array.from({ length: SOAK_CARS_PER_ROUND }, () => plateOf(plateNo++)));
      const links = await linkPlates(site, plates.flat());
      const tag = `${base}r${r}`;
      const entries = await site.fleet.ask({ cmd: 'run', kind: 'entry', plates, tag, spacingMs: SOAK_SPACING_MS });
      if (entries.ev !== 'done' || entries.reasons.entry !== perRound) {
        problem(
          `round ${r} entries: ${JSON.stringify(entries.ev === 'done' ? [entries.reasons, entries.errors] : entries)}`,
        );
      }
      const out = await site.fleet.ask({ cmd: 'run', kind: 'exit', plates, tag, spacingMs: SOAK_SPACING_MS });
      if (out.ev !== 'done') throw new Error('no exit results');
      const roundCharged = out.reasons.charged ?? 0;
      exits += perRound;
      charged += roundCharged;
      if (roundCharged !== perRound || out.errors.length) {
        problem(
          `round ${r}: ${roundCharged} of ${perRound} exits charged: ${JSON.stringify([out.reasons, out.errors])}`,
        );
      }
      if (new Set(out.settlementIds).size !== out.settlementIds.length) problem(`round ${r}: a settlement id twice`);
      const missing = out.settlementIds.filter((id) => known.get(id) === undefined).length;
      if (missing) problem(`round ${r}: ${missing} decided settlements missing from the database`);
      await unlinkPlates(site, links);
      intervalCharged += roundCharged;
      for (const l of out.latencies) intervalLatencies.push(l);

      // sample at the round boundary nearest to 15 s after the last sample (between rounds: no
      // event is in flight while the GC runs)
      const now = performance.now();
      if (now + (now - roundStart) / 2 >= nextSample || now >= end) {
        gc();
        const mem = process.memoryUsage();
        const latencies = Float64Array.from(intervalLatencies).sort();
        const sample: CloudSoakSample = {
          atS: round((now - start) / 1000),
          heapUsedMiB: round(mem.heapUsed / MiB),
          rssMiB: round(mem.rss / MiB),
          exitsPerSecond: round(intervalCharged / ((now - intervalStart) / 1000)),
          decisionP99Ms: round(percentile(latencies, 99, NaN), 2),
        };
        samples.push(sample);
        progress(
          `${sample.atS} s: heap ${sample.heapUsedMiB} MiB, rss ${sample.rssMiB} MiB, ` +
            `${sample.exitsPerSecond} exits/s, p99 ${sample.decisionP99Ms} ms (${exits} exits so far)`,
        );
        intervalCharged = 0;
        intervalLatencies = [];
        intervalStart = performance.now(); // the GC is not the cloud's time
        nextSample = now + SOAK_SAMPLE_MS;
      }
    }
    progress(`${label}: ${exits} exits; closing and checking the database`);
    await site.stop();
    const dbProblems = checkDatabase(site.database, exits, []);
    if (charged !== exits) problem(`${charged} of ${exits} exits charged`);
    for (const p of dbProblems) problem(p);
    const verdict = heapVerdict(samples);
    return {
      minutes,
      gates: SOAK_GATES,
      samples,
      heapGrowthMiB: verdict.growthMiB,
      heapLimitMiB: verdict.limitMiB,
      flat: verdict.flat,
      exits,
      charged,
      chargedOnce: problems.length === 0,
      problems,
      loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
    };
  } finally {
    monitor.close();
    await site.dispose();
  }
}
