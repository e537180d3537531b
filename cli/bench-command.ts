/**
 * `platepay bench [NAME] [--quick] [--json]`: benchmarks that print a table
 * and save `bench/results/NAME.json` (name, machine, date, revision, the
 * headline figures and their baseline; see DESIGN.md "Benchmark results").
 * `platepay bench cloud --soak [--minutes N]`: the memory soak instead
 * (`bench/results/cloud-soak.json`; exit status 1 when it fails).
 * `platepay bench cloud --db postgres://... [--instances 1|2]`: the cloud
 * bench on PostgreSQL (`bench/results/cloud-postgres.json`).
 * `platepay bench settlement --dataset DIR...`: real reads through the
 * cloud's matcher in a simulated car park (`bench/results/settlement.json`).
 * `platepay bench families`: rendered scenes of every plate family read with
 * all regions and with the family's own (`bench/results/families.json`).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs, positiveInteger, recognizerOption, UsageError } from './args.js';
import { defaultRecognizerKind } from '../edge/vision/plate-reader.js';
import { runLedgerBench } from '../bench/ledger-bench.js';
import { runGateBench } from '../bench/gate-bench.js';
import { runRecognitionBench } from '../bench/recognition-bench.js';
import { runCloudBench } from '../bench/cloud/cloud-bench.js';
import { runCloudSoak } from '../bench/cloud/cloud-soak.js';
import { runSettlementBench } from '../bench/settlement/settlement-bench.js';
import { runFamiliesBench } from '../bench/families-bench.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import { plateStyles } from '../scenes/plate-renderer.js';
import type { CloudSoakResult } from '../bench/cloud/cloud-soak.js';
import { isPostgresUrl } from '../cloud/storage/postgres/pg-connection.js';

const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

const benches: Record<
  string,
  { summary: string; run(quick: boolean, progress: (m: string) => void): Promise<Record<string, unknown>> }
> = {
  recognition: {
    summary: 'ms per frame and frames/s at 720p and 1080p, 1 and 2 threads, lane ROI vs full frame',
    run: runRecognitionBench,
  },
  cloud: {
    summary: 'exits settled per second and decision latency with 10, 100, 1000 gates over real ws (vs one fsync each)',
    run: runCloudBench,
  },
  ledger: {
    summary: 'durable appends/s, inclusion proof time and verification speed at 10k, 100k and 1M records',
    async run(quick, progress) {
      const r = await runLedgerBench(quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000], progress);
      return { ...r };
    },
  },
  gate: {
    summary:
      'trigger -> barrier-open latency (1, 2, 4 lanes; vs full frame) through real recognition, uplink, settlement',
    async run(quick, progress) {
      return runGateBench(quick, progress);
    },
  },
};

const help = `usage: platepay bench [NAME|all] [--quick] [--json]
       platepay bench cloud --db postgres://... [--instances 1|2] [--quick] [--json]
       platepay bench cloud --soak [--minutes N] [--json]
       platepay bench settlement --dataset DIR [--dataset DIR]... [--sessions N[,N...]]
                                 [--exits N] [--end-to-end N] [--seed S] [--threads N] [--quick] [--json]
       platepay bench families [--scenes N] [--first-seed N] [--styles S,S...] [--recognizer K]
                               [--threads N] [--quick] [--json]

benchmarks:
${Object.entries(benches)
  .map(([n, b]) => `  ${n.padEnd(10)} ${b.summary}`)
  .join('\n')}

Each prints its figures and writes bench/results/NAME.json. --quick uses
smaller sizes; --json prints the result document on stdout.

--db postgres://user:password@host:port/db (cloud only): the cloud bench
on PostgreSQL, 100 gates, with --instances 1 or 2 cloud instances in this
process on one database (the gates alternate between them; both counts,
one after the other, when --instances is not given). Each run creates a
fresh database on that server (the role must be allowed to CREATE
DATABASE) and drops it afterwards. Writes bench/results/cloud-postgres.json.

--soak (cloud only): instead of the bench, one cloud with 100 gates
connected and cars entering and leaving at ~1 event per gate per second
for --minutes N (default 10); the cloud's heap after a forced GC is
sampled every ~15 s. Writes bench/results/cloud-soak.json; exits 1 when
the heap grew (last third of the samples vs the first, after 2 warm-up
samples) by more than max(10%, 16 MiB), or an exit was not charged
exactly once. Not run in CI.

settlement (not part of "all": it needs datasets): reads every image of
each --dataset folder (labels.csv + images/, as for eval) once with the
gate's reader, then simulates a car park of --sessions open sessions
(default 1000,10000) exit by exit with the cloud's matcher: --exits per
dataset and lot size (default 1250000: with none seen, the 95% bound is
under 3 per million; --quick 20000), a fresh lot with fresh twins every
25,000 exits with the next seed (--seed, default 1). Beside it, on a
fifth of the exits: the cloud's former matcher (the baseline), and the
cloud's matcher in lots with no planted twins (first lot size only).
The first --end-to-end exits (default 5000, --quick 500, 0: none) of
each dataset are replayed at the first lot size through the cloud's
services on a real SQLite database, which must decide every one as the
simulation did. Prints per
dataset and lot size the auto-settled, review, held and no-read rates
and the wrong charges with their 95% upper bound per million; then exits
matched per second at 100 to 100,000 open sessions. Writes
bench/results/settlement.json.

families (not part of "all"): renders --scenes car scenes (default 60,
--quick 10) of each plate style (--styles, default every style) with seeds
--first-seed.. (default 10001: seeds no training run or other bench uses),
and reads each with a reader of every region and with a reader of the
style's own country only. Prints per family the share read right both
ways (no plate found counts as wrong) and the misses, against the targets
95% (all regions) and 98% (own region). Writes bench/results/families.json.
`;

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** The commit measured, with "-dirty" when tracked files differ from it (the figures are not that commit's). */
function revision(): string | null {
  const git = (...args: string[]) =>
    execFileSync('git', args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return null;
  }
}

