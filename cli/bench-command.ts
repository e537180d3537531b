/**
 * `platepay bench [NAME] [--quick] [--json]`: benchmarks that print a table
 * and save `bench/results/NAME.json` (name, machine, date, revision, the
 * headline figures and their baseline; see DESIGN.md "Benchmark results").
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseCommandArgs, UsageError } from './args.js';
import { runLedgerBench } from '../bench/ledger-bench.js';
import { runGateBench } from '../bench/gate-bench.js';
import { runRecognitionBench } from '../bench/recognition-bench.js';
import { runCloudBench } from '../bench/cloud-bench.js';

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

benchmarks:
${Object.entries(benches)
  .map(([n, b]) => `  ${n.padEnd(10)} ${b.summary}`)
  .join('\n')}

Each prints its figures and writes bench/results/NAME.json. --quick uses
smaller sizes; --json prints the result document on stdout.
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

function revision(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export const benchCommand = {
  summary: 'benchmarks (bench/results/NAME.json)',
  async run(argv: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs(argv, {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    const name = positionals[0] ?? 'all';
    const names = name === 'all' ? Object.keys(benches) : [name];
    for (const n of names) if (!benches[n]) throw new UsageError(`unknown benchmark "${n}"\n\n${help}`);
    const results: Record<string, unknown>[] = [];
    for (const n of names) {
      const progress = (m: string) => {
        if (!values.json) process.stderr.write(`[${n}] ${m}\n`);
      };
      const figures = await benches[n]!.run(Boolean(values.quick), progress);
      const doc = {
        name: n,
        machine: machine(),
        date: new Date().toISOString(),
        revision: revision(),
        quick: Boolean(values.quick),
        ...figures,
      };
      await mkdir(RESULTS, { recursive: true });
      await writeFile(`${RESULTS}${n}.json`, JSON.stringify(doc, null, 2) + '\n');
      results.push(doc);
      if (!values.json) process.stdout.write(`${n}: ${JSON.stringify(figures, null, 2)}\n`);
    }
    if (values.json) process.stdout.write(JSON.stringify(results.length === 1 ? results[0] : results) + '\n');
    return 0;
  },
};