export const benchCommand = {
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(argv, {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      soak: { type: 'boolean' },
      minutes: { type: 'string' },
      db: { type: 'string' },
      instances: { type: 'string' },
      recognizer: { type: 'string' },
      dataset: { type: 'string', multiple: true },
      sessions: { type: 'string' },
      exits: { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      'end-to-end': { type: 'string' },
      scenes: { type: 'string' },
      'first-seed': { type: 'string' },
      styles: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    const settlementOnly = {
      dataset: '--dataset',
      sessions: '--sessions',
      exits: '--exits',
      seed: '--seed',
      threads: '--threads',
      'end-to-end': '--end-to-end',
    };
    const familiesOnly = { scenes: '--scenes', 'first-seed': '--first-seed', styles: '--styles' };
    if (positionals[0] === 'families') {
      if (positionals.length !== 1)
        throw new UsageError(`bench families takes no further names, got "${positionals[1]}"`);
      for (const [k, flag] of Object.entries({
        ...settlementOnly,
        soak: '--soak',
        minutes: '--minutes',
        db: '--db',
        instances: '--instances',
      }))
        if (k !== 'threads' && values[k as keyof typeof values] !== undefined)
          throw new UsageError(`${flag} does not go with bench families`);
      const quick = Boolean(values.quick);
      const options = {
        scenes: positiveInteger(values.scenes, '--scenes') ?? (quick ? 10 : 60),
        firstSeed: positiveInteger(values['first-seed'], '--first-seed') ?? 10_001,
        styles: values.styles !== undefined ? stylesOption(values.styles) : plateStyles,
        recognizerKind: recognizerOption(values.recognizer ?? defaultRecognizerKind),
        threads: positiveInteger(values.threads, '--threads') ?? 2,
      };
      return runBenches(
        [{ name: 'families', run: (_quick, progress) => runFamiliesBench(options, progress) }],
        quick,
        Boolean(values.json),
      );
    }
    for (const [k, flag] of Object.entries(familiesOnly))
      if (values[k as keyof typeof values] !== undefined) throw new UsageError(`${flag} goes with bench families`);
    if (positionals[0] === 'settlement') {
      if (positionals.length !== 1)
        throw new UsageError(`bench settlement takes no further names, got "${positionals[1]}"`);
      for (const [k, flag] of Object.entries({
        soak: '--soak',
        minutes: '--minutes',
        db: '--db',
        instances: '--instances',
      }))
        if (values[k as keyof typeof values] !== undefined)
          throw new UsageError(`${flag} does not go with bench settlement`);
      const datasets = values.dataset ?? [];
      if (datasets.length === 0) throw new UsageError('bench settlement needs at least one --dataset DIR\n\n' + help);
      const quick = Boolean(values.quick);
      const options = {
        datasets,
        sessions: values.sessions !== undefined ? sessionsOption(values.sessions) : [1000, 10_000],
        exits: positiveInteger(values.exits, '--exits') ?? (quick ? 20_000 : 1_250_000),
        seed: seedOption(values.seed),
        recognizer: recognizerOption(values.recognizer ?? defaultRecognizerKind),
        threads: positiveInteger(values.threads, '--threads') ?? 2,
        speedSessions: quick ? [100, 1000, 10_000] : [100, 1000, 10_000, 100_000],
        endToEndExits: endToEndOption(values['end-to-end'], quick),
      };
      return runBenches(
        [{ name: 'settlement', run: (_quick, progress) => runSettlementBench(options, progress) }],
        quick,
        Boolean(values.json),
      );
    }
    for (const [k, flag] of Object.entries(settlementOnly))
      if (values[k as keyof typeof values] !== undefined) throw new UsageError(`${flag} goes with bench settlement`);
    if (values.db === undefined && values.instances !== undefined) {
      throw new UsageError('--instances goes with --db postgres://...');
    }
    if (values.db !== undefined) {
      if (values.soak) throw new UsageError('--soak runs on SQLite only; it does not take --db');
      if (values.minutes !== undefined) throw new UsageError('--minutes goes with --soak');
      if (positionals.length !== 1 || positionals[0] !== 'cloud') {
        throw new UsageError(
          '--db is for the cloud benchmark: platepay bench cloud --db postgres://... [--instances 1|2]',
        );
      }
      if (!isPostgresUrl(values.db)) throw new UsageError(`--db: expected a postgres:// URL, got "${values.db}"`);
      let instances: 1 | 2 | undefined;
      if (values.instances !== undefined) {
        if (values.instances !== '1' && values.instances !== '2') {
          throw new UsageError(`--instances: 1 or 2, got "${values.instances}"`);
        }
        instances = Number(values.instances) as 1 | 2;
      }
      const db = values.db;
      return runBenches(
        [
          {
            name: 'cloud-postgres',
            run: (quick, progress) => runCloudBench(quick, progress, { postgres: { server: db, instances } }),
          },
        ],
        Boolean(values.quick),
        Boolean(values.json),
      );
    }
    if (values.soak) {
      if (positionals.length !== 1 || positionals[0] !== 'cloud') {
        throw new UsageError('--soak is for the cloud benchmark: platepay bench cloud --soak [--minutes N]');
      }
      if (values.quick) throw new UsageError('--quick does not apply to --soak (use --minutes)');
      return soak(positiveInteger(values.minutes, '--minutes') ?? 10, Boolean(values.json));
    }
    if (values.minutes !== undefined) throw new UsageError('--minutes goes with --soak');
    const name = positionals[0] ?? 'all';
    const names = name === 'all' ? Object.keys(benches) : [name];
    for (const n of names) if (!benches[n]) throw new UsageError(`unknown benchmark "${n}"\n\n${help}`);
    if (values.recognizer !== undefined && !names.includes('recognition')) {
      throw new UsageError('--recognizer goes with the recognition benchmark');
    }
    const kind = recognizerOption(values.recognizer ?? defaultRecognizerKind);
    return runBenches(
      names.map((n) => ({
        name: n,
        run:
          n === 'recognition'
            ? (quick: boolean, progress: (m: string) => void) => runRecognitionBench(quick, progress, kind)
            : benches[n]!.run,
      })),
      Boolean(values.quick),
      Boolean(values.json),
    );
  },
};

/** Runs the benches in turn: prints each one's figures and writes bench/results/NAME.json. */
async function runBenches(
  list: Array<{
    name: string;
    run(quick: boolean, progress: (m: string) => void): Promise<Record<string, unknown>>;
  }>,
  quick: boolean,
  json: boolean,
): Promise<number> {
  const results: Record<string, unknown>[] = [];
  for (const { name: n, run } of list) {
    const progress = (m: string) => {
      if (!json) process.stderr.write(`[${n}] ${m}\n`);
    };
    const figures = await run(quick, progress);
    const doc = {
      name: n,
      machine: machine(),
      date: new Date().toISOString(),
      revision: revision(),
      quick,
      ...figures,
    };
    await mkdir(RESULTS, { recursive: true });
    await writeFile(`${RESULTS}${n}.json`, JSON.stringify(doc, null, 2) + '\n');
    results.push(doc);
    if (!json) process.stdout.write(`${n}: ${JSON.stringify(figures, null, 2)}\n`);
  }
  if (json) process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results) + '\n');
  return 0;
}

/** `bench cloud --soak`: prints the samples and the verdict, writes cloud-soak.json; 1 when it failed. */
async function soak(minutes: number, json: boolean): Promise<number> {
  const progress = (m: string) => {
    if (!json) process.stderr.write(`[cloud-soak] ${m}\n`);
  };
  const result: CloudSoakResult = await runCloudSoak(minutes, progress);
  const doc = {
    name: 'cloud-soak',
    machine: machine(),
    date: new Date().toISOString(),
    revision: revision(),
    ...result,
  };
  await mkdir(RESULTS, { recursive: true });
  await writeFile(`${RESULTS}cloud-soak.json`, JSON.stringify(doc, null, 2) + '\n');
  const ok = result.flat && result.chargedOnce;
  if (json) {
    process.stdout.write(JSON.stringify(doc) + '\n');
    return ok ? 0 : 1;
  }
  const rows = [
    ['at s', 'heap MiB', 'rss MiB', 'exits/s', 'p99 ms'],
    ...result.samples.map((x) => [x.atS, x.heapUsedMiB, x.rssMiB, x.exitsPerSecond, x.decisionP99Ms].map(String)),
  ];
  const out = rows.map((r) => r.map((c) => c.padStart(9)).join(' ')).join('\n');
  process.stdout.write(
    `cloud soak, ${result.gates} gates, ${minutes} min:\n${out}\n` +
      `heap growth ${result.heapGrowthMiB} MiB (limit ${result.heapLimitMiB} MiB): ${result.flat ? 'flat' : 'NOT FLAT'}\n` +
      `${result.charged} of ${result.exits} exits charged; ` +
      `${result.chargedOnce ? 'each exactly once, ledger size matches' : 'CHECKS FAILED'}\n` +
      result.problems.map((p) => `  ${p}\n`).join('') +
      `${ok ? 'PASS' : 'FAIL'} (bench/results/cloud-soak.json)\n`,
  );
  return ok ? 0 : 1;
}

/** `--styles br-old,uk`: plate styles, each one of the renderer's. */
function stylesOption(value: string): PlateStyle[] {
  const styles = value.split(',').map((s) => s.trim());
  const unknown = styles.filter((s) => !(plateStyles as readonly string[]).includes(s));
  if (unknown.length > 0 || styles.length === 0) {
    throw new UsageError(
      `--styles: ${unknown.map((s) => `"${s}"`).join(', ')} not a plate style (${plateStyles.join(', ')})`,
    );
  }
  return styles as PlateStyle[];
}

/** `--sessions 1000,10000`: one or more lot sizes from 1 to 1,000,000. */
function sessionsOption(value: string): number[] {
  const sizes = value.split(',').map((v) => positiveInteger(v.trim(), '--sessions')!);
  for (const n of sizes) if (n > 1_000_000) throw new UsageError(`--sessions: at most 1000000, got ${n}`);
  return sizes;
}

/** `--seed S`: a non-negative integer (default 1). */
function seedOption(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!/^\d{1,9}$/.test(value.trim())) throw new UsageError(`--seed: expected a non-negative integer, got "${value}"`);
  return Number(value);
}

/** `--end-to-end N`: exits per dataset replayed through the cloud (0: none; default 5000, --quick 500). */
function endToEndOption(value: string | undefined, quick: boolean): number {
  if (value === undefined) return quick ? 500 : 5000;
  if (!/^\d{1,7}$/.test(value.trim())) throw new UsageError(`--end-to-end: expected a number of exits, got "${value}"`);
  return Number(value);
}
